"""Refunds: what a cancelled or moved booking gets back, how, and paying it.

A refund is recorded in the transaction that cancels or moves (`refund_record`), and paid after
commit by a task (`refund_pay`, `booking_settle_cancellation`): the gateway is never called with
a row locked.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bookings import emails, pricing
from bookings import rules as booking_rules
from bookings.exceptions import ERRORS, BookingError
from bookings.models import AccountCredit, Booking, BookingRules, Refund, TicketCancellation, Transfer
from bookings.tasks import booking_settle_cancellation as booking_settle_cancellation_task
from bookings.tasks import refund_pay as refund_pay_task
from passes.services import pass_return_use
from portal.exceptions import PaymentError
from portal.locking import lock_timeout
from portal.payments import get_gateway
from vouchers.services import voucher_issue_for_credit, voucher_return

logger = logging.getLogger(__name__)


def refund_record(
    *,
    booking: Booking,
    reason: str = Refund.Reason.BOOKER_CANCELLED,
    keep_fee: bool = True,
    rules: BookingRules | None = None,
    method: str | None = None,
    cancellation: TicketCancellation | None = None,
    paid: int | None = None,
) -> Refund:
    """Decide and record what `booking` gets back, without paying it yet (see `refund_pay`).

    The method is `method`, else the event's rules' refund method; "to the original payment"
    becomes account credit when there is no card payment to give back (a pass, a voucher, no
    payment reference).
    With `keep_fee` the rules' cancellation fee is kept. For a `cancellation` of some tickets,
    `paid` is their share of the booking's total (else all of it is). Idempotent: an existing
    refund for this booking, reason and cancellation is returned unchanged. Call it inside the
    transaction that cancels.
    """
    existing = Refund.objects.filter(booking=booking, reason=reason, cancellation=cancellation).first()
    if existing is not None:
        return existing
    rules = rules or booking_rules.rules_for_event(event=booking.event)
    paid = booking.total if paid is None else paid
    if method is None:
        amount, fee = booking_rules.refund_amounts(rules=rules, total=paid, keep_fee=keep_fee)
        method = rules.refund_method
    else:  # the caller decides how (the organiser cancelled: all of it goes back)
        fee = min(rules.cancellation_fee, paid) if keep_fee else 0
        amount = paid - fee
    method = booking_rules.refund_method_for(booking=booking, method=method, amount=amount)
    return Refund.objects.create(
        organiser_id=booking.organiser_id,
        booking=booking,
        reason=reason,
        cancellation=cancellation,
        method=method,
        amount=amount,
        fee_kept=fee,
        currency=booking.currency,
    )


def refund_give_back_pass_and_voucher(
    *,
    booking: Booking,
    refund: Refund,
    fee_left: int,
    uses: int | None = None,
    voucher_part: int | None = None,
) -> tuple[int, int]:
    """Return what a cancelled booking spent from a member's included bookings, a pass (its
    uses) and a gift voucher (its money, less `fee_left`: the part of the cancellation fee the
    card refund could not cover), unless the rules give nothing back. For some of its tickets,
    only their `uses` and `voucher_part` go back (a booking with included bookings is never
    cancelled in part: `changes`). Once only; returns (uses, amount) given back. Call it in the
    cancelling transaction, after the event and booking locks (then the pass/voucher lock)."""
    if refund.method == BookingRules.RefundMethod.NONE:
        return 0, 0
    if uses is None and voucher_part is None:
        pricing.included_give_back(booking=booking)  # a member's included bookings (memberships)
    return (
        pass_return_use(booking=booking, uses=uses),
        voucher_return(booking=booking, keep=fee_left, part=voucher_part),
    )


def refund_payment_after_cancellation(*, booking: Booking, payment_reference: str) -> None:
    """The money for a cancelled booking came in after it was cancelled (an unknown payment: a
    known one is refunded by the cancellation's own rules). Call with the booking locked."""
    if booking.cancelled_by != Booking.CancelledBy.ORGANISER:
        # Only the organiser cancels an unpaid booking, and an expired Checkout cannot be paid.
        logger.error("bookings.payment.after_cancellation %s %s", booking.reference, payment_reference)
        return
    booking.payment_reference = payment_reference
    booking.save(update_fields=["payment_reference", "updated_at"])
    # The organiser's rules (fee, credit, no refund) are for bookings that were taken; this one
    # never was, so all of it goes back to the payment it came from.
    refund, _ = Refund.objects.get_or_create(
        booking=booking,
        reason=Refund.Reason.EVENT_CANCELLED,
        transfer=None,
        defaults={
            "organiser_id": booking.organiser_id,
            "method": BookingRules.RefundMethod.ORIGINAL,
            "amount": booking.total,
            "currency": booking.currency,
        },
    )
    refund_give_back_pass_and_voucher(booking=booking, refund=refund, fee_left=0)
    transaction.on_commit(partial(booking_settle_cancellation_task.delay, booking.pk))


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


_CANCELLATION_REASON = {
    Booking.CancelledBy.ORGANISER: Refund.Reason.EVENT_CANCELLED,
    Booking.CancelledBy.BOOKER: Refund.Reason.BOOKER_CANCELLED,
}


def booking_settle_cancellation(*, booking: Booking) -> None:
    """Pay the refund of a cancelled booking (by the organiser's event cancellation or by the
    booker), then email the booker once.

    Idempotent (run by a task that may run twice). Raises PaymentError while the refund fails,
    so the task retries; the email waits until the money has gone back."""
    refund = Refund.objects.filter(booking=booking, reason=_CANCELLATION_REASON[booking.cancelled_by]).first()
    if refund is not None and not refund.credit_offer_open:
        refund_pay(refund=refund)
    emails.booking_send_cancelled(booking=booking, refund=refund)


# The organiser cancelled and would rather give credit ------------------------------------------
#
# The law entitles the booker to their money back when the trader cancels; credit is fine only when
# the booker chooses it. So the refund is to the original payment, held for CREDIT_OFFER_DAYS while
# the cancellation email offers credit instead (one click), and paid to the card when the booker
# says so or the offer runs out (`refunds_pay_after_credit_offer`, on beat).

CREDIT_OFFER_DAYS = 7


def refund_credit_offer(*, refund: Refund) -> Refund:
    """Hold an organiser-cancellation card refund while the booker may take credit instead. Call
    in the cancelling transaction, before the settling task is queued."""
    if (
        refund.method == BookingRules.RefundMethod.ORIGINAL
        and refund.amount
        and refund.status == Refund.Status.PENDING
    ):
        refund.credit_offer_until = timezone.now() + timedelta(days=CREDIT_OFFER_DAYS)
        refund.save(update_fields=["credit_offer_until", "updated_at"])
    return refund


@transaction.atomic
def refund_credit_choose(*, refund: Refund, credit: bool) -> Refund:
    """The booker's answer to the offer of credit: credit (an account-credit voucher) or the card
    refund now. Only while the offer is open; afterwards (or a second time) nothing changes, and
    BookingError says where the money went. Paid by a task after commit."""
    with lock_timeout():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if not refund.credit_offer_open:
        raise BookingError(ERRORS["credit_offer_closed"])
    refund.credit_offer_until = None
    if credit:
        refund.method = BookingRules.RefundMethod.CREDIT
    refund.save(update_fields=["credit_offer_until", "method", "updated_at"])
    transaction.on_commit(partial(refund_pay_task.delay, refund.pk))
    return refund


def refunds_pay_after_credit_offer() -> int:
    """Pay to the card every refund whose offer of credit ran out unanswered. Returns how many."""
    due = Refund.objects.filter(
        status=Refund.Status.PENDING, credit_offer_until__isnull=False, credit_offer_until__lte=timezone.now()
    ).values_list("pk", flat=True)
    paid = 0
    for refund_id in list(due):
        with transaction.atomic():
            moved = Refund.objects.filter(
                pk=refund_id, credit_offer_until__lte=timezone.now(), status=Refund.Status.PENDING
            ).update(credit_offer_until=None, updated_at=timezone.now())
        if moved:
            refund_pay(refund=Refund.objects.get(pk=refund_id))
            paid += 1
    return paid
