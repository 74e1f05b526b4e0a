"""Every account page allauth renders, and every email it sends, is in the portal's design and
words: "Log in" (never "Sign In"), Remember me beside its box, Cancel as a secondary button,
"Set a password" for someone who never had one, a way back to Log in, one banner per event."""

from __future__ import annotations

import html as html_lib
import re
import time

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from tests.factories import UserFactory

# allauth's stock words (its title case too: ours are sentence case).
ALLAUTH_WORDS = re.compile(
    r"(?i:sign[ -]?in|sign[ -]?out|sign up|hello from)|Change Password|Set Password|Bad Token"
)


def words_of(html: str) -> str:
    """The text a person reads (not attribute values or scripts)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def verified_booker(db):
    user = UserFactory(email="bea@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def codeless_booker(db):
    """A booker who booked and never chose a password."""
    user = UserFactory(email="guest@example.com")
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def log_in_just_now(client, user) -> None:
    """Logged in a moment ago, as allauth records it, so that no page asks to reauthenticate."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "code", "at": time.time(), "email": user.email, "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


def reset_url(mail) -> str:
    return re.search(r"http://\S+/accounts/password/reset/key/\S+", mail.body).group(0)


def page(client, url, **kwargs):
    response = client.get(url, follow=True, **kwargs)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.django_db
def test_the_logged_out_pages_say_log_in_and_never_sign_in(client, verified_booker, mailoutbox):
    for name in [
        "account_login",
        "account_signup",
        "account_reset_password",
        "account_reset_password_done",
        "account_request_login_code",
        "account_reset_password_from_key_done",
    ]:
        html = page(client, reverse(name))
        assert not ALLAUTH_WORDS.search(words_of(html)), (name, ALLAUTH_WORDS.search(words_of(html)))
        assert 'class="auth card"' in html  # our layout, not allauth's bare one


@pytest.mark.django_db
def test_the_login_page(client):
    html = page(client, reverse("account_login"))
    assert "<h1>Log in</h1>" in html
    assert re.search(r'<button type="submit"[^>]*>Log in</button>', html)
    # Remember me: the box and its label on one line, in sentence case.
    assert re.search(
        r'<p class="checkbox"><input type="checkbox" name="remember"[^>]*> <label for="id_remember">Remember me</label></p>',
        html,
    )
    assert reverse("account_reset_password") in html and reverse("account_request_login_code") in html


@pytest.mark.django_db
def test_the_logged_in_pages_use_the_portals_words_and_cancel_is_secondary(client, verified_booker):
    client.force_login(verified_booker)
    for name in ["account_logout", "account_change_password", "account_email"]:
        html = page(client, reverse(name))
        assert not ALLAUTH_WORDS.search(words_of(html)), name
        cancels = re.findall(r'<(?:a|button)[^>]*class="([^"]*)"[^>]*>Cancel</(?:a|button)>', html)
        assert cancels and all("button--secondary" in c for c in cancels), (name, cancels)
    assert "<h1>Log out</h1>" in page(client, reverse("account_logout"))


@pytest.mark.django_db
def test_someone_without_a_password_sets_one_on_a_page_called_set_a_password(client, codeless_booker):
    log_in_just_now(client, codeless_booker)
    html = page(client, reverse("account_set_password"))
    assert "<h1>Set a password</h1>" in html and "<title>Set a password" in html
    assert not ALLAUTH_WORDS.search(words_of(html))


@pytest.mark.django_db
def test_the_reset_email_and_page_say_set_a_password_to_someone_who_never_had_one(
    client, codeless_booker, mailoutbox
):
    client.post(reverse("account_reset_password"), {"email": codeless_booker.email})
    mail = mailoutbox[-1]
    assert "Set a password" in mail.subject
    assert "reset your password" not in mail.body.lower() and "password reset" not in mail.body.lower()
    assert "set a password" in mail.body.lower()
    assert "Hello from" not in mail.body and "testserver" not in mail.body.split("http")[0]

    html = page(client, reset_url(mail))
    assert "<h1>Set a password</h1>" in html
    assert re.search(r'<a class="button button--secondary" href="/accounts/login/">Cancel</a>', html)


@pytest.mark.django_db
def test_the_reset_email_and_page_say_reset_to_someone_who_has_a_password(
    client, verified_booker, mailoutbox
):
    client.post(reverse("account_reset_password"), {"email": verified_booker.email})
    mail = mailoutbox[-1]
    assert "Reset your password" in mail.subject and "Hello from" not in mail.body
    html = page(client, reset_url(mail))
    assert "<h1>Choose a new password</h1>" in html


@pytest.mark.django_db
def test_after_a_reset_there_is_a_way_back_to_log_in(client, verified_booker, mailoutbox):
    html = page(client, reverse("account_reset_password_done"))
    assert 'href="/accounts/login/"' in html and "Back to Log in" in html
    client.post(reverse("account_reset_password"), {"email": verified_booker.email})
    form_url = client.get(reset_url(mailoutbox[-1])).url
    done = client.post(
        form_url, {"password1": "a-brand-new-pass-42", "password2": "a-brand-new-pass-42"}, follow=True
    )
    html = done.content.decode()
    assert "Your password is set" in html and re.search(
        r'<a class="button button--block" href="/accounts/login/">Log in</a>', html
    )


@pytest.mark.django_db
def test_a_spent_reset_link_says_so_in_plain_words(client):
    html = page(client, "/accounts/password/reset/key/1-set-password/")
    assert "This link no longer works" in html and not ALLAUTH_WORDS.search(words_of(html))


@pytest.mark.django_db
def test_logging_in_with_a_code_shows_one_banner_at_a_time(client, verified_booker, mailoutbox):
    response = client.post(
        reverse("account_request_login_code"), {"email": verified_booker.email}, follow=True
    )
    html = response.content.decode()
    assert "Enter your login code" in html and not ALLAUTH_WORDS.search(words_of(html))
    assert html.count('class="message ') == 0  # the page itself says where the code went
    code = re.search(r"^\s*([A-Z0-9-]{6,})\s*$", mailoutbox[-1].body, re.M).group(1)
    assert "Hello from" not in mailoutbox[-1].body and "sign-in" not in mailoutbox[-1].body.lower()

    landed = client.post(reverse("account_confirm_login_code"), {"code": code}, follow=True).content.decode()
    assert landed.count('class="message ') == 1
    assert "You're logged in as bea@example.com." in html_lib.unescape(landed)


@pytest.mark.django_db
def test_reauthentication_asks_in_the_portals_words(client, verified_booker):
    client.force_login(verified_booker)
    html = page(client, reverse("account_reauthenticate"))
    assert "Confirm it's you" in html and not ALLAUTH_WORDS.search(words_of(html))
    assert re.search(r'<a class="button button--secondary" href="/portal/account/">Cancel</a>', html)


def test_no_allauth_email_greets_with_the_host_name():
    from pathlib import Path

    from django.conf import settings

    templates = list((Path(settings.BASE_DIR) / "templates" / "account" / "email").glob("*.txt"))
    assert len(templates) >= 20  # ours, overriding every one of allauth's
    for template in templates:
        text = template.read_text()
        assert "Hello from" not in text and "current_site" not in text, template.name
