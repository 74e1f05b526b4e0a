"""Ten bookings race to spend one voucher's balance on real Postgres transactions."""

from __future__ import annotations

import pytest

from bookings import services
from bookings.models import Booking
from tests.factories import EventFactory, TicketTypeFactory
from tests.races import at_once
from tests.vouchers.factories import VoucherFactory
from vouchers.models import VoucherRedemption
from vouchers.services import VoucherError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_bookings_for_a_voucher_that_covers_one_exactly_one_is_paid_by_it(organiser):
    voucher = VoucherFactory(organiser=organiser, value=1500, balance=1200)
    tickets = [TicketTypeFactory(event=EventFactory(organiser=organiser), price=1200) for _ in range(10)]

    def book(n: int) -> str:
        try:
            services.booking_create(
                request=services.BookingRequest(
                    event=tickets[n].event,
                    booker=services.Booker(name=f"Racer {n}", email=f"racer{n}@example.com"),
                    tickets=[services.TicketRequest(ticket_type=tickets[n], attendee_name=f"Racer {n}")],
                    idempotency_key=f"voucher-race-{n}",
                    voucher_code=voucher.display_code,
                )
            )
            return "booked"
        except VoucherError as exc:
            return str(exc)

    outcomes = at_once(10, book)

    assert outcomes.count("booked") == 1
    assert outcomes.count("This voucher has been used up.") == 9
    voucher.refresh_from_db()
    assert voucher.balance == 0
    assert VoucherRedemption.objects.get(voucher=voucher).amount == 1200
    paid = Booking.objects.get(booker_name__startswith="Racer")
    assert (paid.total, paid.payment_method, paid.status) == (0, "voucher", "confirmed")
