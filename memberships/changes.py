"""Writes for a member's changes to a running membership: taking a cancellation back, pausing
and resuming, switching plan.

The same pattern as memberships/services.py: check under the membership's row lock, call the
gateway outside the transaction with an idempotency key derived from our row, then lock again
and apply what the gateway answered (`_apply_subscription_state`, the webhooks' own path). With the
offline gateway our row is the record, so the change is made under the first lock. Each action
repeated (a double submit, a retry) changes nothing the second time.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from memberships.models import Membership, MembershipChange, MembershipPlan
from memberships.services import (
    MembershipError,
    _apply_subscription_state,
    _lock,
    _record_invoice,
    membership_change_record,
    membership_pause_record,
    membership_unpause_record,
)
from portal.dates import local_date
from portal.exceptions import PortalError
from portal.payments import ProrationPreview, add_interval, get_gateway, prorate, prorate_interval_change

logger = logging.getLogger(__name__)

# A switch is made at the moment its preview was worked out, so the booker pays what they saw;
# a preview older than this is shown again instead.
QUOTE_LIFETIME = timedelta(minutes=30)


def _still_confirming(membership: Membership) -> None:
    if membership.gateway == "stripe" and not membership.subscription_reference:
        raise MembershipError(
            _("We are still confirming this membership with Stripe. Please try again soon.")
        )


# Resuming a cancelled membership -------------------------------------------------------------


def membership_resume(*, membership: Membership) -> Membership:
    """Take back a cancellation before the period ends: the membership renews again as before.
    Resuming one that is not cancelled changes nothing. Raises MembershipError once it has ended."""
    with transaction.atomic():
        locked = _lock(membership)
        if locked.is_current and not locked.cancel_at_period_end:
            return locked
        if not locked.can_resume:
            if locked.is_current and locked.gateway == "manual":
                raise MembershipError(
                    _("This complimentary membership ends on the day %(organiser)s chose.")
                    % {"organiser": locked.organiser.name}
                )
            raise MembershipError(
                _("This membership has ended. You can join again from the organiser's page.")
            )
        _still_confirming(locked)
        # One key per cancellation taken back: resuming, cancelling and resuming again is two requests
        # (a cancellation made in Stripe's Billing Portal has no request time here; the last undo tells
        # it apart).
        moments = (locked.cancel_requested_at, locked.cancel_undone_at)
        key = f"membership-{locked.code}-resume-" + "-".join(
            str(int(m.timestamp())) if m else "0" for m in moments
        )
        if locked.gateway != "stripe":
            _undo_cancel(locked)
            locked.cancel_at_period_end = False
            locked.save()
            _resumed(locked, key)
            return locked

    state = get_gateway().reactivate_subscription(
        reference=locked.subscription_reference, idempotency_key=key
    )
    with transaction.atomic():
        locked = _lock(membership)
        _undo_cancel(locked)
        _apply_subscription_state(locked, state)
        if not locked.cancel_at_period_end:
            _resumed(locked, key)
    return locked


def _resumed(membership: Membership, key: str) -> None:
    """The member is told (once per cancellation taken back) that it renews again, when and for how much."""
    membership_change_record(
        membership=membership,
        kind=MembershipChange.Kind.RESUMED,
        key=key,
        next_amount=membership.plan.price + max(membership.proration_pending, 0),
        next_at=membership.renews_on,
    )


def _undo_cancel(membership: Membership) -> None:
    membership.cancel_undone_at = timezone.now()
    membership.cancel_requested_at = None
    membership.cancel_reason = ""
    # A later cancellation is news again: its email goes out (once).
    membership.cancelled_email_sent_at = None


# Pausing -------------------------------------------------------------------------------------


def pause_resumes_at(membership: Membership, weeks: int, now: datetime | None = None) -> datetime:
    """A pause of `weeks` ends at the start of that day in the organiser's time zone."""
    organiser = membership.organiser
    day = timezone.localtime(now or timezone.now(), organiser.tzinfo).date() + timedelta(weeks=weeks)
    return datetime(day.year, day.month, day.day, tzinfo=organiser.tzinfo)


def pauses_counted(membership: Membership, now: datetime | None = None):
    """The pauses that count towards the plan's pauses-in-any-12-months rule."""
    since = (now or timezone.now()) - timedelta(days=365)
    return membership.pauses.filter(starts_at__gt=since).order_by("starts_at")


def membership_pause_check(membership: Membership, weeks: int | None = None, now=None) -> None:
    """Raise MembershipError saying why this membership cannot be paused (for `weeks`) now."""
    plan = membership.plan
    if not membership.is_current:
        raise MembershipError(_("This membership has ended."))
    if membership.gateway == "manual":
        raise MembershipError(_("A complimentary membership cannot be paused."))
    if not plan.pause_allowed:
        raise MembershipError(_("%(plan)s memberships cannot be paused.") % {"plan": plan.name})
    if membership.cancel_at_period_end:
        raise MembershipError(
            _("This membership is cancelled. Resume it first if you'd like to pause instead.")
        )
    if membership.status != Membership.Status.ACTIVE:
        raise MembershipError(
            _("Only an active membership can be paused. Please settle any payment due first.")
        )
    counted = list(pauses_counted(membership, now))
    if len(counted) >= plan.pauses_per_year:
        again = local_date(counted[0].starts_at + timedelta(days=365), membership.organiser)
        raise MembershipError(
            ngettext(
                "%(plan)s allows %(count)s pause in any 12 months and you have used it. "
                "You can pause again from %(date)s.",
                "%(plan)s allows %(count)s pauses in any 12 months and you have used them. "
                "You can pause again from %(date)s.",
                plan.pauses_per_year,
            )
            % {"plan": plan.name, "count": plan.pauses_per_year, "date": again}
        )
    if weeks is not None and not 1 <= weeks <= plan.pause_max_weeks:
        raise MembershipError(_("Choose a pause of 1 to %(weeks)s weeks.") % {"weeks": plan.pause_max_weeks})


def membership_pause(*, membership: Membership, weeks: int, now: datetime | None = None) -> Membership:
    """Pause billing and the plan's benefits from now until the start of the day `weeks` weeks on,
    when the membership resumes by itself (`membership_pause_end_due`). Pausing one already paused
    changes nothing. Raises MembershipError when the plan's rules do not allow it."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(membership)
        if locked.is_paused:
            return locked
        membership_pause_check(locked, weeks, now)
        _still_confirming(locked)
        resumes_at = pause_resumes_at(locked, weeks, now)
        if locked.gateway != "stripe":
            locked.status = Membership.Status.PAUSED
            locked.paused_until = resumes_at
            locked.save(update_fields=["status", "paused_until", "updated_at"])
            membership_pause_record(membership=locked, starts_at=now)
            return locked
        key = f"membership-{locked.code}-pause-{locked.pauses.count() + 1}"

    state = get_gateway().pause_subscription(
        reference=locked.subscription_reference, resumes_at=resumes_at, idempotency_key=key
    )
    with transaction.atomic():
        locked = _lock(membership)
        _apply_subscription_state(locked, state)
    return locked


def membership_pause_end(*, membership: Membership, now: datetime | None = None) -> Membership:
    """End a pause: billing and benefits come back now (early, by the member, or on the chosen day
    by the beat task). A membership that is not paused is left as it is."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(membership)
        if not locked.is_paused:
            return locked
        _still_confirming(locked)
        pause = locked.pauses.filter(ended_at__isnull=True).first()
        if locked.gateway != "stripe":
            locked.status = Membership.Status.ACTIVE
            locked.paused_until = None
            locked.save(update_fields=["status", "paused_until", "updated_at"])
            if pause is not None:
                pause.ended_at = now
                pause.save(update_fields=["ended_at", "updated_at"])
                membership_unpause_record(membership=locked, pause=pause)
            return locked
        key = f"membership-{locked.code}-unpause-{pause.pk if pause else 0}"

    state = get_gateway().unpause_subscription(reference=locked.subscription_reference, idempotency_key=key)
    with transaction.atomic():
        locked = _lock(membership)
        _apply_subscription_state(locked, state)
    return locked


def membership_pause_end_due(*, now: datetime | None = None) -> int:
    """Beat: resume every membership whose pause has reached its chosen day."""
    now = now or timezone.now()
    due = Membership.objects.filter(status=Membership.Status.PAUSED, paused_until__lte=now)
    count = 0
    for membership in due:
        try:
            membership_pause_end(membership=membership, now=now)
        except PortalError:  # Stripe unreachable: the others still resume; this one next hour
            logger.warning("memberships.pause_end.failed membership=%s", membership.code, exc_info=True)
            continue
        count += 1
    return count


# Switching plan ------------------------------------------------------------------------------


def membership_switch_check(membership: Membership, plan: MembershipPlan) -> None:
    """Raise MembershipError saying why `membership` cannot move to `plan` now."""
    if plan.organiser_id != membership.organiser_id or not plan.is_offered:
        raise MembershipError(_("That plan is not available."))
    if not membership.is_current:
        raise MembershipError(_("This membership has ended."))
    if membership.gateway == "manual":
        raise MembershipError(_("A complimentary membership cannot switch plan."))
    if membership.cancel_at_period_end:
        raise MembershipError(_("This membership is cancelled. Resume it first to switch plan."))
    if membership.status != Membership.Status.ACTIVE:
        raise MembershipError(
            _("Only an active membership can switch plan (not while paused or payment is due).")
        )
    if plan.pk == membership.plan_id:
        raise MembershipError(_("You are already on %(plan)s.") % {"plan": plan.name})
    held = Membership.objects.live().filter(user_id=membership.user_id, plan=plan).exclude(pk=membership.pk)
    if held.exists():
        raise MembershipError(_("You already hold a %(plan)s membership.") % {"plan": plan.name})
    _still_confirming(membership)


def _whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def switch_resets_billing_cycle(membership: Membership, plan: MembershipPlan) -> bool:
    """Moving to a plan billed at another interval (monthly <-> yearly) starts a new billing period
    today, as Stripe does: the unused time of the old period is credited and the new period is
    charged in full now. Between plans at the same interval the renewal date stays."""
    return plan.interval != membership.plan.interval


def membership_switch_preview(
    *, membership: Membership, plan: MembershipPlan, now: datetime | None = None
) -> ProrationPreview:
    """What switching to `plan` now would bill (Stripe's preview, or the same arithmetic offline)."""
    membership_switch_check(membership, plan)
    preview = get_gateway().preview_switch(
        reference=membership.subscription_reference,
        old_amount=membership.plan.price,
        new_amount=plan.price,
        currency=membership.organiser.currency,
        interval=plan.interval,
        period_start=membership.current_period_start,
        period_end=membership.current_period_end,
        proration_date=_whole_second(now or timezone.now()),
        reset_billing_cycle=switch_resets_billing_cycle(membership, plan),
    )
    if membership.proration_pending:  # offline: an earlier switch's difference is on that invoice too
        total = preview.next_invoice_amount + membership.proration_pending
        preview = dataclasses.replace(preview, next_invoice_amount=max(total, 0))
    return preview


def membership_switch(
    *, membership: Membership, plan: MembershipPlan, proration_date: datetime, now: datetime | None = None
) -> Membership:
    """Move the membership to `plan`, prorated at `proration_date` (the moment of the preview the
    booker confirmed). At the same interval, Stripe applies the proration to the next invoice;
    offline, the same amounts wait on the membership for the next renewal. To another interval a
    new period starts at `proration_date` and is invoiced at once, less the unused time of the old
    one (Stripe resets the billing cycle anchor; offline, the same arithmetic and an invoice now).
    Confirming the same switch twice changes nothing. The member is emailed what changed, once."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(membership)
        if locked.plan_id == plan.pk:
            return locked
        membership_switch_check(locked, plan)
        if not now - QUOTE_LIFETIME <= proration_date <= now + timedelta(minutes=1):
            raise MembershipError(
                _("Those amounts are out of date. Please look at the new ones and confirm again.")
            )
        old_plan = locked.plan
        reset = switch_resets_billing_cycle(locked, plan)
        key = f"membership-{locked.code}-switch-{plan.code}-{int(proration_date.timestamp())}"
        credit, charge = (prorate_interval_change if reset else prorate)(
            old_amount=old_plan.price,
            new_amount=plan.price,
            period_start=locked.current_period_start,
            period_end=locked.current_period_end,
            at=proration_date,
        )
        if locked.gateway != "stripe":
            locked.plan = plan
            locked.proration_pending += charge - credit
            fields = ["plan", "proration_pending", "updated_at"]
            if reset:
                next_amount = _start_new_period(locked, proration_date)
                fields += ["current_period_start", "current_period_end"]
            else:
                next_amount = plan.price + locked.proration_pending
            _save_plan(locked, fields)
            _switched(locked, key, old_plan, credit, charge, billed_now=reset, next_amount=next_amount)
            return locked

    organiser = locked.organiser
    state = get_gateway().switch_subscription(
        reference=locked.subscription_reference,
        description=f"{plan.name} ({organiser.name})",
        new_amount=plan.price,
        currency=organiser.currency,
        interval=plan.interval,
        proration_date=proration_date,
        idempotency_key=key,
        metadata={"membership": str(locked.code), "organiser": organiser.slug, "plan": str(plan.code)},
        reset_billing_cycle=reset,
    )
    with transaction.atomic():
        locked = _lock(membership)
        locked.plan = plan
        _apply_subscription_state(locked, state)
        # Stripe keeps the proration: the amounts it works out are these (`prorate`'s arithmetic).
        next_amount = charge - credit if reset else plan.price + charge - credit
        _switched(locked, key, old_plan, credit, charge, billed_now=reset, next_amount=next_amount)
    return locked


def _start_new_period(membership: Membership, start: datetime) -> int:
    """Offline, a switch to another interval: the new period starts now and its invoice is
    collected now: `proration_pending`, which holds the new plan's price less the old period's
    unused time (and any earlier switch's difference). Credit beyond it carries on to the next
    invoice, as Stripe's customer balance would. Returns the amount invoiced."""
    end = add_interval(start, membership.plan.interval)
    amount = membership.proration_pending
    invoice = get_gateway().renew_subscription(
        reference=membership.subscription_reference,
        amount=max(amount, 0),
        currency=membership.organiser.currency,
        period_start=start,
        period_end=end,
    )
    _record_invoice(membership, invoice)
    membership.proration_pending = min(amount, 0)
    membership.current_period_start, membership.current_period_end = start, end
    return max(amount, 0)


def _switched(
    membership: Membership, key: str, old_plan, credit: int, charge: int, *, billed_now, next_amount
):
    """Record the switch for the member's email: what it cost and what is billed next, when.
    Billed now (another interval): `next_amount` is today's invoice, and the renewal is a period on."""
    membership_change_record(
        membership=membership,
        kind=MembershipChange.Kind.SWITCHED,
        key=key,
        from_plan=old_plan,
        credit=credit,
        charge=charge,
        next_amount=max(next_amount, 0),
        next_at=membership.current_period_start if billed_now else membership.renews_on,
        billed_now=billed_now,
    )


def _save_plan(membership: Membership, fields: list[str]) -> None:
    try:
        with transaction.atomic():
            membership.save(update_fields=fields)
    except IntegrityError as exc:  # another tab joined that plan meanwhile
        raise MembershipError(
            _("You already hold a %(plan)s membership.") % {"plan": membership.plan.name}
        ) from exc
