"""Passes: the writes. Buying a pass, spending its uses on bookings, and giving uses back.

The pass row holds the scarce resource (its uses), so every change to `uses_left` happens under
`select_for_update` on that row. Booking locks the event row first, then the pass: always in
that order, so two bookings never deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from passes.models import Pass, PassRedemption, PassType
from portal.dates import local_date
from portal.exceptions import PortalError
from portal.locking import lock_timeout
from portal.payments import get_gateway


class PassError(PortalError):
    default_message = _("This pass can't be used just now.")


ERRORS = {
    "not_offered": _("This pass is not on sale."),
    "other_organiser": _("This pass is for %(organiser)s, so it can't be used here."),
    "not_yours": _("This pass belongs to another account. Log in as its owner to use it."),
    "not_paid": _("This pass hasn't been paid for yet."),
    "void": _("This pass has been cancelled."),
    "expired": _("Your %(pass)s pass expired on %(date)s."),
    "outside_validity": _(
        "Your %(pass)s pass is valid from %(start)s to %(end)s; this event is outside those dates."
    ),
    "wrong_event": _("Your %(pass)s pass can't be used for “%(event)s”."),
    "used_up": _("Your %(pass)s pass has no uses left."),
    "too_few": _("Your %(pass)s pass has %(left)s use(s) left, but this booking needs %(needed)s."),
    "already_paid": _("This booking has nothing left to pay."),
}


@dataclass(frozen=True)
class PassPurchase:
    pass_: Pass
    redirect_url: str = ""  # where to send the buyer (Stripe Checkout), or "" when already paid


def _lock(pass_: Pass) -> Pass:
    with lock_timeout():
        return (
            Pass.objects.select_for_update(of=("self",))
            .select_related("pass_type", "organiser")
            .get(pk=pass_.pk)
        )


# Buying ---------------------------------------------------------------------------------------


def pass_buy(
    *, user, pass_type: PassType, success_url: str, cancel_url: str, idempotency_key: str
) -> PassPurchase:
    """Buy `pass_type` for `user` through the payment gateway.

    The pass is recorded as awaiting payment first (the same key twice finds the same pass),
    then the gateway is asked for the money outside any transaction. Offline it pays at once and
    the pass is active on return; Stripe answers with a Checkout page and its webhook activates
    the pass (`pass_checkout_event`). Raises PassError when the pass type is not on sale, and
    PaymentError when the gateway refuses.
    """
    organiser = pass_type.organiser
    if not organiser.offers_paid_products or not pass_type.is_offered:
        raise PassError(ERRORS["not_offered"])
    now = timezone.now()
    valid_from, valid_until = pass_type.validity_window(bought_at=now, tzinfo=organiser.tzinfo)
    if valid_until <= now:
        raise PassError(ERRORS["not_offered"])
    try:
        with transaction.atomic():
            pass_, _created = Pass.objects.get_or_create(
                organiser=organiser,
                idempotency_key=idempotency_key,
                defaults={
                    "pass_type": pass_type,
                    "user": user,
                    "buyer_email": user.email,
                    "uses_included": pass_type.uses_included,
                    "uses_left": pass_type.uses_included,
                    "valid_from": valid_from,
                    "valid_until": valid_until,
                    "price": pass_type.price,
                    "currency": organiser.currency,
                },
            )
    except IntegrityError:  # the same form posted twice at once: the other request made it
        pass_ = Pass.objects.get(organiser=organiser, idempotency_key=idempotency_key)
    if pass_.user_id != user.pk or pass_.pass_type_id != pass_type.pk:
        raise PassError(ERRORS["not_offered"])
    if pass_.status != Pass.Status.PENDING:
        return PassPurchase(pass_=pass_)
    if not pass_.price:
        pass_confirm_payment(pass_=pass_, payment_reference="")
        pass_.refresh_from_db()
        return PassPurchase(pass_=pass_)
    checkout = get_gateway().start_checkout(
        amount=pass_.price,
        currency=pass_.currency,
        description=f"{pass_type.name} ({organiser.name})",
        customer_email=user.email,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"pass-{pass_.code}-payment",
        metadata={"pass": str(pass_.code), "organiser": organiser.slug},
    )
    if checkout.paid:
        pass_confirm_payment(pass_=pass_, payment_reference=checkout.payment_reference)
        pass_.refresh_from_db()
    return PassPurchase(pass_=pass_, redirect_url="" if checkout.paid else checkout.redirect_url)


@transaction.atomic
def pass_confirm_payment(*, pass_: Pass, payment_reference: str) -> bool:
    """Activate a pass once its payment is in (a pass that lasts a number of days starts now) and
    email the buyer its receipt after commit. Safe to call twice: only the call that moves it from
    pending changes anything."""
    from passes.tasks import pass_send_purchase

    locked = _lock(pass_)
    if locked.status != Pass.Status.PENDING:
        return False
    now = timezone.now()
    locked.valid_from, locked.valid_until = locked.pass_type.validity_window(
        bought_at=now, tzinfo=locked.organiser.tzinfo
    )
    locked.status = Pass.Status.ACTIVE
    locked.paid_at = now
    locked.payment_reference = payment_reference
    locked.save(
        update_fields=["valid_from", "valid_until", "status", "paid_at", "payment_reference", "updated_at"]
    )
    transaction.on_commit(partial(pass_send_purchase.delay, locked.pk))
    return True


def pass_checkout_event(event_type: str, session: dict) -> None:
    """Stripe told us about a pass's Checkout Session (payment mode): paid activates the pass,
    expired unpaid cancels it. Both are no-ops the second time."""
    code = (session.get("metadata") or {}).get("pass")
    pass_ = Pass.objects.filter(code=code).first() if code else None
    if pass_ is None:
        return
    if event_type == "checkout.session.completed" and session.get("payment_status") == "paid":
        pass_confirm_payment(pass_=pass_, payment_reference=session.get("payment_intent") or session["id"])
    elif event_type == "checkout.session.expired":
        Pass.objects.filter(pk=pass_.pk, status=Pass.Status.PENDING).update(
            status=Pass.Status.VOID, updated_at=timezone.now()
        )


# Spending -------------------------------------------------------------------------------------


def pass_covers_event(pass_type: PassType, event) -> bool:
    if pass_type.scope == PassType.Scope.ALL_EVENTS:
        return True
    return pass_type.events.filter(pk=event.pk).exists()


@transaction.atomic
def pass_redeem(*, pass_: Pass, booking: Booking) -> PassRedemption:
    """Pay for `booking` with uses of `pass_`: one use per ticket. The booking is then paid in
    full (total 0, payment method pass) and confirmed.

    Locks the pass row and checks again under the lock, so two bookings never spend the last
    use twice. Call it inside the booking's transaction, after the event row is locked.
    Raises PassError: another organiser's pass, someone else's pass, not paid or cancelled,
    expired or the event outside its dates, an event it doesn't cover, not enough uses left.
    """
    booking = Booking.objects.select_related("event", "organiser").get(pk=booking.pk)
    locked = _lock(pass_)
    name = locked.pass_type.name
    if locked.organiser_id != booking.organiser_id:
        raise PassError(ERRORS["other_organiser"] % {"organiser": locked.organiser.name})
    if booking.user_id is None or locked.user_id != booking.user_id:
        raise PassError(ERRORS["not_yours"])
    if locked.status == Pass.Status.PENDING:
        raise PassError(ERRORS["not_paid"])
    if locked.status == Pass.Status.VOID:
        raise PassError(ERRORS["void"])
    if locked.valid_until <= timezone.now():
        raise PassError(
            ERRORS["expired"] % {"pass": name, "date": local_date(locked.valid_until, locked.organiser)}
        )
    event = booking.event
    if not (locked.valid_from <= event.starts_at < locked.valid_until):
        raise PassError(
            ERRORS["outside_validity"]
            % {
                "pass": name,
                "start": local_date(locked.valid_from, locked.organiser),
                "end": local_date(locked.valid_until, locked.organiser),
            }
        )
    if not pass_covers_event(locked.pass_type, event):
        raise PassError(ERRORS["wrong_event"] % {"pass": name, "event": event.title})
    if booking.status != Booking.Status.PENDING or not booking.total:
        raise PassError(ERRORS["already_paid"])
    needed = booking.attendees.count() or 1
    if locked.uses_left == 0:
        raise PassError(ERRORS["used_up"] % {"pass": name})
    if locked.uses_left < needed:
        raise PassError(ERRORS["too_few"] % {"pass": name, "left": locked.uses_left, "needed": needed})

    locked.uses_left -= needed
    locked.save(update_fields=["uses_left", "updated_at"])
    redemption = PassRedemption.objects.create(
        organiser_id=locked.organiser_id, booker_pass=locked, booking=booking, uses=needed
    )
    booking.total = 0
    booking.discount = 0
    booking.discount_reason = ""
    booking.payment_method = Booking.PaymentMethod.PASS
    booking.status = Booking.Status.CONFIRMED
    booking.save(
        update_fields=["total", "discount", "discount_reason", "payment_method", "status", "updated_at"]
    )
    return redemption


@transaction.atomic
def pass_return_use(*, booking: Booking, uses: int | None = None) -> int:
    """Give the uses a booking spent back to its pass (the booking was cancelled and the rules
    say the booker gets their payment back). With `uses`, only that many go back (some of its
    tickets were cancelled): the booking's remaining tickets keep the rest. Returns how many uses
    went back: the first call returns them, every later call returns 0. A pass is never topped
    up past what it included."""
    redemption = PassRedemption.objects.filter(booking=booking, returned_at__isnull=True).first()
    if redemption is None or uses == 0:
        return 0
    locked = _lock(redemption.booker_pass)
    spent = redemption.uses if uses is None else min(int(uses), redemption.uses)
    now = timezone.now()
    unreturned = PassRedemption.objects.filter(pk=redemption.pk, returned_at__isnull=True)
    # Conditional: a second caller that waited on the pass lock finds it already returned.
    if spent == redemption.uses:
        done = unreturned.update(returned_at=now, updated_at=now)
    else:
        done = unreturned.filter(uses=redemption.uses).update(uses=F("uses") - spent, updated_at=now)
    if not done:
        return 0
    back = min(spent, locked.uses_included - locked.uses_left)
    locked.uses_left += back
    locked.save(update_fields=["uses_left", "updated_at"])
    return back
