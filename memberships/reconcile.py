"""Nightly reconciliation: do our Stripe memberships still say what Stripe says?

Webhooks keep memberships in step with Stripe, but a webhook can be lost for good (an endpoint
down for longer than Stripe retries, a secret rotated wrongly). Once a day we ask Stripe for
every membership's subscription and report where status, current_period_end or
cancel_at_period_end differ.

Reporting, not repairing, is the default: each mismatch is logged as a warning and returned, and
no row changes, so a bug in our mapping can never rewrite every membership overnight. Someone
who has looked at the report can repair with `membership_reconcile(fix=True)` (a Django shell, or
the task with fix=True), which calls the webhooks' own `membership_sync_subscription` for each
mismatched membership.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.utils import timezone

from memberships.models import Membership
from portal.exceptions import PaymentError
from portal.payments import get_gateway

logger = logging.getLogger(__name__)

COMPARED = ("status", "current_period_end", "cancel_at_period_end")
# Ended memberships are checked for a while too: an "ended" membership whose subscription Stripe
# still bills is the mismatch that costs a booker money.
RECENTLY_ENDED = timedelta(days=40)


@dataclass(frozen=True)
class Mismatch:
    membership: str  # the membership's code
    organiser: str  # the organiser's slug
    subscription: str  # Stripe's subscription id
    field: str  # one of COMPARED, or "subscription" when Stripe could not give it to us
    ours: str
    stripe: str

    def as_dict(self) -> dict:
        return asdict(self)


def memberships_to_reconcile():
    ended_since = timezone.now() - RECENTLY_ENDED
    return (
        Membership.objects.filter(gateway="stripe")
        .exclude(subscription_reference="")
        .exclude(status__in=("pending", "incomplete_expired"))
        .exclude(status=Membership.Status.CANCELED, ended_at__lt=ended_since)
        .select_related("organiser")
        .order_by("pk")
    )


def _shown(value) -> str:
    if hasattr(value, "isoformat"):
        return value.replace(microsecond=0).isoformat()
    return str(value)


def membership_compare(membership: Membership) -> list[Mismatch]:
    """Where this membership differs from its subscription at Stripe (empty when it matches)."""

    def mismatch(field, ours, stripes):
        return Mismatch(
            membership=str(membership.code),
            organiser=membership.organiser.slug,
            subscription=membership.subscription_reference,
            field=field,
            ours=_shown(ours),
            stripe=_shown(stripes),
        )

    try:
        state = get_gateway().get_subscription(membership.subscription_reference)
    except PaymentError as exc:  # deleted at Stripe, or Stripe unreachable: either way, look
        cause = exc.__cause__
        return [mismatch("subscription", membership.subscription_reference, f"unreadable: {cause or exc}")]
    found = []
    for field in COMPARED:
        ours, stripes = getattr(membership, field), getattr(state, field)
        if field == "current_period_end":
            ours = ours.replace(microsecond=0) if ours else None  # Stripe keeps whole seconds
        if ours != stripes:
            found.append(mismatch(field, ours, stripes))
    return found


def membership_reconcile(*, fix: bool = False) -> list[Mismatch]:
    """Compare every Stripe membership with Stripe; log a warning per mismatch and return them all.

    With fix=True, each mismatched membership is then synced from Stripe (the returned list still
    says what was wrong before)."""
    from memberships.services import membership_sync_subscription

    found: list[Mismatch] = []
    for membership in memberships_to_reconcile().iterator():
        mismatches = membership_compare(membership)
        for m in mismatches:
            logger.warning(
                "memberships.reconcile.mismatch membership=%s organiser=%s subscription=%s %s: ours=%s stripe=%s",
                m.membership,
                m.organiser,
                m.subscription,
                m.field,
                m.ours,
                m.stripe,
            )
        if fix and mismatches and mismatches[0].field != "subscription":
            membership_sync_subscription(subscription_reference=membership.subscription_reference)
        found.extend(mismatches)
    logger.info("memberships.reconcile.done mismatches=%d fixed=%s", len(found), fix)
    return found
