"""The Events tab's cached booking cards never show anything stale or anyone else's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Attendee
from tests.factories import AttendeeFactory, BookingFactory, EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
EVENTS = reverse("bookings:event_list")


@pytest.fixture
def booking(booker, organiser):
    event = EventFactory(
        organiser=organiser, title="Morning Flow", starts_at=timezone.now() + timedelta(days=3)
    )
    booking = BookingFactory(event=event, user=booker, booker_email=booker.email)
    AttendeeFactory(booking=booking, ticket_type=TicketTypeFactory(event=event), name="Ada")
    return booking


def test_a_renamed_attendee_shows_at_once(client_as_booker, booking):
    assert "Ada" in client_as_booker.get(EVENTS).content.decode()
    attendee = booking.attendees.get()
    attendee.name = "Grace"
    attendee.save()

    html = client_as_booker.get(EVENTS).content.decode()

    assert "Grace" in html and "Ada" not in html


def test_a_moved_or_renamed_event_shows_at_once(client_as_booker, booking):
    client_as_booker.get(EVENTS)
    booking.event.title = "Evening Flow"
    booking.event.save()

    assert "Evening Flow" in client_as_booker.get(EVENTS).content.decode()


def test_attendance_marked_in_bulk_shows_on_the_past_tab(client_as_booker, booking, organiser):
    organiser.attendance_tracking = True
    organiser.save()
    booking.event.starts_at = timezone.now() - timedelta(days=2)
    booking.event.ends_at = booking.event.starts_at + timedelta(hours=1)
    booking.event.save()
    client_as_booker.get(f"{EVENTS}?tab=past")
    Attendee.objects.filter(booking=booking).update(attendance="absent", updated_at=timezone.now())

    assert "Did not attend" in client_as_booker.get(f"{EVENTS}?tab=past").content.decode()


def test_another_booker_never_gets_our_cached_cards(client, booking, other_booker):
    client.force_login(booking.user)
    assert "Morning Flow" in client.get(EVENTS).content.decode()
    client.force_login(other_booker)

    assert "Morning Flow" not in client.get(EVENTS).content.decode()


def test_a_renamed_ticket_type_shows_at_once(client_as_booker, booking):
    client_as_booker.get(EVENTS)
    ticket_type = booking.attendees.get().ticket_type
    ticket_type.name = "Sunrise Special"
    ticket_type.save()

    assert "Sunrise Special" in client_as_booker.get(EVENTS).content.decode()
