"""Every link in an email is built on SITE_URL, never on the Host header of the request that caused
it: otherwise anyone can ask for a reset of a booker's password with `Host: their-host:1337` (any
host the server accepts, with any port) and the booker gets a reset link that sends its key there."""

from __future__ import annotations

import re

import pytest
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core.context import request_context
from django.urls import reverse

from tests.factories import BookingFactory

SITE = "https://portal.example"
HOSTILE = "localhost:1337"  # ALLOWED_HOSTS has localhost: Django checks the host, not the port
URL = re.compile(r"https?://[^\s\"'<>]+")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def text_of(message) -> str:
    return message.body + "".join(content for content, _ in getattr(message, "alternatives", []))


def assert_only_site_links(message, *, expect_link: bool = True) -> None:
    text = text_of(message)
    assert "1337" not in text and "localhost" not in text, text
    urls = URL.findall(text)
    assert all(url.startswith(SITE + "/") for url in urls), urls
    assert bool(urls) == expect_link, urls
    assert "Booker Portal" in text  # the greeting names us, not the Host ("Hello from localhost:1337!")


def test_a_password_reset_link_is_built_on_site_url(client, booker, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": booker.email}, HTTP_HOST=HOSTILE)

    (message,) = mailoutbox
    assert_only_site_links(message)
    assert "/accounts/password/reset/key/" in message.body


def test_a_guest_bookers_set_your_password_link_is_built_on_site_url(client, organiser, mailoutbox):
    BookingFactory(organiser=organiser, booker_email="guest@example.com")

    client.post(reverse("account_reset_password"), {"email": "guest@example.com"}, HTTP_HOST=HOSTILE)

    (message,) = mailoutbox
    assert_only_site_links(message)


def test_an_unknown_addresses_sign_up_link_is_built_on_site_url(client, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": "nobody@example.com"}, HTTP_HOST=HOSTILE)

    (message,) = mailoutbox
    assert_only_site_links(message)
    assert SITE + reverse("account_signup") in message.body


def test_an_email_confirmation_link_is_built_on_site_url(client, mailoutbox):
    client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
        },
        HTTP_HOST=HOSTILE,
    )

    (message,) = mailoutbox
    assert_only_site_links(message)
    assert "/accounts/confirm-email/" in message.body


def test_the_account_already_exists_email_links_to_site_url(rf, booker, mailoutbox):
    # Sent when someone signs up (or adds an address) with a taken email, if the signup form
    # does not say so on the page; called here directly, whatever the form does.
    request = rf.post(reverse("account_signup"), HTTP_HOST=HOSTILE)
    with request_context(request):
        get_adapter(request).send_account_already_exists_mail(booker.email)

    (message,) = mailoutbox
    assert_only_site_links(message)
    assert SITE + reverse("account_reset_password") in message.body


def test_a_login_code_email_names_site_url_not_the_host(client, booker, mailoutbox):
    EmailAddress.objects.create(user=booker, email=booker.email, primary=True, verified=True)

    client.post(reverse("account_request_login_code"), {"email": booker.email}, HTTP_HOST=HOSTILE)

    (message,) = mailoutbox
    assert_only_site_links(message, expect_link=False)
