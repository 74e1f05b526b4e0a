"""Cancelling a booking paid by a pass or a gift voucher gives them back, per the rules, once."""

from __future__ import annotations

import pytest

from bookings import selectors, services
from bookings.models import BookingRules
from tests.factories import BookingRulesFactory, EventFactory, TicketTypeFactory
from tests.passes.factories import PassFactory
from tests.vouchers.factories import VoucherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def standard(organiser):
    organiser.plan = "standard"
    organiser.save()
    return organiser


@pytest.fixture
def ticket(standard):
    return TicketTypeFactory(event=EventFactory(organiser=standard, capacity=10), price=1500)


def book(ticket, booker, **payment):
    return services.booking_create(
        request=services.BookingRequest(
            event=ticket.event,
            booker=services.Booker(name="Bea", email=booker.email, user=booker),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Bea")],
            idempotency_key=f"k-{sorted(payment)}",
            **payment,
        )
    )


def rules(organiser, **values):
    return BookingRulesFactory(organiser=organiser, event=None, **values)


def test_cancelling_a_pass_booking_returns_its_use_once(
    ticket, booker, standard, django_capture_on_commit_callbacks
):
    rules(standard, cancellation_fee=300)
    pass_ = PassFactory(organiser=standard, user=booker, uses_included=5, uses_left=1)
    booking = book(ticket, booker, pass_=pass_)
    pass_.refresh_from_db()
    assert pass_.uses_left == 0
    assert selectors.cancel_quote(booking=booking).pass_uses_back == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking)
        services.booking_cancel(booking=booking)  # a replay gives nothing more

    pass_.refresh_from_db()
    assert pass_.uses_left == 1


def test_a_voucher_gets_its_money_back_less_the_fee_the_card_refund_did_not_cover(ticket, booker, standard):
    rules(standard, cancellation_fee=300)
    voucher = VoucherFactory(organiser=standard, value=5000, balance=5000)
    booking = book(ticket, booker, voucher_code=voucher.code)
    voucher.refresh_from_db()
    assert (voucher.balance, booking.total) == (3500, 0)
    assert selectors.cancel_quote(booking=booking).voucher_back == 1200

    services.booking_cancel(booking=booking)

    voucher.refresh_from_db()
    assert voucher.balance == 4700


def test_no_refund_rules_give_back_neither_uses_nor_money(ticket, booker, standard):
    rules(standard, refund_method=BookingRules.RefundMethod.NONE)
    pass_ = PassFactory(organiser=standard, user=booker, uses_left=2)
    booking = book(ticket, booker, pass_=pass_)

    services.booking_cancel(booking=booking)

    pass_.refresh_from_db()
    assert pass_.uses_left == 1


def test_an_organiser_cancelled_event_gives_the_whole_voucher_amount_back(ticket, booker, standard):
    rules(standard, cancellation_fee=300)
    voucher = VoucherFactory(organiser=standard, value=5000, balance=5000)
    book(ticket, booker, voucher_code=voucher.code)

    services.event_cancel(event=ticket.event)

    voucher.refresh_from_db()
    assert voucher.balance == 5000


def test_a_booking_paid_with_a_voucher_or_pass_is_not_offered_a_transfer(ticket, booker, standard):
    rules(standard)
    voucher = VoucherFactory(organiser=standard, value=5000, balance=5000)
    booking = book(ticket, booker, voucher_code=voucher.code)
    from bookings import rules as booking_rules

    reason = booking_rules.transfer_blocked_reason(
        booking=booking, rules=booking_rules.rules_for_event(event=booking.event)
    )
    assert reason == "Bookings paid with a pass or gift voucher can't be moved here: please ask Riverside."


def test_paying_with_both_a_pass_and_a_voucher_is_refused_and_spends_neither(ticket, booker, standard):
    from bookings.exceptions import BookingError

    pass_ = PassFactory(organiser=standard, user=booker, uses_left=2)
    voucher = VoucherFactory(organiser=standard, value=5000, balance=5000)

    with pytest.raises(BookingError, match="Pay with a pass or a voucher, not both."):
        book(ticket, booker, pass_=pass_, voucher_code=voucher.code)

    pass_.refresh_from_db()
    voucher.refresh_from_db()
    assert (pass_.uses_left, voucher.balance) == (2, 5000)
