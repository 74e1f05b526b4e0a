"""Twenty bookers race for the last three seats on real Postgres transactions."""

from __future__ import annotations

import pytest
from django.db import connection

from bookings import selectors, services
from bookings.exceptions import EventFull
from bookings.models import Attendee, Booking
from tests.factories import AttendeeFactory, EventFactory, TicketTypeFactory
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_bookers_for_the_last_three_seats_exactly_three_win(organiser):
    event = EventFactory(organiser=organiser, capacity=10)
    ticket = TicketTypeFactory(event=event, price=0)
    for _ in range(7):
        AttendeeFactory(booking__event=event, booking__status="confirmed", ticket_type=ticket)

    def book(n: int) -> str:
        try:
            services.booking_create(
                request=services.BookingRequest(
                    event=event,
                    booker=services.Booker(name=f"Racer {n}", email=f"racer{n}@example.com"),
                    tickets=[services.TicketRequest(ticket_type=ticket, attendee_name=f"Racer {n}")],
                    idempotency_key=f"race-{n}",
                )
            )
            return "booked"
        except EventFull:
            return "full"

    outcomes = at_once(20, book)

    assert outcomes.count("booked") == 3
    assert outcomes.count("full") == 17
    assert Attendee.objects.filter(booking__event=event).count() == 10  # never over capacity
    assert selectors.seats_left(event) == 0
    assert Booking.objects.filter(event=event, booker_name__startswith="Racer").count() == 3


@pytest.mark.race(max_repeat=1)  # one thread: nothing to repeat
def test_the_capacity_check_locks_the_event_row(organiser):
    event = EventFactory(organiser=organiser, capacity=5)
    ticket = TicketTypeFactory(event=event, price=0)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.booking_create(
            request=services.BookingRequest(
                event=event,
                booker=services.Booker(name="A", email="a@example.com"),
                tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="A")],
                idempotency_key="lock",
            )
        )
    assert any("FOR UPDATE" in q["sql"] and "bookings_event" in q["sql"] for q in queries.captured_queries)
