"""Organiser-side writes: cancelling an event, refunding bookings, marking attendance.

The admin's actions and buttons call these; they never set status fields themselves.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings import rules as booking_rules
from bookings.models import AccountCredit, Attendee, Booking, BookingRules, Event, Refund, Transfer
from bookings.tasks import booking_settle_cancellation as booking_settle_cancellation_task
from passes.services import pass_return_use
from portal.emails import send_once, send_templated_email
from portal.exceptions import PaymentError, PortalError
from portal.locking import lock_timeout
from portal.models import Organiser
from portal.money import format_money
from portal.payments import get_gateway
from vouchers.services import voucher_issue_for_credit, voucher_return


class OrganiserError(PortalError):
    default_message = _("That could not be done.")


ERRORS = {
    "event_ended": _("“%(event)s” has already ended, so it can no longer be cancelled."),
    "no_tracking": _(
        "Attendance tracking is not switched on for %(organiser)s, so attendance can't be marked."
    ),
    "bad_attendance": _("Choose Attended, Did not attend or Not marked."),
}

# Payments the gateway can give back; anything else paid (a pass, a voucher) becomes account credit.
GATEWAY_PAYMENT_METHODS = {Booking.PaymentMethod.CARD, Booking.PaymentMethod.OFFLINE}


# Events ---------------------------------------------------------------------------------------


def event_cancel(*, event: Event) -> list[int]:
    """Cancel `event` and every booking of it; refund and email each paid-up booker once.

    Every confirmed booking is cancelled by the organiser (bookers find it in their Cancelled
    tab), gets a Refund by the rules in force for the event (no fee kept: the booker did nothing
    wrong), and after commit one task per booking pays the refund and sends the email. Bookings
    still awaiting payment are cancelled without either, as no money was taken.

    Safe to run twice: a cancelled event changes nothing, and the settling tasks of its bookings
    are queued again only while a refund is unpaid or an email unsent (so a second run retries
    a failed refund). Returns the ids of the bookings whose settling was queued.
    Raises OrganiserError if the event has already ended, Busy if the event is locked too long.
    """
    now = timezone.now()
    with transaction.atomic(), lock_timeout():
        # Lock the event first, as booking does, so no booking slips in while we cancel.
        event = Event.objects.select_for_update().get(pk=event.pk)
        if not event.is_cancelled:
            if event.ends_at <= now:
                raise OrganiserError(ERRORS["event_ended"] % {"event": event.title})
            event.status = Event.Status.CANCELLED
            event.cancelled_at = now
            event.save(update_fields=["status", "cancelled_at", "updated_at"])

        bookings = Booking.objects.for_organiser(event.organiser_id).filter(event=event)
        open_bookings = list(
            bookings.filter(status__in=[Booking.Status.CONFIRMED, Booking.Status.PENDING])
            .select_for_update()
            .order_by("pk")
        )
        rules = booking_rules.rules_for_event(event=event)
        for booking in open_bookings:
            was_confirmed = booking.status == Booking.Status.CONFIRMED
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_by = Booking.CancelledBy.ORGANISER
            booking.cancelled_at = now
            booking.save(update_fields=["status", "cancelled_by", "cancelled_at", "updated_at"])
            if was_confirmed:
                refund = refund_record(
                    booking=booking, reason=Refund.Reason.EVENT_CANCELLED, keep_fee=False, rules=rules
                )
                give_back_pass_and_voucher(booking=booking, refund=refund, fee_left=0)

        unsettled = list(
            Refund.objects.for_organiser(event.organiser_id)
            .filter(booking__event=event, reason=Refund.Reason.EVENT_CANCELLED)
            .filter(Q(status=Refund.Status.PENDING) | Q(booking__cancellation_sent_at__isnull=True))
            .order_by("booking_id")
            .values_list("booking_id", flat=True)
        )
        for booking_id in unsettled:
            transaction.on_commit(partial(booking_settle_cancellation_task.delay, booking_id))
    return unsettled


def booking_settle_cancellation(*, booking: Booking) -> None:
    """Pay the refund of a cancelled booking (by the organiser's event cancellation or by the
    booker), then email the booker once.

    Idempotent (run by a task that may run twice). Raises PaymentError while the refund fails,
    so the task retries; the email waits until the money has gone back."""
    refund = Refund.objects.filter(booking=booking, reason=_CANCELLATION_REASON[booking.cancelled_by]).first()
    if refund is not None:
        refund_pay(refund=refund)
    booking_send_cancelled(booking=booking, refund=refund)


_CANCELLATION_REASON = {
    Booking.CancelledBy.ORGANISER: Refund.Reason.EVENT_CANCELLED,
    Booking.CancelledBy.BOOKER: Refund.Reason.BOOKER_CANCELLED,
}
_CANCELLATION_EMAIL = {
    Booking.CancelledBy.ORGANISER: "bookings/email/event_cancelled",
    Booking.CancelledBy.BOOKER: "bookings/email/booking_cancelled",
}


def booking_send_cancelled(*, booking: Booking, refund: Refund | None) -> bool:
    """Email the booker that their booking is cancelled (by the organiser's event cancellation
    or by themselves). Sends once per booking; returns False when it had been sent already."""

    def send(cancelled: Booking) -> None:
        send_templated_email(
            template_prefix=_CANCELLATION_EMAIL[cancelled.cancelled_by],
            to=[cancelled.booker_email],
            reply_to=[cancelled.organiser.contact_email] if cancelled.organiser.contact_email else None,
            context=_cancelled_context(cancelled, refund),
        )

    cancelled = Booking.objects.filter(status=Booking.Status.CANCELLED).select_related("event", "organiser")
    return send_once(rows=cancelled, pk=booking.pk, sent_field="cancellation_sent_at", send=send)


def _cancelled_context(booking: Booking, refund: Refund | None) -> dict:
    organiser = booking.organiser
    return {
        "booking": booking,
        "event": booking.event,
        "organiser": organiser,
        "refund": refund,
        "refund_amount": format_money(refund.amount, refund.currency) if refund else "",
        "fee_kept": format_money(refund.fee_kept, refund.currency) if refund and refund.fee_kept else "",
        "portal_path": "/portal/events/?tab=cancelled",
    }


# Refunds --------------------------------------------------------------------------------------


def refund_record(
    *,
    booking: Booking,
    reason: str = Refund.Reason.BOOKER_CANCELLED,
    keep_fee: bool = True,
    rules: BookingRules | None = None,
) -> Refund:
    """Decide and record what `booking` gets back, without paying it yet (see `refund_pay`).

    The method is the event's rules' refund method; "to the original payment" becomes account
    credit when there is no card payment to give back (a pass, a voucher, no payment reference).
    With `keep_fee` the rules' cancellation fee is kept. Idempotent: an existing refund for this
    booking and reason is returned unchanged. Call it inside the transaction that cancels.
    """
    existing = Refund.objects.filter(booking=booking, reason=reason).first()
    if existing is not None:
        return existing
    rules = rules or booking_rules.rules_for_event(event=booking.event)
    amount, fee = booking_rules.refund_amounts(rules=rules, total=booking.total, keep_fee=keep_fee)
    method = refund_method_for(booking=booking, method=rules.refund_method, amount=amount)
    return Refund.objects.create(
        organiser_id=booking.organiser_id,
        booking=booking,
        reason=reason,
        method=method,
        amount=amount,
        fee_kept=fee,
        currency=booking.currency,
    )


def give_back_pass_and_voucher(*, booking: Booking, refund: Refund, fee_left: int) -> tuple[int, int]:
    """Return what a cancelled booking spent from a pass (its uses) and a gift voucher (its
    money, less `fee_left`: the part of the cancellation fee the card refund could not cover),
    unless the rules give nothing back. Once only; returns (uses, amount) given back. Call it in
    the cancelling transaction, after the event and booking locks (then the pass/voucher lock)."""
    if refund.method == BookingRules.RefundMethod.NONE:
        return 0, 0
    return pass_return_use(booking=booking), voucher_return(booking=booking, keep=fee_left)


def refund_method_for(*, booking: Booking, method: str, amount: int) -> str:
    """The rules' refund method, except that "to the original payment" becomes account credit
    when there is no card payment to give back (a pass, a voucher, no payment reference)."""
    if (
        method == BookingRules.RefundMethod.ORIGINAL
        and amount
        and (booking.payment_method not in GATEWAY_PAYMENT_METHODS or not booking.payment_reference)
    ):
        return BookingRules.RefundMethod.CREDIT
    return method


def _payments_to_refund(refund: Refund) -> list[tuple[str, int]]:
    """Which card payments give `refund.amount` back, and how much each: never more than a
    payment took. A failed transfer gives back its own extra payment. Otherwise the extra payments
    of dearer moves are refunded first (newest first), then the booking's original payment."""
    transfer = refund.transfer
    if transfer is not None and transfer.status == Transfer.Status.FAILED:
        return [(transfer.payment_reference, refund.amount)]
    booking = refund.booking
    extras = (
        Transfer.objects.filter(
            booking=booking, status=Transfer.Status.COMPLETED, new_total__gt=F("old_total")
        )
        .exclude(payment_reference="")
        .order_by("-completed_at", "-pk")
    )
    left, payments = refund.amount, []
    for extra in extras:
        if left and refund.transfer_id != extra.pk:
            taken = min(left, extra.difference)
            payments.append((extra.payment_reference, taken))
            left -= taken
    if left:
        payments.append((booking.payment_reference, left))
    return payments


def refund_pay(*, refund: Refund) -> Refund:
    """Give a recorded refund's money back: to the original payment through the gateway, or as
    account credit; a zero or "no refund" refund is simply marked done.

    Idempotent: a done refund is returned as it is, and the gateway always gets the same
    idempotency key for the same refund, so a retry never pays twice. Call it outside a
    transaction (it may talk to Stripe). Raises PaymentError when the gateway refuses; the
    refund stays pending with the error noted, and can be retried.
    """
    refund.refresh_from_db()
    if refund.status == Refund.Status.SUCCEEDED:
        return refund
    reference = ""
    if refund.amount and refund.method == BookingRules.RefundMethod.ORIGINAL:
        try:
            references = [
                get_gateway().refund(
                    payment_reference=payment_reference,
                    amount=amount,
                    # The first keeps the refund's own key, so refunds recorded before this split
                    # are never paid twice on retry.
                    idempotency_key=refund.idempotency_key + (f"-{n}" if n else ""),
                )
                for n, (payment_reference, amount) in enumerate(_payments_to_refund(refund))
            ]
            reference = " ".join(references)[:120]
        except PaymentError as exc:
            Refund.objects.filter(pk=refund.pk).update(
                last_error=str(exc.message)[:300], updated_at=timezone.now()
            )
            raise
    with transaction.atomic():
        refund = Refund.objects.select_related("booking").select_for_update(of=("self",)).get(pk=refund.pk)
        if refund.status == Refund.Status.SUCCEEDED:  # another worker got there first
            return refund
        if refund.amount and refund.method == BookingRules.RefundMethod.CREDIT:
            AccountCredit.objects.get_or_create(
                refund=refund,
                defaults={
                    "organiser_id": refund.organiser_id,
                    "user_id": refund.booking.user_id,
                    "email": refund.booking.booker_email,
                    "amount": refund.amount,
                    "currency": refund.currency,
                },
            )
            # The credit is spendable as a voucher (its code is emailed after commit).
            voucher_issue_for_credit(refund=refund)
        refund.status = Refund.Status.SUCCEEDED
        refund.gateway_reference = reference
        refund.last_error = ""
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "gateway_reference", "last_error", "completed_at", "updated_at"])
    return refund


def booking_refund(
    *,
    booking: Booking,
    reason: str = Refund.Reason.BOOKER_CANCELLED,
    keep_fee: bool = True,
    rules: BookingRules | None = None,
) -> Refund:
    """Record and pay a booking's refund in one call (`refund_record`, then `refund_pay`).

    For code already outside a transaction, e.g. a task after a booker's cancellation committed.
    Idempotent; raises PaymentError as `refund_pay` does."""
    with transaction.atomic():
        refund = refund_record(booking=booking, reason=reason, keep_fee=keep_fee, rules=rules)
    return refund_pay(refund=refund)


# Attendance -----------------------------------------------------------------------------------


def attendance_mark(*, organiser: Organiser, attendee_ids, attendance: str) -> int:
    """Mark attendees of `organiser` as attended, absent (did not attend) or unmarked.

    Only that organiser's attendees of confirmed bookings at events that have started are
    changed; other ids are ignored, never an error. Returns how many were changed.
    Raises OrganiserError when the organiser has no attendance tracking."""
    if not organiser.attendance_tracking:
        raise OrganiserError(ERRORS["no_tracking"] % {"organiser": organiser.name})
    if attendance not in Attendee.Attendance.values:
        raise OrganiserError(ERRORS["bad_attendance"])
    now = timezone.now()
    with transaction.atomic():
        return (
            Attendee.objects.for_organiser(organiser)
            .filter(
                pk__in=list(attendee_ids),
                booking__status=Booking.Status.CONFIRMED,
                booking__event__starts_at__lte=now,
            )
            .update(attendance=attendance, updated_at=now)
        )
