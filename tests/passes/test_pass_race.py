"""Ten bookings race to spend a pass's last use on real Postgres transactions."""

from __future__ import annotations

import pytest
from django.db import connection

from bookings import services
from bookings.models import Booking
from passes.models import PassRedemption
from passes.services import PassError
from tests.factories import EventFactory, TicketTypeFactory
from tests.passes.factories import PassFactory
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_bookings_for_a_pass_with_one_use_left_exactly_one_spends_it(organiser, booker):
    pass_ = PassFactory(organiser=organiser, user=booker, uses_included=5, uses_left=1)
    # Ten different events, so the event row locks don't queue the bookings: only the pass lock does.
    tickets = [TicketTypeFactory(event=EventFactory(organiser=organiser), price=1200) for _ in range(10)]

    def book(n: int) -> str:
        try:
            services.booking_create(
                request=services.BookingRequest(
                    event=tickets[n].event,
                    booker=services.Booker(name="Bea Booker", email=booker.email, user=booker),
                    tickets=[services.TicketRequest(ticket_type=tickets[n], attendee_name="Bea")],
                    idempotency_key=f"pass-race-{n}",
                    pass_=pass_,
                )
            )
            return "booked"
        except PassError as exc:
            return str(exc)

    outcomes = at_once(10, book)

    assert outcomes.count("booked") == 1
    assert outcomes.count(f"Your {pass_.pass_type.name} pass has no uses left.") == 9
    pass_.refresh_from_db()
    assert pass_.uses_left == 0
    assert PassRedemption.objects.filter(booker_pass=pass_).count() == 1
    assert Booking.objects.filter(user=booker).count() == 1


@pytest.mark.race(max_repeat=1)  # one thread: nothing to repeat
def test_spending_a_pass_locks_its_row_after_the_event_row(organiser, booker):
    from django.test.utils import CaptureQueriesContext

    pass_ = PassFactory(organiser=organiser, user=booker)
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=1200)
    with CaptureQueriesContext(connection) as queries:
        services.booking_create(
            request=services.BookingRequest(
                event=ticket.event,
                booker=services.Booker(name="Bea", email=booker.email, user=booker),
                tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Bea")],
                idempotency_key="lock-order",
                pass_=pass_,
            )
        )
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    event_lock = next(i for i, sql in enumerate(locks) if '"bookings_event"' in sql)
    pass_lock = next(i for i, sql in enumerate(locks) if '"passes_pass"' in sql)
    assert event_lock < pass_lock
