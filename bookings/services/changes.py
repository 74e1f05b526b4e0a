"""The booker's changes to a booking: cancelling it, and moving it to another ticket or event.

Lock order, everywhere: event rows (ascending pk), then the booking, then a pass or voucher row.
Two opposite moves, or a move racing a cancel, therefore queue instead of deadlocking.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from bookings import capacity, links, pricing, selectors
from bookings import rules as booking_rules
from bookings.exceptions import ERRORS, BookingError, EventFull
from bookings.models import (
    Attendee,
    Booking,
    BookingRules,
    CancelledTicket,
    Event,
    Refund,
    TicketCancellation,
    TicketGift,
    TicketType,
    Transfer,
)
from bookings.services import refunds, waiting_list
from bookings.services.booking import booking_lock
from bookings.services.gifts import booking_split_off
from bookings.tasks import booking_settle_cancellation as booking_settle_cancellation_task
from bookings.tasks import tickets_cancellation_settle as tickets_cancellation_settle_task
from bookings.tasks import transfer_settle as transfer_settle_task
from portal.payments import get_gateway


@transaction.atomic
def booking_cancel(
    *, booking: Booking, ticket_ids: Collection[int] | None = None, idempotency_key: str = ""
) -> Booking:
    """The booker cancels their booking, or only the tickets `ticket_ids` of it, as the
    organiser's rules allow it now.

    In one transaction: the refund is recorded by the rules (amount, method, fee), the booking
    is cancelled, its places go back to the event and are offered to the waiting list. After
    commit a task pays the refund and emails the booker. Posting it again (a double click, a
    replay) finds it cancelled and changes nothing.

    Some tickets (not all: choosing every ticket left cancels the booking): they leave the
    booking as one TicketCancellation, with their share of the money (`selectors.cancel_quote`;
    the fee is kept once for the cancellation), of the pass uses and of the voucher money; the
    booking keeps the rest. The same `idempotency_key` again changes nothing; tickets no longer
    on the booking (another cancellation took them) are refused.

    Raises BookingError with the reason the rules refuse, or Busy."""
    events = capacity.events_lock(booking.event_id)
    booking = booking_lock(booking)
    if idempotency_key and booking.ticket_cancellations.filter(idempotency_key=idempotency_key).exists():
        return booking
    if booking.is_cancelled and booking.cancelled_by == Booking.CancelledBy.BOOKER:
        return booking
    if booking.event_id not in events:
        raise BookingError(ERRORS["booking_changed"])
    event = events[booking.event_id]
    event.organiser = booking.organiser
    booking.event = event
    rules = booking_rules.rules_for_event(event=event)
    if reason := booking_rules.cancel_blocked_reason(booking=booking, rules=rules):
        raise BookingError(reason)
    if ticket_ids is not None:
        held = set(booking.attendees.values_list("pk", flat=True))
        if not ticket_ids:
            raise BookingError(ERRORS["no_tickets"])
        if not set(ticket_ids) <= held:
            raise BookingError(ERRORS["tickets_changed"])
        if set(ticket_ids) != held:
            _tickets_cancel(booking, rules, ticket_ids, idempotency_key)
            return booking
    _gifts_withdraw(booking)
    refund = refunds.refund_record(
        booking=booking, reason=Refund.Reason.BOOKER_CANCELLED, keep_fee=True, rules=rules
    )
    refunds.refund_give_back_pass_and_voucher(
        booking=booking, refund=refund, fee_left=rules.cancellation_fee - refund.fee_kept
    )
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_by = Booking.CancelledBy.BOOKER
    booking.cancelled_at = timezone.now()
    booking.save(update_fields=["status", "cancelled_by", "cancelled_at", "updated_at"])
    capacity.seats_count(event, taken=-booking.attendees.count())
    waiting_list.waiting_list_offer_places(event=event)
    transaction.on_commit(partial(booking_settle_cancellation_task.delay, booking.pk))
    return booking


def _gifts_withdraw(booking: Booking, attendee_ids: list[int] | None = None) -> None:
    """Offers to give away tickets that are leaving (cancelled, moved) can no longer be accepted.
    Call with the booking locked: an accept waits for the lock and then finds them withdrawn."""
    gifts = TicketGift.objects.filter(booking=booking, status=TicketGift.Status.PENDING)
    if attendee_ids is not None:
        gifts = gifts.filter(attendee_id__in=attendee_ids)
    gifts.update(status=TicketGift.Status.WITHDRAWN, updated_at=timezone.now())


def _tickets_cancel(
    booking: Booking, rules: BookingRules, ticket_ids: Collection[int], idempotency_key: str
) -> TicketCancellation:
    """Cancel some of the booking's tickets. Call with its event and the booking locked."""
    quote = selectors.cancel_quote(booking=booking, ticket_ids=ticket_ids, rules=rules)
    cancellation = TicketCancellation.objects.create(
        organiser_id=booking.organiser_id,
        booking=booking,
        idempotency_key=idempotency_key or uuid.uuid4().hex,
    )
    CancelledTicket.objects.bulk_create(
        CancelledTicket(
            organiser_id=booking.organiser_id,
            cancellation=cancellation,
            ticket_type_id=attendee.ticket_type_id,
            name=attendee.name,
            is_child=attendee.is_child,
            price=attendee.price,
            share=attendee.share,
        )
        for attendee in quote.tickets
    )
    refund = refunds.refund_record(
        booking=booking,
        reason=Refund.Reason.TICKETS_CANCELLED,
        rules=rules,
        cancellation=cancellation,
        paid=quote.card_share,
    )
    cancellation.pass_uses_back, cancellation.voucher_back = refunds.refund_give_back_pass_and_voucher(
        booking=booking,
        refund=refund,
        fee_left=rules.cancellation_fee - refund.fee_kept,
        uses=quote.uses,
        voucher_part=quote.voucher_share,
    )
    cancellation.save(update_fields=["pass_uses_back", "voucher_back", "updated_at"])
    _included_leave(booking, quote, cancellation)
    _gifts_withdraw(booking, [attendee.pk for attendee in quote.tickets])
    Attendee.objects.filter(pk__in=[attendee.pk for attendee in quote.tickets]).delete()
    booking.total -= quote.card_share
    booking.discount -= quote.discount_share
    booking.save(update_fields=["total", "discount", "included_amount", "included_reason", "updated_at"])
    capacity.seats_count(booking.event, taken=-len(quote.tickets))
    waiting_list.waiting_list_offer_places(event=booking.event)
    transaction.on_commit(partial(tickets_cancellation_settle_task.delay, cancellation.pk))
    return cancellation


def _included_leave(booking: Booking, quote: selectors.CancelQuote, cancellation: TicketCancellation) -> None:
    """The cancelled tickets a member's included bookings paid for: exactly those go back to the
    membership (`quote.included_back`), unless the rules refund nothing; then they stay spent,
    booked to the cancellation rather than the booking (a later cancel of the rest never gives
    them back). The booking's `included_amount` loses their prices (saved by the caller)."""
    leaving = [attendee for attendee in quote.tickets if attendee.included]
    if not leaving:
        return
    if quote.included_back:
        cancellation.included_back = pricing.included_give_back(booking=booking, tickets=quote.included_back)
        cancellation.save(update_fields=["included_back", "updated_at"])
    else:
        pricing.included_hand_over(
            booking=booking, to_reference=f"{booking.reference}-C{cancellation.pk}", tickets=len(leaving)
        )
    booking.included_amount = max(booking.included_amount - sum(a.price for a in leaving), 0)
    staying = booking.attendees.filter(included=True).exclude(pk__in=[a.pk for a in leaving]).count()
    booking.included_reason = pricing.included_reason(booking=booking, tickets=staying) if staying else ""


@transaction.atomic
def transfer_create(
    *,
    booking: Booking,
    ticket_type: TicketType,
    idempotency_key: str,
    from_event: Event | None = None,
    ticket_ids: Collection[int] | None = None,
) -> Transfer:
    """The booker moves their booking (every ticket of it, or only `ticket_ids`) to
    `ticket_type`, as the rules allow: another event, or another ticket type of the same event.

    Both events are locked (ascending pk) and then the booking, so seats are counted once and
    two moves of the same booking queue. `from_event` is the event the booker saw: if the booking
    has moved since, nothing happens (BookingError). Some of the tickets: they are first split
    off into a booking of their own (`booking_split_off`, with their share of the money; its own
    reference), which is what moves and what the returned transfer is of; the rest stay. A move
    that costs the same or less completes here (a cheaper one records its refund; a task pays it
    and emails the booker after commit); a dearer one is returned PENDING for
    `transfer_start_payment` (the split stays if the payment never comes: those tickets keep
    their place at the first event, as a booking of their own). The same idempotency key
    returns the first transfer. Raises BookingError, EventFull or Busy.
    """
    replay = _transfer_replay(booking, idempotency_key)
    if replay:
        return replay
    from_event_id = from_event.pk if from_event else booking.event_id
    events = capacity.events_lock(from_event_id, ticket_type.event_id)
    booking = booking_lock(booking)
    replay = _transfer_replay(booking, idempotency_key)
    if replay:
        return replay
    if booking.event_id != from_event_id:
        raise BookingError(ERRORS["booking_changed"])
    booking.event = _with_organiser(events[booking.event_id], booking)
    if ticket_ids is not None:
        booking = _split_for_move(booking, ticket_ids, idempotency_key)
    ticket_type = TicketType.objects.get(pk=ticket_type.pk)
    ticket_type.event = _with_organiser(events[ticket_type.event_id], booking)
    quote = selectors.transfer_quote(booking=booking, ticket_type=ticket_type)
    _check_room_for_move(booking, ticket_type, quote.seats)
    transfer = Transfer.objects.create(
        organiser_id=booking.organiser_id,
        booking=booking,
        from_event_id=booking.event_id,
        to_event=ticket_type.event,
        to_ticket_type=ticket_type,
        old_total=booking.total,
        new_total=quote.new_total,
        new_discount=quote.new_discount,
        new_discount_reason=quote.new_discount_reason,
        idempotency_key=idempotency_key,
    )
    if quote.to_pay == 0:
        _transfer_apply(transfer, booking, quote)
    return transfer


def _split_key(booking: Booking, idempotency_key: str) -> str:
    """The key of the booking a move of some tickets splits off: found again on a replay."""
    digest = salted_hmac("bookings.move-split", f"{booking.pk}:{idempotency_key}", algorithm="sha256")
    return "move-" + digest.hexdigest()[:40]


def _transfer_replay(booking: Booking, idempotency_key: str) -> Transfer | None:
    replay = Transfer.objects.filter(booking=booking, idempotency_key=idempotency_key).first()
    if replay is None:
        split = Booking.objects.filter(
            organiser_id=booking.organiser_id, idempotency_key=_split_key(booking, idempotency_key)
        ).first()
        if split is not None:
            replay = Transfer.objects.filter(booking=split, idempotency_key=idempotency_key).first()
    return replay


def _split_for_move(booking: Booking, ticket_ids: Collection[int], idempotency_key: str) -> Booking:
    """The booking that moves: `booking` when every ticket goes, else a booking split off for
    `ticket_ids` (refused as the whole move would be, before anything is split). Call with the
    events and the booking locked."""
    held = set(booking.attendees.values_list("pk", flat=True))
    if not ticket_ids:
        raise BookingError(ERRORS["no_tickets"])
    if not set(ticket_ids) <= held:
        raise BookingError(ERRORS["tickets_changed"])
    if set(ticket_ids) == held:
        return booking
    if reason := booking_rules.transfer_blocked_reason(
        booking=booking, rules=booking_rules.rules_for_event(event=booking.event)
    ):
        raise BookingError(reason)
    _gifts_withdraw(booking, list(ticket_ids))
    split = booking_split_off(
        booking=booking,
        attendees=list(booking.attendees.filter(pk__in=ticket_ids).order_by("pk")),
        name=booking.booker_name,
        email=booking.booker_email,
        user=booking.user,
        idempotency_key=_split_key(booking, idempotency_key),
    )
    split = booking_lock(split)
    split.event = booking.event
    return split


def _with_organiser(event: Event, booking: Booking) -> Event:
    """A locked event, knowing its organiser (the booking's: a move stays with one organiser)."""
    if event.organiser_id == booking.organiser_id:
        event.organiser = booking.organiser
    return event


def _check_room_for_move(booking: Booking, ticket_type: TicketType, seats: int) -> None:
    """Raise EventFull unless the booking's tickets fit `ticket_type`. Call with the events locked."""
    same_event = ticket_type.event_id == booking.event_id
    capacity.seats_check(ticket_type.event, [ticket_type] * seats, moving=booking if same_event else None)


def _transfer_apply(transfer: Transfer, booking: Booking, quote: selectors.TransferQuote) -> None:
    """Move the booking. Call with both events and the booking locked, inside the transaction."""
    now = timezone.now()
    from_event = booking.event
    _gifts_withdraw(booking)
    booking.attendees.update(
        ticket_type=quote.ticket_type,
        price=quote.ticket_type.price,
        attendance=Attendee.Attendance.UNMARKED,
        updated_at=now,
    )
    booking.event = quote.to_event
    booking.total = booking.total + quote.to_pay - quote.refund_amount
    booking.discount = quote.new_discount
    booking.discount_reason = quote.new_discount_reason
    if booking.included_amount and not quote.new_included_amount:
        pricing.included_give_back(booking=booking)  # the new tickets are free: they go back
        booking.attendees.update(included=False)
    booking.included_amount = quote.new_included_amount
    booking.included_reason = quote.new_included_reason
    # Links sent before the move stop working; the email about it carries a fresh one.
    booking.link_secret = links.secret_after_transfer(booking.link_secret, transfer.pk)
    booking.save(
        update_fields=[
            *("event", "total", "discount", "discount_reason", "included_amount", "included_reason"),
            *("link_secret", "updated_at"),
        ]
    )
    transfer.status = Transfer.Status.COMPLETED
    transfer.completed_at = now
    transfer.save(update_fields=["status", "completed_at", "updated_at"])
    if quote.refund_amount:
        Refund.objects.create(
            organiser_id=booking.organiser_id,
            booking=booking,
            transfer=transfer,
            reason=Refund.Reason.TRANSFER,
            method=quote.refund_method,
            amount=quote.refund_amount,
            currency=booking.currency,
        )
    if from_event.pk != booking.event_id:
        capacity.seats_count(from_event, taken=-quote.seats)
        capacity.seats_count(booking.event, taken=quote.seats)
        waiting_list.waiting_list_offer_places(event=from_event)
    transaction.on_commit(partial(transfer_settle_task.delay, transfer.pk))


def transfer_start_payment(*, transfer: Transfer, success_url: str, cancel_url: str):
    """Take the price difference of a dearer move. Runs outside any transaction (Stripe is
    slow); the offline gateway pays at once and the move completes here, Stripe's Checkout
    completes it through its webhook. Raises PaymentError."""
    booking = transfer.booking
    checkout = get_gateway().start_checkout(
        amount=transfer.difference,
        currency=booking.currency,
        description=f"Move {booking.reference} to {transfer.to_event.title}",
        customer_email=booking.booker_email,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"transfer-{transfer.pk}-payment",
        metadata={"transfer": str(transfer.pk), "organiser": booking.organiser.slug},
    )
    if checkout.paid:
        transfer_complete_payment(transfer=transfer, payment_reference=checkout.payment_reference)
    return checkout


@transaction.atomic
def transfer_complete_payment(*, transfer: Transfer, payment_reference: str) -> Transfer:
    """The extra payment for a dearer move is in: make the move. If the booking or the seats
    changed meanwhile the transfer FAILS and the payment is refunded. Safe to call twice."""
    transfer = Transfer.objects.get(pk=transfer.pk)
    events = capacity.events_lock(transfer.from_event_id, transfer.to_event_id)
    booking = booking_lock(transfer.booking)
    transfer = (
        Transfer.objects.select_for_update(of=("self",)).select_related("to_ticket_type").get(pk=transfer.pk)
    )
    if transfer.status != Transfer.Status.PENDING:
        return transfer
    transfer.payment_reference = payment_reference
    ticket_type = transfer.to_ticket_type
    ticket_type.event = _with_organiser(events[transfer.to_event_id], booking)
    try:
        if booking.event_id != transfer.from_event_id or booking.total != transfer.old_total:
            raise BookingError(ERRORS["booking_changed"])
        booking.event = _with_organiser(events[booking.event_id], booking)
        quote = selectors.transfer_quote(booking=booking, ticket_type=ticket_type)
        _check_room_for_move(booking, ticket_type, quote.seats)
    except EventFull:
        _transfer_fail(transfer, str(ERRORS["transfer_seats_gone"]))
        return transfer
    except BookingError as exc:
        _transfer_fail(transfer, str(exc.message))
        return transfer
    transfer.save(update_fields=["payment_reference", "updated_at"])
    _transfer_apply(transfer, booking, quote)
    return transfer


def _transfer_fail(transfer: Transfer, why: str) -> None:
    transfer.status = Transfer.Status.FAILED
    transfer.failure = why[:300]
    transfer.save(update_fields=["status", "failure", "payment_reference", "updated_at"])
    Refund.objects.create(
        organiser_id=transfer.organiser_id,
        booking_id=transfer.booking_id,
        transfer=transfer,
        reason=Refund.Reason.TRANSFER,
        method=BookingRules.RefundMethod.ORIGINAL,
        amount=transfer.difference,
        currency=transfer.booking.currency,
    )
    transaction.on_commit(partial(transfer_settle_task.delay, transfer.pk))


def transfer_checkout_event(event_type: str, session: dict) -> None:
    """Stripe told us about a dearer move's Checkout Session. Paid: complete the move. Expired:
    the transfer simply stays unpaid (nothing was held). Idempotent."""
    transfer_id = (session.get("metadata") or {}).get("transfer")
    if not transfer_id or not str(transfer_id).isdigit():
        return
    transfer = Transfer.objects.filter(pk=int(transfer_id)).first()
    if transfer and event_type == "checkout.session.completed" and session.get("payment_status") == "paid":
        transfer_complete_payment(
            transfer=transfer, payment_reference=session.get("payment_intent") or session["id"]
        )
