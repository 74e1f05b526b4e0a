"""Writes for memberships: subscribing, cancelling, cards, invoices, and following Stripe.

Stripe calls happen outside database transactions (they are slow and may be retried): each
service locks and checks in one transaction, calls the gateway, then locks again to apply what
the gateway answered. Every Stripe call carries an idempotency key derived from our row.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bookings.pricing import IncludedOffer, IncludedSource
from memberships.models import (
    Membership,
    MembershipBookingUse,
    MembershipChange,
    MembershipInvoice,
    MembershipPause,
    MembershipPlan,
)
from portal.dates import local_date
from portal.exceptions import PortalError
from portal.locking import lock_timeout
from portal.payments import InvoiceState, SubscriptionState, add_interval, get_gateway

logger = logging.getLogger(__name__)


class MembershipError(PortalError):
    default_message = gettext_lazy("This membership cannot be changed just now.")


@dataclass(frozen=True)
class SubscribeResult:
    membership: Membership
    redirect_url: str = ""  # where to send the booker (Stripe Checkout), or "" when already active


@dataclass(frozen=True)
class MembershipBenefit:
    membership: Membership | None
    percent_off: int = 0
    included_bookings_left: int = 0


def _lock(membership: Membership) -> Membership:
    with lock_timeout():
        return (
            Membership.objects.select_for_update(of=("self",))
            .select_related("plan", "organiser")
            .get(pk=membership.pk)
        )


# Subscribing --------------------------------------------------------------------------------


def membership_subscribe(*, user, plan: MembershipPlan, success_url: str, cancel_url: str) -> SubscribeResult:
    """Start a membership of `plan` for `user`.

    Offline, the subscription starts at once with its first (paid) invoice. With Stripe the
    membership stays `pending` and the booker is sent to Checkout; the webhooks activate it.
    Raises MembershipError when the plan is not on offer or the booker already holds it.
    """
    organiser = plan.organiser
    if not organiser.offers_paid_products or not plan.is_offered:
        raise MembershipError(_("This membership is not available."))
    gateway = get_gateway()

    with transaction.atomic(), lock_timeout():
        existing = (
            Membership.objects.select_for_update()
            .filter(user=user, plan=plan, status__in=Membership.LIVE)
            .first()
        )
        if existing and existing.status not in Membership.NOT_STARTED:
            raise MembershipError(_("You are already a member: %(plan)s.") % {"plan": plan.name})
        membership = existing
        if membership is None:
            try:
                with transaction.atomic():
                    membership = Membership.objects.create(
                        organiser=organiser, plan=plan, user=user, gateway=gateway.name
                    )
            except IntegrityError as exc:  # a second tab won the race
                raise MembershipError(_("You are already joining this membership.")) from exc
        customer_reference = membership.customer_reference or _known_customer(user, organiser, gateway.name)

    # Outside the transaction: Stripe is slow, and a retry with the same key is harmless.
    if not customer_reference:
        customer_reference = gateway.create_customer(
            email=user.email,
            name=getattr(user, "name", "") or user.email,
            idempotency_key=f"membership-{membership.code}-customer",
        )
    # The hour in the key lets a double-click reuse one Checkout page while a booker who comes
    # back later gets a fresh one (Stripe's keys and Checkout pages both last 24 hours).
    checkout = gateway.start_subscription(
        customer_reference=customer_reference,
        description=f"{plan.name} ({organiser.name})",
        amount=plan.price,
        currency=organiser.currency,
        interval=plan.interval,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"membership-{membership.code}-checkout-{int(time.time() // 3600)}",
        metadata={"membership": str(membership.code), "organiser": organiser.slug},
    )

    with transaction.atomic():
        membership = _lock(membership)
        membership.customer_reference = checkout.customer_reference
        membership.checkout_reference = checkout.checkout_reference
        membership.save(update_fields=["customer_reference", "checkout_reference", "updated_at"])
        if checkout.subscription is not None:
            _apply_subscription_state(membership, checkout.subscription)
        if checkout.invoice is not None:
            _record_invoice(membership, checkout.invoice)
    return SubscribeResult(membership=membership, redirect_url=checkout.redirect_url)


def _known_customer(user, organiser, gateway_name: str) -> str:
    """Reuse the booker's customer at this organiser, so the Billing Portal shows one card."""
    return (
        Membership.objects.for_organiser(organiser)
        .filter(user=user, gateway=gateway_name)
        .exclude(customer_reference="")
        .values_list("customer_reference", flat=True)
        .first()
        or ""
    )


def _apply_subscription_state(membership: Membership, state: SubscriptionState) -> Membership:
    """Make a locked membership match the gateway's subscription. Used by the offline path at
    once and by the Stripe webhooks later: the same code path for both."""
    was_started = membership.status not in Membership.NOT_STARTED
    membership.subscription_reference = state.reference
    if state.customer_reference:
        membership.customer_reference = state.customer_reference
    if state.status in Membership.Status.values:
        membership.status = state.status
    membership.current_period_start = state.current_period_start or membership.current_period_start
    membership.current_period_end = state.current_period_end or membership.current_period_end
    membership.cancel_at_period_end = state.cancel_at_period_end
    membership.started_at = membership.started_at or state.started_at or timezone.now()
    if membership.status == Membership.Status.CANCELED:
        membership.ended_at = state.ended_at or membership.ended_at or timezone.now()
    membership.paused_until = state.paused_until if membership.is_paused else None
    plan_code = _uuid_or_none(state.metadata.get("plan", ""))
    if plan_code and plan_code != membership.plan.code:  # switched (by us, or in Stripe's dashboard)
        plan = MembershipPlan.objects.for_organiser(membership.organiser).filter(code=plan_code).first()
        membership.plan = plan or membership.plan
    membership.save()
    _record_pause(membership)
    if not was_started and membership.is_current:
        _email_on_commit(membership, "started")
    return membership


def _record_pause(membership: Membership) -> None:
    """Keep a locked membership's pauses in step with its status: one open pause while paused."""
    open_pause = membership.pauses.filter(ended_at__isnull=True).first()
    if membership.is_paused and open_pause is None:
        membership_pause_record(membership=membership, starts_at=timezone.now())
    elif (
        membership.is_paused and membership.paused_until and open_pause.resumes_at != membership.paused_until
    ):
        open_pause.resumes_at = membership.paused_until
        open_pause.save(update_fields=["resumes_at", "updated_at"])
    elif not membership.is_paused and open_pause is not None:
        open_pause.ended_at = timezone.now()
        open_pause.save(update_fields=["ended_at", "updated_at"])
        membership_unpause_record(membership=membership, pause=open_pause)


def membership_unpause_record(*, membership: Membership, pause: MembershipPause) -> MembershipChange | None:
    """A locked membership's pause has just ended (early by the member, on its day, or at Stripe):
    tell the member billing is back, once per pause. Not when it ended because the membership did."""
    if membership.status != Membership.Status.ACTIVE:
        return None
    return membership_change_record(
        membership=membership,
        kind=MembershipChange.Kind.UNPAUSED,
        key=f"unpause-{pause.pk}",
        early=pause.ended_at is not None and pause.ended_at < pause.resumes_at,
        next_amount=membership.plan.price + max(membership.proration_pending, 0),
        next_at=membership.renews_on,
    )


def membership_change_record(
    *, membership: Membership, kind: str, key: str, **fields
) -> MembershipChange | None:
    """Record a change to a locked membership and email the member about it once it commits.
    The same `key` again records nothing (a retried request, a webhook after our own answer) and
    returns None."""
    from memberships.tasks import membership_change_send_email

    fields.setdefault("plan", membership.plan)
    try:
        with transaction.atomic():
            change = MembershipChange.objects.create(
                organiser_id=membership.organiser_id, membership=membership, kind=kind, key=key, **fields
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: membership_change_send_email.delay(change.pk))
    return change


def membership_pause_record(*, membership: Membership, starts_at: datetime) -> MembershipPause:
    """Record the pause a locked membership has just entered, and email the member once it commits."""
    from memberships.tasks import membership_pause_send_email

    pause = MembershipPause.objects.create(
        organiser=membership.organiser,
        membership=membership,
        starts_at=starts_at,
        resumes_at=membership.paused_until or starts_at,
    )
    transaction.on_commit(lambda: membership_pause_send_email.delay(pause.pk))
    return pause


def _record_invoice(membership: Membership, state: InvoiceState) -> MembershipInvoice:
    invoice, _created = MembershipInvoice.objects.update_or_create(
        reference=state.reference,
        defaults={
            "organiser": membership.organiser,
            "membership": membership,
            "number": state.number,
            "status": state.status
            if state.status in MembershipInvoice.Status.values
            else MembershipInvoice.Status.OPEN,
            "amount_due": state.amount_due,
            "amount_paid": state.amount_paid,
            "currency": state.currency or membership.organiser.currency,
            "issued_at": state.issued_at,
            "period_start": state.period_start,
            "period_end": state.period_end,
            "hosted_url": state.hosted_url,
            "pdf_url": state.pdf_url,
        },
    )
    return invoice


def _email_on_commit(membership: Membership, kind: str) -> None:
    from memberships.tasks import membership_send_email as membership_send_email_task

    transaction.on_commit(lambda: membership_send_email_task.delay(membership.pk, kind))


# Cancelling ---------------------------------------------------------------------------------


def membership_cancel(*, membership: Membership, reason: str = "") -> Membership:
    """Cancel at the end of the period already paid for; the booker keeps the benefits until then.
    `reason` is one of Membership.CancelReason (or "" when the booker gave none).

    Raises MembershipError when the membership has ended or is already set to end.
    """
    if reason not in Membership.CancelReason.values:
        reason = ""
    with transaction.atomic():
        locked = _lock(membership)
        _check_cancellable(locked)
        keeps_state = locked.gateway != "stripe"
        if keeps_state:
            locked.cancel_at_period_end = True
            locked.cancel_requested_at = timezone.now()
            locked.cancel_reason = reason
            locked.save(
                update_fields=["cancel_at_period_end", "cancel_requested_at", "cancel_reason", "updated_at"]
            )
            _email_on_commit(locked, "cancelled")
            return locked

    state = get_gateway().cancel_subscription_at_period_end(
        reference=locked.subscription_reference, idempotency_key=_cancel_key(locked)
    )
    with transaction.atomic():
        locked = _lock(membership)
        locked.cancel_requested_at = locked.cancel_requested_at or timezone.now()
        locked.cancel_reason = reason
        _apply_subscription_state(locked, state)
        _email_on_commit(locked, "cancelled")
    return locked


def _cancel_key(membership: Membership) -> str:
    key = f"membership-{membership.code}-cancel"
    if membership.cancel_undone_at:  # cancelled before, then resumed: this is a new cancellation
        key += f"-{int(membership.cancel_undone_at.timestamp())}"
    return key


def _check_cancellable(membership: Membership) -> None:
    if not membership.is_current:
        raise MembershipError(_("This membership has already ended."))
    if membership.cancel_at_period_end:
        ends = local_date(membership.current_period_end, membership.organiser)
        raise MembershipError(
            _("This membership is already cancelled and ends on %(ends)s.") % {"ends": ends}
        )
    if membership.gateway == "stripe" and not membership.subscription_reference:
        raise MembershipError(
            _("We are still confirming this membership with Stripe. Please try again soon.")
        )


# Cards --------------------------------------------------------------------------------------


def membership_card_update_url(*, membership: Membership, return_url: str) -> str:
    """A hosted page (Stripe's Billing Portal) where the booker changes the card, or "" when
    the gateway takes card details through our own form (offline)."""
    if not membership.is_current:
        raise MembershipError(_("This membership has ended, so there is no card to update."))
    if membership.gateway != "stripe":
        return ""
    if not membership.customer_reference:
        raise MembershipError(
            _("We are still confirming this membership with Stripe. Please try again soon.")
        )
    return get_gateway().card_update_url(
        customer_reference=membership.customer_reference, return_url=return_url
    )


def membership_update_card(
    *, membership: Membership, number: str, exp_month: int, exp_year: int, cvc: str
) -> Membership:
    """Offline gateway: take new card details (only the brand and last four digits are kept)."""
    if not membership.is_current:
        raise MembershipError(_("This membership has ended, so there is no card to update."))
    card = get_gateway().update_card(
        customer_reference=membership.customer_reference,
        number=number,
        exp_month=exp_month,
        exp_year=exp_year,
        cvc=cvc,
    )
    with transaction.atomic():
        locked = _lock(membership)
        locked.card_brand, locked.card_last4 = card.brand, card.last4
        locked.save(update_fields=["card_brand", "card_last4", "updated_at"])
    return locked


def membership_refresh_card(*, customer_reference: str) -> int:
    """Copy the card Stripe holds for a customer onto their memberships (brand and last 4)."""
    if not Membership.objects.filter(customer_reference=customer_reference).exists():
        return 0
    card = get_gateway().card_on_file(customer_reference=customer_reference)
    return Membership.objects.filter(customer_reference=customer_reference).update(
        card_brand=card.brand if card else "",
        card_last4=card.last4 if card else "",
        updated_at=timezone.now(),
    )


# Following Stripe ---------------------------------------------------------------------------


def membership_sync_subscription(*, subscription_reference: str) -> Membership | None:
    """Fetch the subscription from Stripe and make our membership match it.

    Webhook events can arrive late, twice or out of order, so we never apply an event's own
    (possibly stale) copy: we ask Stripe for the subscription as it is now. Returns None for a
    subscription that is not one of our memberships.
    """
    state = get_gateway().get_subscription(subscription_reference)
    code = state.metadata.get("membership", "")
    with transaction.atomic(), lock_timeout():
        membership = (
            Membership.objects.select_for_update().filter(subscription_reference=state.reference).first()
        )
        if membership is None and code:
            membership = Membership.objects.select_for_update().filter(code=_uuid_or_none(code)).first()
        if membership is None:
            logger.info("memberships.stripe.unknown_subscription %s", state.reference)
            return None
        _apply_subscription_state(membership, state)
    return membership


def membership_sync_invoice(*, invoice_reference: str) -> MembershipInvoice | None:
    """Fetch the invoice from Stripe and record it against its membership."""
    gateway = get_gateway()
    state = gateway.get_invoice(invoice_reference)
    if not state.subscription_reference:
        return None
    membership = Membership.objects.filter(subscription_reference=state.subscription_reference).first()
    if membership is None:
        # The invoice can beat checkout.session.completed here; the subscription's metadata
        # names the membership.
        membership = membership_sync_subscription(subscription_reference=state.subscription_reference)
    if membership is None:
        return None
    with transaction.atomic():
        membership = _lock(membership)
        return _record_invoice(membership, state)


def membership_checkout_completed(*, session: dict) -> Membership | None:
    """checkout.session.completed for a subscription: link the subscription, then follow it."""
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return None
    code = _uuid_or_none(
        session.get("client_reference_id") or (session.get("metadata") or {}).get("membership")
    )
    subscription = session["subscription"]
    subscription = subscription["id"] if isinstance(subscription, dict) else subscription
    with transaction.atomic(), lock_timeout():
        membership = Membership.objects.select_for_update().filter(code=code).first() if code else None
        if membership is None:
            return None
        if not membership.subscription_reference:
            membership.subscription_reference = subscription
            if isinstance(session.get("customer"), str):
                membership.customer_reference = session["customer"]
            membership.save(update_fields=["subscription_reference", "customer_reference", "updated_at"])
    membership = membership_sync_subscription(subscription_reference=subscription)
    if membership is not None and membership.customer_reference:
        membership_refresh_card(customer_reference=membership.customer_reference)
    return membership


def membership_checkout_expired(*, session: dict) -> Membership | None:
    """The booker left Checkout without paying: the pending membership will never start."""
    code = _uuid_or_none(session.get("client_reference_id") or "")
    if session.get("mode") != "subscription" or code is None:
        return None
    with transaction.atomic(), lock_timeout():
        membership = Membership.objects.select_for_update().filter(code=code, status="pending").first()
        if membership is not None and membership.checkout_reference == session.get("id"):
            membership.status = Membership.Status.INCOMPLETE_EXPIRED
            membership.save(update_fields=["status", "updated_at"])
    return membership


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
    }
)
INVOICE_EVENTS = frozenset(
    {
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.payment_succeeded",
        "invoice.updated",
        "invoice.voided",
        "invoice.marked_uncollectible",
    }
)
CARD_EVENTS = frozenset({"customer.updated", "payment_method.attached", "payment_method.updated"})


def membership_stripe_event(event_type: str, obj: dict) -> None:
    """A subscription, invoice or card event (registered with portal.stripe_events): follow
    Stripe's current state."""
    if event_type in SUBSCRIPTION_EVENTS:
        membership_sync_subscription(subscription_reference=obj["id"])
    elif event_type in INVOICE_EVENTS:
        membership_sync_invoice(invoice_reference=obj["id"])
    elif event_type in CARD_EVENTS:
        customer = obj["id"] if event_type == "customer.updated" else obj.get("customer")
        if customer:
            membership_refresh_card(customer_reference=customer)


def membership_checkout_event(event_type: str, session: dict) -> None:
    """A membership's Checkout Session (subscription mode; registered with portal.stripe_events)."""
    if event_type == "checkout.session.completed":
        membership_checkout_completed(session=session)
    elif event_type == "checkout.session.expired":
        membership_checkout_expired(session=session)


# Offline renewals ---------------------------------------------------------------------------


def membership_advance_period(*, membership: Membership, now: datetime | None = None) -> Membership:
    """Offline gateway: at the end of a paid period, end a cancelled membership or bill the next
    period. Stripe does this itself and tells us by webhook. Lock-and-recheck, so two beat
    workers cannot both renew."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(membership)
        while (
            locked.gateway != "stripe"
            and locked.is_current
            and locked.current_period_end
            and locked.current_period_end <= now
        ):
            if locked.cancel_at_period_end:
                locked.status = Membership.Status.CANCELED
                locked.ended_at = locked.current_period_end
                locked.save(update_fields=["status", "ended_at", "updated_at"])
                break
            start = locked.current_period_end
            end = add_interval(start, locked.plan.interval)
            # A renewal inside a pause is not collected (as Stripe's pause_collection voids it).
            paused = locked.is_paused and locked.paused_until is not None and start < locked.paused_until
            # A plan switch's proration (offline) rides on the next collected invoice.
            amount = locked.plan.price + (0 if paused else locked.proration_pending)
            invoice = get_gateway().renew_subscription(
                reference=locked.subscription_reference,
                amount=max(amount, 0),
                currency=locked.organiser.currency,
                period_start=start,
                period_end=end,
                collect=not paused,
            )
            _record_invoice(locked, invoice)
            if not paused:
                locked.proration_pending = min(amount, 0)  # credit beyond this invoice carries on
            locked.current_period_start, locked.current_period_end = start, end
            locked.save(
                update_fields=[
                    "current_period_start",
                    "current_period_end",
                    "proration_pending",
                    "updated_at",
                ]
            )
    return locked


def membership_advance_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Membership.objects.filter(status__in=Membership.CURRENT, current_period_end__lte=now).exclude(
        gateway="stripe"
    )
    count = 0
    for membership in due:
        membership_advance_period(membership=membership, now=now)
        count += 1
    return count


# Benefits (called by the booking service) ---------------------------------------------------


def membership_benefit_for(*, user, organiser) -> MembershipBenefit:
    """The best benefit `user`'s memberships at `organiser` give on a booking made now.

    Only active (or trialing) memberships count, and only at organisers on the Standard plan or
    above. The biggest discount wins; included bookings left are for that same membership.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not organiser.offers_paid_products:
        return MembershipBenefit(membership=None)
    memberships = list(
        Membership.objects.for_organiser(organiser)
        .for_booker(user)
        .granting_benefits()
        .select_related("plan", "organiser")
    )
    if not memberships:
        return MembershipBenefit(membership=None)
    best = max(memberships, key=lambda m: (m.plan.discount_percent, m.plan.included_bookings, -m.pk))
    return MembershipBenefit(
        membership=best,
        percent_off=best.plan.discount_percent,
        included_bookings_left=_included_left(best),
    )


def membership_discount_for(*, user, organiser) -> tuple[int, Membership | None]:
    """(percent off, the membership giving it) for a booking by `user` at `organiser`;
    (0, None) when no active membership gives a discount."""
    benefit = membership_benefit_for(user=user, organiser=organiser)
    if not benefit.percent_off:
        return 0, None
    return benefit.percent_off, benefit.membership


def membership_discount_offer(*, user, organiser) -> tuple[int, str]:
    """`membership_discount_for` as bookings' pricing asks it (registered in MembershipsConfig.ready):
    (percent off, the plan's name)."""
    percent, membership = membership_discount_for(user=user, organiser=organiser)
    return (percent, membership.plan.name) if percent else (0, "")


def _included_left(membership: Membership) -> int:
    return membership.included_bookings_left


def membership_use_included_booking(
    *, membership: Membership, booking_reference: str, tickets: int = 1
) -> MembershipBookingUse:
    """Take `tickets` included bookings from this period's allowance for the booking
    `booking_reference`. Call it inside the booking's transaction (after the event row is
    locked). Recording the same booking twice is a no-op.
    Raises MembershipError when too few are left or the membership is not active."""
    with transaction.atomic():
        locked = _lock(membership)  # serialises two bookings racing for the last free place
        existing = locked.booking_uses.filter(booking_reference=booking_reference).first()
        if existing is not None:
            return existing
        if locked.status not in Membership.BENEFITS:
            raise MembershipError(_("This membership is not active."))
        if _included_left(locked) < tickets:
            raise MembershipError(_("This period's included bookings have all been used."))
        return MembershipBookingUse.objects.create(
            organiser=locked.organiser,
            membership=locked,
            booking_reference=booking_reference,
            period_start=locked.current_period_start,
            tickets=tickets,
        )


# Included bookings, as bookings' pricing asks for them (registered in MembershipsConfig.ready) -----


def membership_included_offer(*, user, organiser, lock: bool = False) -> IncludedOffer | None:
    """The booker's membership at `organiser` with the most included bookings left this period.
    With `lock`, the memberships' rows are locked (in pk order) until the booking's transaction
    ends, so a racing booking waits and then counts this one's use."""
    if user is None or not getattr(user, "is_authenticated", False) or not organiser.offers_paid_products:
        return None
    memberships = (
        Membership.objects.for_organiser(organiser)
        .for_booker(user)
        .granting_benefits()
        .filter(plan__included_bookings__gt=0)
        .select_related("plan", "organiser")
        .order_by("pk")
    )
    if lock:
        with lock_timeout():
            memberships = list(memberships.select_for_update(of=("self",)))
    best, best_left = None, 0
    for membership in memberships:
        left = _included_left(membership)
        if left > best_left:
            best, best_left = membership, left
    if best is None:
        return None
    return IncludedOffer(
        source="memberships",
        key=best.pk,
        left=best_left,
        name=best.plan.name,
        period=best.plan.interval_noun,
    )


def membership_included_spend(*, offer: IncludedOffer, booking, tickets: int) -> None:
    membership = Membership.objects.get(pk=offer.key, organiser_id=booking.organiser_id)
    membership_use_included_booking(
        membership=membership, booking_reference=booking.reference, tickets=tickets
    )


@transaction.atomic
def membership_included_give_back(*, booking, tickets: int | None = None) -> int:
    """Give back the included bookings `booking` spent (the booking was cancelled, or its payment
    never came), or only `tickets` of them (some of its tickets were cancelled: the use keeps the
    rest). Once: later calls return 0. Returns how many went back. A use from an earlier
    period goes back to that period (which is over), so it changes nothing now."""
    use = _unreturned_use(booking)
    if use is None:
        return 0
    _lock(use.membership)
    # Conditional: a second caller that waited on the membership lock finds it already returned.
    now = timezone.now()
    use = MembershipBookingUse.objects.filter(pk=use.pk, returned_at__isnull=True).first()
    if use is None:
        return 0
    if tickets is not None and tickets < use.tickets:
        if tickets <= 0:
            return 0
        MembershipBookingUse.objects.filter(pk=use.pk).update(tickets=use.tickets - tickets, updated_at=now)
        return tickets
    MembershipBookingUse.objects.filter(pk=use.pk).update(returned_at=now, updated_at=now)
    return use.tickets


@transaction.atomic
def membership_included_hand_over(*, booking, to_reference: str, tickets: int) -> int:
    """`tickets` of the included bookings `booking` spent now belong to `to_reference` (a booking
    split off from it, or a reference no booking has: spent for good), in the same period. Call
    with the booking locked. Returns how many moved."""
    use = _unreturned_use(booking)
    if use is None or tickets <= 0:
        return 0
    _lock(use.membership)
    use = MembershipBookingUse.objects.filter(pk=use.pk, returned_at__isnull=True).first()
    if use is None:
        return 0
    moved = min(tickets, use.tickets)
    now = timezone.now()
    if moved == use.tickets:
        MembershipBookingUse.objects.filter(pk=use.pk).update(booking_reference=to_reference, updated_at=now)
    else:
        MembershipBookingUse.objects.filter(pk=use.pk).update(tickets=use.tickets - moved, updated_at=now)
        MembershipBookingUse.objects.create(
            organiser_id=use.organiser_id,
            membership_id=use.membership_id,
            booking_reference=to_reference,
            period_start=use.period_start,
            tickets=moved,
        )
    return moved


def membership_included_describe(*, booking, tickets: int) -> str:
    """ "Monthly Unlimited: 1 included booking": the plan that paid `tickets` of `booking`."""
    use = (
        MembershipBookingUse.objects.filter(
            organiser_id=booking.organiser_id, booking_reference=booking.reference
        )
        .select_related("membership__plan")
        .order_by("-created_at")
        .first()
    )
    if use is None:
        return ""
    return ngettext(
        "%(plan)s: %(used)s included booking", "%(plan)s: %(used)s included bookings", tickets
    ) % {"plan": use.membership.plan.name, "used": tickets}


def _unreturned_use(booking) -> MembershipBookingUse | None:
    return (
        MembershipBookingUse.objects.filter(
            organiser_id=booking.organiser_id, booking_reference=booking.reference, returned_at__isnull=True
        )
        .select_related("membership")
        .first()
    )


def membership_included_spent_on(*, booking) -> int:
    return (
        MembershipBookingUse.objects.filter(
            organiser_id=booking.organiser_id, booking_reference=booking.reference, returned_at__isnull=True
        )
        .aggregate(tickets=Sum("tickets"))
        .get("tickets")
        or 0
    )


INCLUDED_BOOKINGS = IncludedSource(
    offer=membership_included_offer,
    spend=membership_included_spend,
    give_back=membership_included_give_back,
    spent_on=membership_included_spent_on,
    hand_over=membership_included_hand_over,
    describe=membership_included_describe,
)
