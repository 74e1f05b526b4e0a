"""What bookers and organisers type is shown as text on every page and in every email: a booking
made with markup and template syntax in every field comes back escaped and unevaluated."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from bookings.models import Booking
from tests.factories import BookingFormFieldFactory, EventFactory, TicketTypeFactory

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TEMPLATE = '{{ 7*7 }}{% now "Y" %}'


def hostile(label: str) -> str:
    return f"{label} {SCRIPT} {TEMPLATE}"


@pytest.fixture
def booked(organiser, mailoutbox, django_capture_on_commit_callbacks):
    """A guest books with markup in every field, through the public booking page."""
    event = EventFactory(organiser=organiser, title=hostile("Event"), venue=hostile("Venue"), capacity=5)
    ticket = TicketTypeFactory(event=event, name=hostile("Ticket"), price=0)
    question = BookingFormFieldFactory(organiser=organiser, label=hostile("Question"))
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("event_book", args=[organiser.slug, event.code]),
            {
                f"qty_{ticket.pk}": 1,
                "booker_name": hostile("Booker"),
                "booker_email": "hostile@example.com",
                "booker_phone": "+44 7700 900123",
                "attendee_0_name": hostile("Attendee"),
                f"question_{question.pk}": hostile("Answer"),
                "idempotency_key": "escaping",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    return client, Booking.objects.get(booker_email="hostile@example.com"), mailoutbox


def assert_shown_as_text(html: str, *labels: str):
    assert SCRIPT not in html  # never live markup
    assert "{{ 7*7 }}" in html or "{{ 7*7 }}".replace('"', "&quot;") in html  # shown, not evaluated
    for label in labels:
        assert f"{label} {ESCAPED}" in html, f"{label!r} is not shown escaped"


@pytest.mark.django_db
def test_the_booking_page_shows_what_was_typed_as_text(booked):
    client, booking, _ = booked
    html = client.get(reverse("bookings:booking_detail", args=[booking.reference])).content.decode()

    assert_shown_as_text(html, "Event", "Attendee", "Question", "Answer")
    assert booking.booker_name == hostile("Booker")  # stored as typed, escaped only on output


@pytest.mark.django_db
def test_the_organiser_admin_shows_what_was_typed_as_text(booked, client_as_staff):
    _, booking, _ = booked
    changelist = client_as_staff.get(reverse("admin:bookings_booking_changelist"), {"q": booking.reference})
    change = client_as_staff.get(reverse("admin:bookings_booking_change", args=[booking.pk]))

    assert changelist.status_code == change.status_code == 200
    assert SCRIPT not in changelist.content.decode()
    assert ESCAPED in changelist.content.decode()
    assert SCRIPT not in change.content.decode()
    assert ESCAPED in change.content.decode()


@pytest.mark.django_db
def test_the_confirmation_email_shows_what_was_typed_as_text(booked):
    _, booking, mailoutbox = booked
    [message] = [m for m in mailoutbox if m.to == [booking.booker_email]]
    [(html, mimetype)] = message.alternatives

    assert mimetype == "text/html"
    assert_shown_as_text(html, "Event", "Attendee")
    assert "\n" not in message.subject and "49" not in message.subject
    assert "{{ 7*7 }}" in message.body  # plain text: shown as typed, never evaluated
