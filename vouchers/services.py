"""Gift vouchers: the writes. Buying, issuing, account credit, spending at booking, giving back.

The voucher row holds the money (its balance), so every change to `balance` happens under
`select_for_update` on that row. Booking locks the event row first, then the voucher: always
in that order. Amounts are integers in minor units; nothing here ever sees a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking, BookingRules, Refund
from bookings.pricing import voucher_share
from portal.dates import local_date
from portal.exceptions import PortalError
from portal.locking import lock_timeout
from portal.models import Organiser
from portal.money import format_money
from portal.payments import get_gateway
from vouchers.models import Voucher, VoucherRedemption, normalise_code

# Bought vouchers and account credit last a year; organisers choose for the ones they issue.
VALIDITY = timedelta(days=365)
# Wrong codes a client may try per hour at booking, with one booker email and in all (see
# `portal.ratelimit`): guessing 80 bits is hopeless, and this keeps it so. A right code never
# counts, and a stranger's wrong guesses with a booker's email spend only the stranger's budget.
CODE_FAILURES_PER_HOUR = 10
CODE_FAILURE_LIMITS = {"per_pair": CODE_FAILURES_PER_HOUR, "per_client": 3 * CODE_FAILURES_PER_HOUR}
# Bought vouchers: whole currency units between these (2500 is 25.00).
MIN_VALUE, MAX_VALUE = 500, 50000


class VoucherError(PortalError):
    default_message = _("This voucher can't be used just now.")


ERRORS = {
    "not_offered": _("%(organiser)s doesn't sell gift vouchers."),
    "bad_value": _("Choose a value between %(min)s and %(max)s."),
    "not_found": _("We don't know that voucher code. Check it and try again."),
    "other_organiser": _("This voucher is for %(organiser)s, so it can't be used here."),
    "not_paid": _("This voucher hasn't been paid for yet."),
    "void": _("This voucher has been cancelled."),
    "expired": _("This voucher expired on %(date)s."),
    "used_up": _("This voucher has been used up."),
    "currency": _("This voucher is in %(currency)s and can't pay for this booking."),
    "nothing_to_pay": _("This booking has nothing left to pay."),
    "too_many_attempts": _("Too many voucher codes tried. Please wait an hour and try again."),
}


@dataclass(frozen=True)
class VoucherPurchase:
    voucher: Voucher
    redirect_url: str = ""  # where to send the buyer (Stripe Checkout), or "" when already paid


def _lock(voucher: Voucher) -> Voucher:
    with lock_timeout():
        return Voucher.objects.select_for_update(of=("self",)).select_related("organiser").get(pk=voucher.pk)


def _email_on_commit(voucher: Voucher) -> None:
    from vouchers.tasks import voucher_send_code

    transaction.on_commit(partial(voucher_send_code.delay, voucher.pk))


# Buying and issuing ---------------------------------------------------------------------------


def voucher_buy(
    *,
    user,
    organiser: Organiser,
    value: int,
    recipient_name: str,
    recipient_email: str,
    message: str = "",
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
) -> VoucherPurchase:
    """Buy a gift voucher worth `value` (minor units) for a recipient.

    Recorded as awaiting payment first (the same key twice finds the same voucher), then the
    gateway is asked for the money outside any transaction. Offline it pays at once; Stripe's
    webhook activates it later (`voucher_checkout_event`). Once paid, the code is emailed to the
    recipient (or to the buyer, when no recipient email is given) by a Celery task.
    Raises VoucherError (not offered, value out of range) or PaymentError.
    """
    if not organiser.offers_paid_products:
        raise VoucherError(ERRORS["not_offered"] % {"organiser": organiser.name})
    if not MIN_VALUE <= value <= MAX_VALUE:
        raise VoucherError(
            ERRORS["bad_value"]
            % {
                "min": format_money(MIN_VALUE, organiser.currency),
                "max": format_money(MAX_VALUE, organiser.currency),
            }
        )
    try:
        with transaction.atomic():
            voucher, _created = Voucher.objects.get_or_create(
                organiser=organiser,
                idempotency_key=idempotency_key,
                defaults={
                    "source": Voucher.Source.BOUGHT,
                    "status": Voucher.Status.PENDING,
                    "value": value,
                    "balance": value,
                    "currency": organiser.currency,
                    "buyer": user,
                    "buyer_email": user.email,
                    "recipient_name": recipient_name,
                    "recipient_email": recipient_email.lower(),
                    "message": message,
                },
            )
    except IntegrityError:  # the same form posted twice at once: the other request made it
        voucher = Voucher.objects.get(organiser=organiser, idempotency_key=idempotency_key)
    if voucher.buyer_id != user.pk:
        raise VoucherError(ERRORS["not_offered"] % {"organiser": organiser.name})
    if voucher.status != Voucher.Status.PENDING:
        return VoucherPurchase(voucher=voucher)
    checkout = get_gateway().start_checkout(
        amount=voucher.value,
        currency=voucher.currency,
        description=f"Gift voucher ({organiser.name})",
        customer_email=user.email,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"voucher-{voucher.public_id}-payment",
        metadata={"voucher": str(voucher.public_id), "organiser": organiser.slug},
    )
    if checkout.paid:
        voucher_confirm_payment(voucher=voucher, payment_reference=checkout.payment_reference)
        voucher.refresh_from_db()
    return VoucherPurchase(voucher=voucher, redirect_url="" if checkout.paid else checkout.redirect_url)


@transaction.atomic
def voucher_confirm_payment(*, voucher: Voucher, payment_reference: str) -> bool:
    """Activate a bought voucher once its payment is in and, after commit, email its code (to
    the recipient) and the purchase with its receipt (to the buyer).
    Safe to call twice: only the call that moves it from pending does anything."""
    now = timezone.now()
    moved = Voucher.objects.filter(pk=voucher.pk, status=Voucher.Status.PENDING).update(
        status=Voucher.Status.ACTIVE,
        paid_at=now,
        expires_at=now + VALIDITY,
        payment_reference=payment_reference,
        updated_at=now,
    )
    if moved:
        from vouchers.tasks import voucher_send_purchase

        _email_on_commit(voucher)
        # The buyer's own email, with the receipt (the code goes to the recipient).
        transaction.on_commit(partial(voucher_send_purchase.delay, voucher.pk))
    return bool(moved)


def voucher_checkout_event(event_type: str, session: dict) -> None:
    """Stripe told us about a voucher's Checkout Session (payment mode): paid activates it,
    expired unpaid cancels it. Both are no-ops the second time."""
    metadata = session.get("metadata") or {}
    if metadata.get("voucher"):
        voucher = Voucher.objects.filter(public_id=metadata["voucher"]).first()
        if voucher is None:
            return
        if event_type == "checkout.session.completed" and session.get("payment_status") == "paid":
            voucher_confirm_payment(
                voucher=voucher, payment_reference=session.get("payment_intent") or session["id"]
            )
        elif event_type == "checkout.session.expired":
            Voucher.objects.filter(pk=voucher.pk, status=Voucher.Status.PENDING).update(
                status=Voucher.Status.VOID, updated_at=timezone.now()
            )


@transaction.atomic
def voucher_issue(
    *,
    organiser: Organiser,
    value: int,
    recipient_name: str = "",
    recipient_email: str = "",
    message: str = "",
    expires_at=None,
) -> Voucher:
    """An organiser gives a voucher away (admin). Active at once; its code is emailed to the
    recipient after commit when an email is given. Raises VoucherError for a zero value."""
    if value <= 0:
        raise VoucherError(ERRORS["bad_value"] % {"min": 1, "max": "any amount"})
    voucher = Voucher(
        organiser=organiser,
        source=Voucher.Source.ISSUED,
        status=Voucher.Status.ACTIVE,
        value=value,
        balance=value,
        currency=organiser.currency,
        recipient_name=recipient_name,
        recipient_email=recipient_email.lower(),
        message=message,
        expires_at=expires_at,
        paid_at=timezone.now(),
    )
    voucher.full_clean()
    voucher.save()
    if voucher.recipient_email:
        _email_on_commit(voucher)
    return voucher


@transaction.atomic
def voucher_issue_for_credit(*, refund: Refund) -> Voucher | None:
    """Turn a refund given "as account credit" into a voucher for the booker, worth the
    refund's amount and spendable with the same organiser for a year. Its code is emailed after
    commit. Idempotent: one voucher per refund, and a second call returns the first. Returns
    None for a refund that is not credit or is worth nothing."""
    if refund.method != BookingRules.RefundMethod.CREDIT or not refund.amount:
        return None
    existing = Voucher.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    booking = refund.booking
    now = timezone.now()
    voucher = Voucher.objects.create(
        organiser_id=refund.organiser_id,
        source=Voucher.Source.CREDIT,
        status=Voucher.Status.ACTIVE,
        value=refund.amount,
        balance=refund.amount,
        currency=refund.currency,
        buyer_id=booking.user_id,
        buyer_email=booking.booker_email,
        recipient_name=booking.booker_name,
        recipient_email=booking.booker_email,
        message=f"Credit for booking {booking.reference}",
        refund=refund,
        paid_at=now,
        expires_at=now + VALIDITY,
    )
    _email_on_commit(voucher)
    return voucher


# Spending -------------------------------------------------------------------------------------


@transaction.atomic
def voucher_redeem(*, code: str, booking: Booking, amount: int) -> VoucherRedemption:
    """Pay up to `amount` (minor units) of `booking` from the voucher with `code`.

    The voucher pays what it can: the least of `amount`, its balance and what the booking still
    owes. The booking's total drops by that much; a booking paid in full is confirmed with the
    voucher as its payment method, otherwise the rest is paid by card as usual. Locks the
    voucher row and checks again under the lock, so one balance is never spent twice.
    Call it inside the booking's transaction, after the event row is locked.
    Raises VoucherError: unknown code, another organiser's, not paid or cancelled, expired,
    used up, another currency, nothing to pay.
    """
    booking = Booking.objects.select_related("organiser").get(pk=booking.pk)
    voucher = Voucher.objects.filter(code=normalise_code(code)).only("pk").first()
    if voucher is None:
        raise VoucherError(ERRORS["not_found"])
    voucher = _lock(voucher)
    if voucher.organiser_id != booking.organiser_id:
        raise VoucherError(ERRORS["other_organiser"] % {"organiser": voucher.organiser.name})
    if voucher.status == Voucher.Status.PENDING:
        raise VoucherError(ERRORS["not_paid"])
    if voucher.status == Voucher.Status.VOID:
        raise VoucherError(ERRORS["void"])
    if voucher.is_expired:
        raise VoucherError(ERRORS["expired"] % {"date": local_date(voucher.expires_at, voucher.organiser)})
    if voucher.balance == 0:
        raise VoucherError(ERRORS["used_up"])
    if voucher.currency != booking.currency:
        raise VoucherError(ERRORS["currency"] % {"currency": voucher.currency})
    if booking.status != Booking.Status.PENDING or not booking.total:
        raise VoucherError(ERRORS["nothing_to_pay"])
    taken = voucher_share(balance=voucher.balance, due=min(int(amount), booking.total))
    if taken <= 0:
        raise VoucherError(ERRORS["nothing_to_pay"])

    voucher.balance -= taken
    voucher.save(update_fields=["balance", "updated_at"])
    redemption = VoucherRedemption.objects.create(
        organiser_id=voucher.organiser_id, voucher=voucher, booking=booking, amount=taken
    )
    booking.total -= taken
    fields = ["total", "updated_at"]
    if booking.total == 0:
        booking.payment_method = Booking.PaymentMethod.VOUCHER
        booking.status = Booking.Status.CONFIRMED
        fields += ["payment_method", "status"]
    booking.save(update_fields=fields)
    return redemption


@transaction.atomic
def voucher_return(*, booking: Booking, keep: int = 0, part: int | None = None) -> int:
    """Put what a booking spent from a voucher back on it (the booking was cancelled and the
    rules give the booker their payment back), less `keep` (a cancellation fee, minor units).
    With `part`, only that much of what it spent goes back (some of its tickets were cancelled):
    the booking's remaining tickets keep the rest, for a later cancellation to give back.
    Returns the amount put back: the first call does it, every later call returns 0. The
    balance never grows past the voucher's value; an expired voucher gets it back all the same."""
    redemption = VoucherRedemption.objects.filter(booking=booking, returned_at__isnull=True).first()
    if redemption is None or part == 0:
        return 0
    voucher = _lock(redemption.voucher)
    spent = redemption.amount if part is None else min(int(part), redemption.amount)
    now = timezone.now()
    unreturned = VoucherRedemption.objects.filter(pk=redemption.pk, returned_at__isnull=True)
    # Conditional: a second caller that waited on the voucher lock finds it already returned.
    if spent == redemption.amount:
        done = unreturned.update(returned_at=now, updated_at=now)
    else:
        done = unreturned.filter(amount=redemption.amount).update(amount=F("amount") - spent, updated_at=now)
    if not done:
        return 0
    back = min(max(spent - max(int(keep), 0), 0), voucher.value - voucher.balance)
    voucher.balance += back
    voucher.save(update_fields=["balance", "updated_at"])
    return back
