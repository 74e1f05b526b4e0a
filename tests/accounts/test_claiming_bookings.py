"""Bookings made with an email become an account's only once that email is proved."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import User
from tests.factories import BookingFactory, UserFactory

CSRF = re.compile(r'(csrftoken": "|name="csrfmiddlewaretoken" value=")[^"]+')


def reset_link(message) -> str:
    return re.search(r"http://\S+/accounts/password/reset/key/\S+", message.body).group(0)


@pytest.mark.django_db
def test_a_guest_booker_sets_a_password_by_reset_and_gets_their_bookings(client, organiser, mailoutbox):
    earlier = BookingFactory.create_batch(2, organiser=organiser, booker_email="guest@example.com")

    client.post(reverse("account_reset_password"), {"email": "guest@example.com"})
    assert "set a password" in mailoutbox[0].subject.lower()  # they never had one to reset
    form_url = client.get(reset_link(mailoutbox[0])).url
    response = client.post(form_url, {"password1": "a-brand-new-pass-42", "password2": "a-brand-new-pass-42"})

    assert response.status_code == 302
    user = User.objects.get(email="guest@example.com")
    assert user.check_password("a-brand-new-pass-42")
    assert EmailAddress.objects.get(user=user).verified
    assert {b.pk for b in user.bookings.all()} == {b.pk for b in earlier}


@pytest.mark.django_db
def test_asking_for_a_reset_does_not_hand_over_bookings(client, organiser):
    BookingFactory(organiser=organiser, booker_email="guest@example.com")
    client.post(reverse("account_reset_password"), {"email": "guest@example.com"})
    assert not User.objects.get(email="guest@example.com").bookings.exists()


@pytest.mark.django_db
def test_an_unverified_email_attaches_nothing(client, organiser):
    earlier = BookingFactory(organiser=organiser, booker_email="claim@example.com")

    client.post(
        reverse("account_signup"),
        {
            "email": "claim@example.com",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
        },
    )

    user = User.objects.get(email="claim@example.com")
    assert not user.bookings.exists()
    earlier.refresh_from_db()
    assert earlier.user is None


@pytest.mark.django_db
def test_verifying_the_email_attaches_earlier_bookings(client, organiser, mailoutbox):
    earlier = BookingFactory(organiser=organiser, booker_email="claim@example.com")
    client.post(
        reverse("account_signup"),
        {
            "email": "claim@example.com",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
        },
    )
    confirm = re.search(r"http://\S+/accounts/confirm-email/\S+", mailoutbox[-1].body).group(0)

    client.post(confirm)

    earlier.refresh_from_db()
    assert earlier.user == User.objects.get(email="claim@example.com")


@pytest.mark.django_db
def test_reset_answers_the_same_for_known_and_unknown_emails(client, organiser):
    UserFactory(email="known@example.com")

    pages = []
    for email in ["known@example.com", "unknown@example.com"]:
        response = client.post(reverse("account_reset_password"), {"email": email}, follow=True)
        pages.append(CSRF.sub("", response.content.decode()).replace(email, "EMAIL"))

    assert pages[0] == pages[1]


@pytest.mark.django_db
def test_login_by_emailed_code_works(client, mailoutbox):
    UserFactory(email="forgetful@example.com")

    client.post(reverse("account_request_login_code"), {"email": "forgetful@example.com"})
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mailoutbox[-1].body, re.M).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code})

    assert response.status_code == 302
    assert client.get(reverse("bookings:event_list")).status_code == 200
