"""Signing up, or ticking "Create an account" while booking, never tells a stranger whether an
address already has an account: the address's owner hears about it by email instead."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from bookings.models import Booking
from tests.factories import EventFactory, TicketTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'(csrftoken": "|name="csrfmiddlewaretoken" value=")[^"]+')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
KNOWN = "known@example.com"
UNKNOWN = "unknown@example.com"


def page_text(response, email: str) -> str:
    return CSRF.sub("", response.content.decode()).replace(email, "EMAIL")


def test_signup_answers_the_same_for_a_known_and_an_unknown_address():
    UserFactory(email=KNOWN)

    answers = []
    for email in (KNOWN, UNKNOWN):
        response = Client().post(
            reverse("account_signup"),
            {"email": email, "password1": "a-long-pass-phrase-1", "password2": "a-long-pass-phrase-1"},
            follow=True,
        )
        answers.append((response.status_code, response.redirect_chain, page_text(response, email)))

    assert answers[0] == answers[1]
    assert User.objects.filter(email=KNOWN).count() == 1
    to_known = [m for m in mail.outbox if m.to == [KNOWN]]
    assert len(to_known) == 1 and "already" in to_known[0].body  # the owner hears of it


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser, title="Morning Flow", capacity=50)
    TicketTypeFactory(event=event, name="Adult", price=0)
    return event


def book_with_an_account(event, email: str, client: Client | None = None):
    client = client or Client()
    url = reverse("event_book", args=[event.organiser.slug, event.code])
    ticket = event.ticket_types.get()
    page = client.get(url, {f"qty_{ticket.pk}": 1})
    return client.post(
        url,
        {
            f"qty_{ticket.pk}": 1,
            "booker_name": "Pat",
            "booker_email": email,
            "attendee_0_name": "Pat",
            "idempotency_key": KEY.search(page.content.decode()).group(1),
            "create_account": "on",
            "password": "a-long-pass-phrase-9",
        },
        follow=True,
    )


def test_create_an_account_with_a_known_address_books_as_a_guest_and_tells_the_owner(
    event, django_capture_on_commit_callbacks
):
    owner = UserFactory(email=KNOWN)

    with django_capture_on_commit_callbacks(execute=True):
        response = book_with_an_account(event, KNOWN)

    html = response.content.decode()
    assert "already an account" not in html and "already" not in html.lower().replace("already been", "")
    booking = Booking.objects.get()
    assert booking.user is None and booking.booker_email == KNOWN  # booked, as a guest
    assert not owner.bookings.exists()
    to_owner = [m for m in mail.outbox if m.to == [KNOWN]]
    assert any("already" in m.body and "account" in m.body for m in to_owner)
    owner.refresh_from_db()
    assert owner.check_password("correct-horse-battery-staple")  # untouched


def test_create_an_account_answers_alike_for_a_known_and_an_unknown_address(event):
    UserFactory(email=KNOWN)

    known = book_with_an_account(event, KNOWN)
    unknown = book_with_an_account(event, UNKNOWN)

    def message(response):
        return [str(m) for m in response.context["messages"]]

    assert [m.replace(KNOWN, "EMAIL") for m in message(known)] == [
        m.replace(UNKNOWN, "EMAIL") for m in message(unknown)
    ]
    assert Booking.objects.count() == 2


def test_create_an_account_on_the_booking_form_is_rate_limited_per_client(event):
    for n in range(10):  # each from a new browser (each new account logs its browser in), one address
        book_with_an_account(event, f"probe{n}@example.com")

    response = book_with_an_account(event, "probe-last@example.com")

    assert "Too many new accounts" in response.content.decode()
    assert not User.objects.filter(email="probe-last@example.com").exists()
    assert User.objects.filter(email__startswith="probe").count() == 10
