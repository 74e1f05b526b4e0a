"""Ten bookings race to spend a membership's last included booking on real Postgres transactions:
exactly one gets it, the other nine pay (with the member discount)."""

from __future__ import annotations

import pytest
from django.db import connection

from bookings import services
from bookings.models import Booking
from memberships.models import MembershipBookingUse
from tests.factories import EventFactory, TicketTypeFactory
from tests.memberships.factories import MembershipBookingUseFactory, MembershipFactory
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_bookings_for_the_last_included_booking_exactly_one_gets_it(organiser, booker):
    membership = MembershipFactory(
        organiser=organiser, user=booker, plan__discount_percent=20, plan__included_bookings=2
    )
    MembershipBookingUseFactory(
        membership=membership, booking_reference="EARLIER1", period_start=membership.current_period_start
    )
    # Ten different events, so the event row locks don't queue the bookings: only the membership's.
    tickets = [TicketTypeFactory(event=EventFactory(organiser=organiser), price=1200) for _ in range(10)]

    def book(n: int) -> int:
        return services.booking_create(
            request=services.BookingRequest(
                event=tickets[n].event,
                booker=services.Booker(name="Bea Booker", email=booker.email, user=booker),
                tickets=[services.TicketRequest(ticket_type=tickets[n], attendee_name="Bea")],
                idempotency_key=f"included-race-{n}",
            )
        ).total

    totals = at_once(10, book)

    assert sorted(totals) == [0] + [960] * 9
    assert MembershipBookingUse.objects.filter(membership=membership).count() == 2
    assert Booking.objects.filter(user=booker, included_amount=1200).count() == 1


@pytest.mark.race(max_repeat=1)  # one thread: nothing to repeat
def test_spending_an_included_booking_locks_the_membership_after_the_event_row(organiser, booker):
    from django.test.utils import CaptureQueriesContext

    MembershipFactory(organiser=organiser, user=booker, plan__included_bookings=1)
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=1200)
    with CaptureQueriesContext(connection) as queries:
        services.booking_create(
            request=services.BookingRequest(
                event=ticket.event,
                booker=services.Booker(name="Bea", email=booker.email, user=booker),
                tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Bea")],
                idempotency_key="lock-order",
            )
        )
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    event_lock = next(i for i, sql in enumerate(locks) if '"bookings_event"' in sql)
    membership_lock = next(i for i, sql in enumerate(locks) if '"memberships_membership"' in sql)
    assert event_lock < membership_lock
