"""A booker moves their booking to another event or ticket type, as the organiser's rules allow,
and the price difference is settled by those rules."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from bookings import rules as booking_rules
from bookings import selectors, services
from bookings.exceptions import ERRORS, BookingError, EventFull
from bookings.models import AccountCredit, Attendee, Booking, BookingRules, Refund, Transfer
from portal.payments import OfflineGateway
from tests.factories import AttendeeFactory, BookingFactory, EventFactory, OrganiserFactory, TicketTypeFactory
from tests.helpers import in_days, paid_booking, rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(other_event):
    return TicketTypeFactory(event=other_event, name="Standard", price=2000)


def transfer(after_commit, booking, ticket_type, key="key-1", **extra):
    return after_commit(
        services.transfer_create, booking=booking, ticket_type=ticket_type, idempotency_key=key, **extra
    )


def refuses(after_commit, booking, ticket_type, message, mailoutbox, error=BookingError):
    """The move is refused with `message`, and nothing changed: no transfer, no refund, no email."""
    with pytest.raises(error) as refused:
        transfer(after_commit, booking, ticket_type)
    assert str(refused.value.message) == str(message)
    event_id, total = booking.event_id, booking.total
    booking.refresh_from_db()
    assert (booking.event_id, booking.total) == (event_id, total)
    assert not Transfer.objects.filter(booking=booking).exists()
    assert not Refund.objects.filter(booking=booking).exists()
    assert mailoutbox == []


# Completing a move -----------------------------------------------------------------------------


def test_a_same_price_move_completes_at_once_and_emails_a_fresh_view_booking_link(
    event, ticket, other_event, target, after_commit, mailoutbox
):
    rules(event)
    booking = paid_booking(ticket, seats=2)

    moved = transfer(after_commit, booking, target)

    assert moved.status == Transfer.Status.COMPLETED and moved.completed_at
    assert (moved.from_event, moved.to_event, moved.to_ticket_type) == (event, other_event, target)
    booking.refresh_from_db()
    assert booking.event == other_event and booking.total == 4000
    assert set(booking.attendees.values_list("ticket_type", flat=True)) == {target.pk}
    assert (selectors.seats_left(event), selectors.seats_left(other_event)) == (10, 8)
    assert not Refund.objects.exists()
    (message,) = mailoutbox
    assert message.to == [booking.booker_email]
    assert message.subject == f"Moved: your booking {booking.reference} is now for Pottery: the wheel"
    assert "Pottery for beginners" in message.body and "Standard × 2" in message.body
    url = message.body.split("View your booking: ")[1].split()[0]
    assert Client().get(url, follow=True).status_code == 200


def test_the_same_confirm_posted_twice_makes_one_transfer_and_one_email(
    event, ticket, target, after_commit, mailoutbox
):
    rules(event)
    booking = paid_booking(ticket)

    first = transfer(after_commit, booking, target, key="same")
    second = transfer(after_commit, booking, target, key="same")

    assert first.pk == second.pk
    assert Transfer.objects.filter(booking=booking).count() == 1
    assert len(mailoutbox) == 1


def test_a_move_from_an_event_the_booking_already_left_is_refused(
    event, ticket, other_event, target, after_commit
):
    rules(event)
    rules(other_event)
    booking = paid_booking(ticket)
    transfer(after_commit, booking, target, key="first")
    back = TicketTypeFactory(event=event, price=2000, name="Back")

    with pytest.raises(BookingError) as refused:
        transfer(after_commit, booking, back, key="second", from_event=event)  # the booker's stale page

    assert str(refused.value.message) == str(ERRORS["booking_changed"])
    booking.refresh_from_db()
    assert booking.event == other_event


def test_a_full_target_refuses_the_move_and_nothing_is_lost(
    event, ticket, other_event, target, after_commit, mailoutbox
):
    rules(event)
    other_event.capacity = 1
    other_event.save()
    paid_booking(target)  # takes the only seat
    booking = paid_booking(ticket)

    with pytest.raises(EventFull):
        transfer(after_commit, booking, target)

    booking.refresh_from_db()
    assert booking.event == event and booking.attendees.count() == 1
    assert not Transfer.objects.exists() and mailoutbox == []


def test_a_ticket_types_own_limit_applies_within_the_same_event(event, ticket, after_commit):
    rules(event, transfer_scope=BookingRules.TransferScope.SAME_EVENT)
    vip = TicketTypeFactory(event=event, name="VIP", price=2000, capacity=1)
    paid_booking(vip)
    booking = paid_booking(ticket)

    with pytest.raises(EventFull, match="only 0 VIP"):
        transfer(after_commit, booking, vip)


# What the rules allow --------------------------------------------------------------------------


def test_without_any_rules_transfers_are_off(event, ticket, target, after_commit, mailoutbox):
    booking = paid_booking(ticket)
    refuses(after_commit, booking, target, "Riverside doesn't allow transfers for this event.", mailoutbox)


def test_transfers_switched_off_are_refused(event, ticket, target, after_commit, mailoutbox):
    rules(event, transfers_allowed=False)
    booking = paid_booking(ticket)
    refuses(after_commit, booking, target, "Riverside doesn't allow transfers for this event.", mailoutbox)


def test_transfers_close_at_the_cutoff(organiser, target, after_commit, mailoutbox):
    soon = EventFactory(organiser=organiser, starts_at=timezone.now() + timedelta(hours=23))
    rules(soon, transfer_cutoff_hours=24)
    booking = paid_booking(TicketTypeFactory(event=soon, price=2000))
    refuses(after_commit, booking, target, "Transfers close 24 hours before the event.", mailoutbox)


def test_the_transfer_cutoff_boundary(event, ticket):
    found = rules(event, transfer_cutoff_hours=24)
    booking = paid_booking(ticket)
    at_cutoff = event.starts_at - timedelta(hours=24)
    assert booking_rules.transfer_blocked_reason(booking=booking, rules=found, now=at_cutoff) == ""
    assert booking_rules.transfer_blocked_reason(
        booking=booking, rules=found, now=at_cutoff + timedelta(seconds=1)
    ) == str(ERRORS["transfers_closed"] % {"hours": 24})


def test_a_cancelled_booking_cannot_move(event, ticket, target, after_commit, mailoutbox):
    rules(event)
    booking = paid_booking(ticket, status=Booking.Status.CANCELLED, cancelled_by=Booking.CancelledBy.BOOKER)
    refuses(after_commit, booking, target, "This booking is already cancelled.", mailoutbox)


def test_any_event_scope_allows_other_upcoming_events_of_the_organiser_only(
    organiser, event, ticket, target, after_commit, mailoutbox
):
    rules(event, transfer_scope=BookingRules.TransferScope.ANY_EVENT)
    booking = paid_booking(ticket)
    not_allowed = str(ERRORS["target_not_allowed"])
    elsewhere = TicketTypeFactory(event=EventFactory(organiser=OrganiserFactory()), price=2000)
    past = TicketTypeFactory(event=EventFactory(organiser=organiser, starts_at=in_days(-2)), price=2000)
    called_off = TicketTypeFactory(event=EventFactory(organiser=organiser, status="cancelled"), price=2000)

    for refused_target in [elsewhere, past, called_off]:
        refuses(after_commit, booking, refused_target, not_allowed, mailoutbox)
    assert transfer(after_commit, booking, target).status == Transfer.Status.COMPLETED


def test_any_event_scope_also_allows_another_ticket_type_of_the_same_event(
    event, ticket, after_commit, mailoutbox
):
    rules(event, transfer_scope=BookingRules.TransferScope.ANY_EVENT)
    booking = paid_booking(ticket)
    concession = TicketTypeFactory(event=event, name="Concession", price=1500)

    moved = transfer(after_commit, booking, concession)

    assert moved.status == Transfer.Status.COMPLETED
    assert booking.attendees.get().ticket_type == concession


def test_same_event_scope_allows_another_ticket_type_of_that_event_only(
    event, ticket, target, after_commit, mailoutbox
):
    rules(event, transfer_scope=BookingRules.TransferScope.SAME_EVENT)
    booking = paid_booking(ticket)
    other_type = TicketTypeFactory(event=event, name="Evening", price=2000)

    refuses(after_commit, booking, target, ERRORS["target_not_allowed"], mailoutbox)
    refuses(after_commit, booking, ticket, ERRORS["same_ticket"], mailoutbox)
    moved = transfer(after_commit, booking, other_type)

    assert moved.status == Transfer.Status.COMPLETED
    assert set(Attendee.objects.filter(booking=booking).values_list("ticket_type", flat=True)) == {
        other_type.pk
    }
    assert selectors.seats_left(event) == 9  # same event, same seat


def test_chosen_events_scope_allows_only_the_chosen_events(
    organiser, event, ticket, target, after_commit, mailoutbox
):
    found = rules(event, transfer_scope=BookingRules.TransferScope.CHOSEN_EVENTS)
    found.transfer_target_events.add(target.event)
    booking = paid_booking(ticket)
    not_chosen = TicketTypeFactory(event=EventFactory(organiser=organiser), price=2000)

    refuses(after_commit, booking, not_chosen, ERRORS["target_not_allowed"], mailoutbox)
    assert transfer(after_commit, booking, target).status == Transfer.Status.COMPLETED


def test_chosen_events_scope_as_the_organisers_default(
    organiser, event, ticket, target, after_commit, mailoutbox
):
    from tests.factories import BookingRulesFactory

    found = BookingRulesFactory(
        organiser=organiser, event=None, transfer_scope=BookingRules.TransferScope.CHOSEN_EVENTS
    )
    found.transfer_target_events.add(target.event)
    booking = paid_booking(ticket)
    other = TicketTypeFactory(event=EventFactory(organiser=organiser), price=2000)

    refuses(after_commit, booking, other, ERRORS["target_not_allowed"], mailoutbox)
    assert transfer(after_commit, booking, target).status == Transfer.Status.COMPLETED


# The price difference ---------------------------------------------------------------------------


@pytest.fixture
def dearer(other_event):
    return TicketTypeFactory(event=other_event, name="Wheel", price=3500)


@pytest.fixture
def cheaper(other_event):
    return TicketTypeFactory(event=other_event, name="Watch", price=1200)


def test_same_price_only_refuses_dearer_and_cheaper(
    event, ticket, target, dearer, cheaper, after_commit, mailoutbox
):
    rules(event, price_difference=BookingRules.PriceDifference.SAME_PRICE_ONLY)
    booking = paid_booking(ticket)

    refuses(after_commit, booking, dearer, "You can only swap to a ticket of the same price.", mailoutbox)
    refuses(after_commit, booking, cheaper, "You can only swap to a ticket of the same price.", mailoutbox)
    assert transfer(after_commit, booking, target).status == Transfer.Status.COMPLETED


def test_no_refund_refuses_dearer_and_moves_to_cheaper_without_giving_money_back(
    event, ticket, dearer, cheaper, after_commit, mailoutbox
):
    rules(
        event,
        price_difference=BookingRules.PriceDifference.EQUAL_OR_CHEAPER_NO_REFUND,
        refund_method=BookingRules.RefundMethod.ORIGINAL,
    )
    booking = paid_booking(ticket)
    refuses(
        after_commit,
        booking,
        dearer,
        "You can only move to a ticket of the same price or cheaper.",
        mailoutbox,
    )

    quote = selectors.transfer_quote(booking=booking, ticket_type=cheaper)
    assert (quote.difference, quote.to_pay, quote.refund_amount) == (-800, 0, 0)
    moved = transfer(after_commit, booking, cheaper)

    assert moved.status == Transfer.Status.COMPLETED
    assert not Refund.objects.exists() and not AccountCredit.objects.exists()
    booking.refresh_from_db()
    assert booking.event == cheaper.event and booking.total == 2000  # what was paid, kept
    assert "refunded" not in mailoutbox[0].body


def test_settle_refunds_a_cheaper_move_to_the_original_payment_without_a_fee(
    event, ticket, cheaper, after_commit, mailoutbox
):
    rules(event, refund_method=BookingRules.RefundMethod.ORIGINAL, cancellation_fee=300)
    booking = paid_booking(ticket)
    quote = selectors.transfer_quote(booking=booking, ticket_type=cheaper)
    assert (quote.refund_amount, quote.refund_method) == (800, "original")

    with mock.patch.object(OfflineGateway, "refund", autospec=True, return_value="re_1") as refund_call:
        moved = transfer(after_commit, booking, cheaper)

    refund = Refund.objects.get(booking=booking)
    assert (refund.reason, refund.transfer, refund.method) == (Refund.Reason.TRANSFER, moved, "original")
    assert (refund.amount, refund.fee_kept, refund.status) == (800, 0, Refund.Status.SUCCEEDED)
    assert refund_call.call_args.kwargs["payment_reference"] == "pi_original"
    assert refund_call.call_args.kwargs["amount"] == 800
    booking.refresh_from_db()
    assert booking.total == 1200
    assert "We have refunded the difference of £8.00 to your original payment" in mailoutbox[0].body


def test_settle_gives_a_cheaper_moves_difference_as_credit(event, ticket, cheaper, after_commit, mailoutbox):
    rules(event, refund_method=BookingRules.RefundMethod.CREDIT)
    booking = paid_booking(ticket)

    moved = transfer(after_commit, booking, cheaper)

    refund = Refund.objects.get(transfer=moved)
    assert (refund.method, refund.amount, refund.status) == ("credit", 800, "succeeded")
    assert AccountCredit.objects.get(refund=refund).amount == 800
    assert "The difference of £8.00 is now account credit" in mailoutbox[0].body


def test_settle_with_no_refund_method_gives_nothing_back(event, ticket, cheaper, after_commit):
    rules(event, refund_method=BookingRules.RefundMethod.NONE)
    booking = paid_booking(ticket)

    moved = transfer(after_commit, booking, cheaper)

    assert moved.status == Transfer.Status.COMPLETED
    assert not Refund.objects.exists()
    booking.refresh_from_db()
    assert booking.total == 2000


def test_a_pass_booking_is_not_moved_online(event, ticket, cheaper, after_commit):
    rules(event, refund_method=BookingRules.RefundMethod.ORIGINAL)
    booking = paid_booking(ticket, payment_method=Booking.PaymentMethod.PASS, payment_reference="")

    with pytest.raises(BookingError, match="paid with a pass or gift voucher"):
        transfer(after_commit, booking, cheaper)

    assert not Transfer.objects.filter(booking=booking).exists()


def test_a_booking_moved_twice_gets_two_transfer_refunds(event, ticket, other_event, after_commit):
    rules(event, refund_method=BookingRules.RefundMethod.CREDIT)
    rules(
        other_event,
        refund_method=BookingRules.RefundMethod.CREDIT,
        transfer_scope=BookingRules.TransferScope.SAME_EVENT,
    )
    booking = paid_booking(ticket)
    mid = TicketTypeFactory(event=other_event, price=1500)
    low = TicketTypeFactory(event=other_event, price=1000, name="Low")

    transfer(after_commit, booking, mid, key="a")
    booking.refresh_from_db()
    transfer(after_commit, booking, low, key="b")

    assert sorted(Refund.objects.filter(booking=booking).values_list("amount", flat=True)) == [500, 500]
    booking.refresh_from_db()
    assert booking.total == 1000


def test_settle_makes_a_dearer_move_wait_for_its_payment(event, ticket, dearer, after_commit, mailoutbox):
    rules(event)
    booking = paid_booking(ticket)

    pending = transfer(after_commit, booking, dearer)

    assert pending.status == Transfer.Status.PENDING and pending.difference == 1500
    booking.refresh_from_db()
    assert booking.event == event and booking.total == 2000
    assert mailoutbox == []


def test_paying_a_dearer_move_completes_it(event, ticket, other_event, dearer, after_commit, mailoutbox):
    rules(event)
    booking = paid_booking(ticket)
    pending = transfer(after_commit, booking, dearer)

    checkout = after_commit(
        services.transfer_start_payment, transfer=pending, success_url="/ok/", cancel_url="/back/"
    )

    assert checkout.paid
    pending.refresh_from_db()
    assert pending.status == Transfer.Status.COMPLETED
    assert pending.payment_reference == checkout.payment_reference
    booking.refresh_from_db()
    assert (booking.event, booking.total) == (other_event, 3500)
    assert not Refund.objects.exists()
    (message,) = mailoutbox
    assert "You paid the difference of £15.00" in message.body


def test_paying_twice_completes_once(event, ticket, dearer, after_commit, mailoutbox):
    rules(event)
    booking = paid_booking(ticket)
    pending = transfer(after_commit, booking, dearer)

    after_commit(services.transfer_complete_payment, transfer=pending, payment_reference="pi_extra")
    after_commit(services.transfer_complete_payment, transfer=pending, payment_reference="pi_extra")

    booking.refresh_from_db()
    assert booking.total == 3500 and len(mailoutbox) == 1


def test_when_the_seats_went_while_paying_the_move_fails_and_the_extra_payment_is_refunded(
    event, ticket, other_event, dearer, after_commit, mailoutbox
):
    rules(event)
    booking = paid_booking(ticket)
    pending = transfer(after_commit, booking, dearer)
    other_event.capacity = 1
    other_event.save()
    paid_booking(dearer)  # someone else took the last seat meanwhile

    with mock.patch.object(OfflineGateway, "refund", autospec=True, return_value="re_extra") as refund_call:
        done = after_commit(
            services.transfer_complete_payment, transfer=pending, payment_reference="pi_extra"
        )

    assert done.status == Transfer.Status.FAILED and done.failure
    refund = Refund.objects.get(transfer=done)
    assert (refund.reason, refund.method, refund.amount) == (Refund.Reason.TRANSFER, "original", 1500)
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund_call.call_args.kwargs["payment_reference"] == "pi_extra"  # not the booking's payment
    booking.refresh_from_db()
    assert (booking.event, booking.total) == (event, 2000)
    # Not announced as a move: the booker is told it failed and that the payment is coming back.
    (email,) = mailoutbox
    assert email.subject.startswith("Not moved:")
    assert "We are refunding" in email.body


def test_a_move_that_failed_while_paying_tells_the_booker_their_payment_is_refunded(
    event, ticket, other_event, dearer, after_commit
):
    rules(event)
    booking = paid_booking(ticket)
    pending = transfer(after_commit, booking, dearer)
    other_event.capacity = 0
    other_event.save()

    done = after_commit(services.transfer_complete_payment, transfer=pending, payment_reference="pi_extra")

    assert done.failure == str(ERRORS["transfer_seats_gone"])


def test_two_dearer_moves_paid_for_the_same_booking_complete_once_and_refund_the_other(
    event, ticket, dearer, other_event, after_commit
):
    rules(event)
    booking = paid_booking(ticket)
    first = transfer(after_commit, booking, dearer, key="tab-1")
    second = transfer(after_commit, booking, TicketTypeFactory(event=other_event, price=3000), key="tab-2")

    after_commit(services.transfer_complete_payment, transfer=first, payment_reference="pi_1")
    after_commit(services.transfer_complete_payment, transfer=second, payment_reference="pi_2")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Transfer.Status.COMPLETED, Transfer.Status.FAILED)
    assert second.failure == str(ERRORS["booking_changed"])
    assert Refund.objects.get(transfer=second).amount == 1000
    booking.refresh_from_db()
    assert booking.total == 3500


def test_a_dearer_move_paid_after_the_booker_cancelled_refunds_the_payment(
    event, ticket, dearer, after_commit
):
    rules(event)
    booking = paid_booking(ticket)
    pending = transfer(after_commit, booking, dearer)
    after_commit(services.booking_cancel, booking=booking)

    done = after_commit(services.transfer_complete_payment, transfer=pending, payment_reference="pi_late")

    assert done.status == Transfer.Status.FAILED
    assert Refund.objects.get(transfer=done).amount == 1500
    booking.refresh_from_db()
    assert booking.is_cancelled and booking.event == event


def test_cancelling_after_a_dearer_move_refunds_each_payment_no_more_than_it_took(
    event, ticket, dearer, after_commit
):
    rules(event)
    rules(dearer.event)
    booking = paid_booking(ticket)  # £20.00 on pi_original
    pending = transfer(after_commit, booking, dearer)
    after_commit(services.transfer_complete_payment, transfer=pending, payment_reference="pi_extra")  # £15.00
    booking.refresh_from_db()
    refunded: dict[str, int] = {}

    def refund(self, *, payment_reference, amount, idempotency_key):
        refunded[payment_reference] = refunded.get(payment_reference, 0) + amount
        return f"re_{len(refunded)}"

    with mock.patch.object(OfflineGateway, "refund", autospec=True, side_effect=refund):
        after_commit(services.booking_cancel, booking=booking)

    assert sum(refunded.values()) == 3500
    assert refunded.get("pi_original", 0) <= 2000 and refunded.get("pi_extra", 0) <= 1500


def test_the_organiser_boundary_holds_when_moving_between_same_named_things(
    other_organiser, event, ticket, after_commit
):
    rules(event)
    booking = paid_booking(ticket)
    theirs = TicketTypeFactory(event=EventFactory(organiser=other_organiser), price=2000)

    with pytest.raises(BookingError):
        transfer(after_commit, booking, theirs)

    assert not Attendee.objects.filter(ticket_type=theirs).exists()
    assert BookingFactory._meta.model.objects.get(pk=booking.pk).organiser == event.organiser
    assert AttendeeFactory._meta.model.objects.filter(booking=booking, ticket_type=ticket).count() == 1
