"""What memberships keeps about a booker, and what account deletion does to it (accounts.privacy,
registered in MembershipsConfig.ready): their memberships are cancelled at the end of the period
paid for, and the card's details go."""

from __future__ import annotations

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.privacy import Erasure
from memberships.models import Membership
from memberships.services import MembershipError, membership_cancel
from portal.exceptions import PortalError

ERRORS = {
    "not_cancelled": _(
        "We could not cancel your %(plan)s membership with %(organiser)s just now, so your account "
        "has not been deleted. Please try again in a few minutes."
    ),
    "started": _(
        "A membership was started while we were deleting your account, so it has not been deleted. "
        "Please try again."
    ),
}


def _renewing(user):
    return Membership.objects.filter(user=user, status__in=Membership.CURRENT, cancel_at_period_end=False)


def memberships_end(*, user) -> int:
    """Cancel every membership of theirs that would renew (through the gateway). Raises
    MembershipError, naming the membership, when one could not be cancelled."""
    cancelled = 0
    for membership in _renewing(user).select_related("plan", "organiser"):
        try:
            membership_cancel(membership=membership)
        except PortalError as exc:
            raise MembershipError(
                ERRORS["not_cancelled"]
                % {"plan": membership.plan.name, "organiser": membership.organiser.name}
            ) from exc
        cancelled += 1
    return cancelled


def memberships_started_since(*, user) -> str | None:
    return ERRORS["started"] if _renewing(user).exists() else None


def memberships_anonymise(erasure: Erasure) -> None:
    # The card is the booker's; the customer and subscription references stay so that Stripe's
    # webhooks can still end the membership at the end of its period.
    Membership.objects.filter(user=erasure.user).update(card_brand="", card_last4="")


def memberships_notes(*, user) -> list[str]:
    """What deleting the account does to each current membership, for the confirmation page."""
    notes = []
    for membership in (
        Membership.objects.for_booker(user)
        .filter(status__in=Membership.CURRENT)
        .select_related("plan", "organiser")
    ):
        ends = "already ends" if membership.cancel_at_period_end else "is cancelled and ends"
        when = ""
        if membership.current_period_end:
            local = timezone.localtime(membership.current_period_end, membership.organiser.tzinfo)
            when = f" ({date_format(local, gettext('j F Y'))})"
        notes.append(
            f"your {membership.plan.name} membership with {membership.organiser.name} {ends} "
            f"at the end of the period you've paid for{when};"
        )
    return notes
