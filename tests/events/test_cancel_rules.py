"""A booker cancels their own booking, exactly as the organiser's rules allow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import rules as booking_rules
from bookings import selectors, services
from bookings.exceptions import ERRORS, BookingError
from bookings.models import AccountCredit, Booking, BookingRules, Refund
from tests.factories import BookingRulesFactory, EventFactory, TicketTypeFactory
from tests.helpers import in_days, paid_booking, rules

pytestmark = pytest.mark.django_db


def refuses(after_commit, booking, message, mailoutbox):
    """Cancelling is refused with `message`, and nothing at all changed."""
    with pytest.raises(BookingError) as refused:
        after_commit(services.booking_cancel, booking=booking)
    assert str(refused.value.message) == str(message)
    status = booking.status
    booking.refresh_from_db()
    assert booking.status == status
    assert not Refund.objects.filter(booking=booking).exists()
    assert mailoutbox == []


def test_a_cancellation_refunds_the_original_payment_less_the_fee_and_gives_the_seats_back(
    event, ticket, after_commit, mailoutbox
):
    rules(event, refund_method=BookingRules.RefundMethod.ORIGINAL, cancellation_fee=300)
    booking = paid_booking(ticket, seats=2)  # £40.00
    left = selectors.seats_left(event)

    after_commit(services.booking_cancel, booking=booking)

    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == (Booking.Status.CANCELLED, Booking.CancelledBy.BOOKER)
    assert booking.cancelled_at is not None
    refund = Refund.objects.get(booking=booking)
    assert (refund.reason, refund.method) == (Refund.Reason.BOOKER_CANCELLED, "original")
    assert (refund.amount, refund.fee_kept) == (3700, 300)
    assert refund.status == Refund.Status.SUCCEEDED and refund.gateway_reference
    assert selectors.seats_left(event) == left + 2
    (message,) = mailoutbox
    assert message.to == [booking.booker_email]
    assert message.subject == f"Cancelled: Pottery for beginners ({booking.reference})"
    assert "We have refunded £37.00 to your original payment" in message.body
    assert "kept a £3.00 cancellation fee" in message.body


def test_the_confirm_dialog_quotes_exactly_what_the_cancellation_then_gives_back(event, ticket, after_commit):
    rules(event, refund_method=BookingRules.RefundMethod.ORIGINAL, cancellation_fee=250)
    booking = paid_booking(ticket)

    quote = selectors.cancel_quote(booking=booking).refund
    assert quote.pk is None  # a quote is never saved
    after_commit(services.booking_cancel, booking=booking)

    refund = Refund.objects.get(booking=booking)
    assert (quote.amount, quote.method, quote.fee_kept) == (refund.amount, refund.method, refund.fee_kept)
    assert (quote.amount, quote.method, quote.fee_kept) == (1750, "original", 250)


def test_refunds_as_account_credit_when_the_rules_say_so(event, ticket, after_commit, mailoutbox):
    rules(event, refund_method=BookingRules.RefundMethod.CREDIT, cancellation_fee=500)
    booking = paid_booking(ticket)
    quote = selectors.cancel_quote(booking=booking).refund
    assert (quote.method, quote.amount, quote.fee_kept) == ("credit", 1500, 500)

    after_commit(services.booking_cancel, booking=booking)

    refund = Refund.objects.get(booking=booking)
    assert (refund.method, refund.amount, refund.fee_kept, refund.status) == (
        "credit",
        1500,
        500,
        "succeeded",
    )
    credit = AccountCredit.objects.get(refund=refund)
    assert (credit.amount, credit.email, credit.organiser_id) == (
        1500,
        booking.booker_email,
        event.organiser_id,
    )
    assert "£15.00 is now account credit" in mailoutbox[0].body


def test_no_refund_when_the_rules_give_none(event, ticket, after_commit, mailoutbox):
    rules(event, refund_method=BookingRules.RefundMethod.NONE)
    booking = paid_booking(ticket)
    quote = selectors.cancel_quote(booking=booking).refund
    assert (quote.method, quote.amount, quote.fee_kept) == ("none", 0, 0)

    after_commit(services.booking_cancel, booking=booking)

    refund = Refund.objects.get(booking=booking)
    assert (refund.method, refund.amount) == ("none", 0)
    assert not AccountCredit.objects.exists()
    assert "does not give refunds" in mailoutbox[0].body
    booking.refresh_from_db()
    assert booking.is_cancelled


def test_a_refund_to_the_original_payment_becomes_credit_when_there_was_no_card_payment(
    event, ticket, after_commit
):
    rules(event, refund_method=BookingRules.RefundMethod.ORIGINAL)
    booking = paid_booking(ticket, payment_method=Booking.PaymentMethod.PASS, payment_reference="")
    assert selectors.cancel_quote(booking=booking).refund.method == "credit"

    after_commit(services.booking_cancel, booking=booking)

    assert Refund.objects.get(booking=booking).method == "credit"
    assert AccountCredit.objects.get().amount == 2000


def test_the_fee_never_exceeds_what_was_paid(event, after_commit):
    cheap = TicketTypeFactory(event=event, price=200)
    rules(event, cancellation_fee=500)
    booking = paid_booking(cheap)

    after_commit(services.booking_cancel, booking=booking)

    refund = Refund.objects.get(booking=booking)
    assert (refund.amount, refund.fee_kept) == (0, 200)


def test_without_any_rules_cancellations_are_off(event, ticket, after_commit, mailoutbox):
    booking = paid_booking(ticket)
    refuses(after_commit, booking, "Riverside doesn't allow cancellations for this event.", mailoutbox)


def test_cancellations_switched_off_by_the_rules_are_refused(event, ticket, after_commit, mailoutbox):
    rules(event, cancellations_allowed=False)
    booking = paid_booking(ticket)
    refuses(after_commit, booking, "Riverside doesn't allow cancellations for this event.", mailoutbox)


def test_cancellations_close_at_the_cutoff(organiser, after_commit, mailoutbox):
    event = EventFactory(organiser=organiser, starts_at=timezone.now() + timedelta(hours=47))
    rules(event, cancellation_cutoff_hours=48)
    booking = paid_booking(TicketTypeFactory(event=event))
    refuses(after_commit, booking, "Cancellations close 48 hours before the event.", mailoutbox)


def test_the_cutoff_boundary_still_allows_cancelling(event, ticket):
    found = rules(event, cancellation_cutoff_hours=48)
    booking = paid_booking(ticket)
    at_cutoff = event.starts_at - timedelta(hours=48)

    assert booking_rules.cancel_blocked_reason(booking=booking, rules=found, now=at_cutoff) == ""
    assert booking_rules.cancel_blocked_reason(
        booking=booking, rules=found, now=at_cutoff + timedelta(seconds=1)
    ) == str(ERRORS["cancellations_closed"] % {"hours": 48})


def test_the_events_own_rules_win_over_the_organisers_default(organiser, event, ticket, after_commit):
    BookingRulesFactory(organiser=organiser, event=None, cancellations_allowed=True)
    rules(event, cancellations_allowed=False)
    booking = paid_booking(ticket)
    with pytest.raises(BookingError, match="doesn't allow cancellations"):
        after_commit(services.booking_cancel, booking=booking)

    other = paid_booking(TicketTypeFactory(event=EventFactory(organiser=organiser)))
    after_commit(services.booking_cancel, booking=other)  # the default applies elsewhere
    other.refresh_from_db()
    assert other.is_cancelled


def test_a_booking_the_organiser_cancelled_cannot_be_cancelled_again(event, ticket, after_commit, mailoutbox):
    rules(event)
    booking = paid_booking(
        ticket, status=Booking.Status.CANCELLED, cancelled_by=Booking.CancelledBy.ORGANISER
    )
    refuses(after_commit, booking, "This booking is already cancelled.", mailoutbox)


def test_an_unpaid_booking_is_not_cancelled_here(event, ticket, after_commit, mailoutbox):
    rules(event)
    booking = paid_booking(ticket, status=Booking.Status.PENDING)
    refuses(after_commit, booking, "Only a confirmed booking can be changed.", mailoutbox)


def test_a_started_or_cancelled_event_blocks_cancelling(organiser):
    started = EventFactory(organiser=organiser, starts_at=in_days(-0.01))
    booking = paid_booking(TicketTypeFactory(event=started))
    found = rules(started, cancellation_cutoff_hours=0)
    assert booking_rules.cancel_blocked_reason(booking=booking, rules=found) == str(ERRORS["event_started"])

    called_off = EventFactory(organiser=organiser, status="cancelled")
    booking = paid_booking(TicketTypeFactory(event=called_off))
    found = rules(called_off)
    assert booking_rules.cancel_blocked_reason(booking=booking, rules=found) == str(ERRORS["event_cancelled"])


def test_cancelling_twice_refunds_once_and_emails_once(event, ticket, after_commit, mailoutbox):
    rules(event)
    booking = paid_booking(ticket)

    first = after_commit(services.booking_cancel, booking=booking)
    again = after_commit(services.booking_cancel, booking=booking)  # the stale object, replayed

    assert first.pk == again.pk and again.is_cancelled
    assert Refund.objects.filter(booking=booking).count() == 1
    assert len(mailoutbox) == 1
    assert selectors.seats_left(event) == 10


def test_a_cancel_refused_by_the_rules_changes_no_seats(event, ticket, after_commit):
    booking = paid_booking(ticket)
    with pytest.raises(BookingError):
        after_commit(services.booking_cancel, booking=booking)
    assert selectors.seats_left(event) == 9


def test_cancelling_after_a_cheaper_move_gives_back_only_what_is_left(event, ticket, organiser, after_commit):
    rules(event, refund_method=BookingRules.RefundMethod.ORIGINAL)
    cheaper_event = EventFactory(organiser=organiser)
    rules(cheaper_event, refund_method=BookingRules.RefundMethod.ORIGINAL)
    booking = paid_booking(ticket)  # £20.00
    after_commit(
        services.transfer_create,
        booking=booking,
        ticket_type=TicketTypeFactory(event=cheaper_event, price=1200),
        idempotency_key="cheaper",
    )
    booking.refresh_from_db()

    after_commit(services.booking_cancel, booking=booking)

    amounts = dict(Refund.objects.filter(booking=booking).values_list("reason", "amount"))
    assert amounts == {Refund.Reason.TRANSFER: 800, Refund.Reason.BOOKER_CANCELLED: 1200}
    assert sum(amounts.values()) == 2000  # never more than was paid


def test_a_refund_the_gateway_refuses_stays_pending_and_a_retry_pays_it_once(
    event, ticket, after_commit, mailoutbox
):
    from unittest import mock

    from portal.exceptions import PaymentError
    from portal.payments import OfflineGateway

    rules(event)
    booking = paid_booking(ticket)
    with mock.patch.object(
        OfflineGateway, "refund", autospec=True, side_effect=PaymentError("Card declined")
    ):
        after_commit(services.booking_cancel, booking=booking)

    booking.refresh_from_db()
    refund = Refund.objects.get(booking=booking)
    assert booking.is_cancelled  # the cancellation stands
    assert (refund.status, refund.last_error) == (Refund.Status.PENDING, "Card declined")
    assert mailoutbox == []  # the email waits for the money

    with mock.patch.object(OfflineGateway, "refund", autospec=True, return_value="re_retry") as paid:
        services.booking_settle_cancellation(booking=booking)
        services.booking_settle_cancellation(booking=booking)  # the task, run twice

    assert paid.call_count == 1
    refund.refresh_from_db()
    assert (refund.status, refund.gateway_reference) == (Refund.Status.SUCCEEDED, "re_retry")
    assert len(mailoutbox) == 1
