"""Reads for memberships. A booker's memberships are always reached through the booker."""

from __future__ import annotations

from django.db.models import Q

from accounts.models import User
from memberships.models import Membership, MembershipInvoice, MembershipPlan
from portal.models import PAID_PLANS, Organiser


def membership_list_with_paid_organisers(*, user):
    """Memberships (of any status) with organisers on a paid plan: reason enough to show the
    booker the Passes and Vouchers sections (portal.navigation)."""
    return Membership.objects.filter(user=user, organiser__plan__in=PAID_PLANS)


def membership_plan_list_offered(*, organiser: Organiser):
    """Plans on an organiser's public page; none for organisers below the Standard plan."""
    if not organiser.offers_paid_products:
        return MembershipPlan.objects.none()
    return MembershipPlan.objects.for_organiser(organiser).offered()


def membership_plan_get_offered(*, code):
    return (
        MembershipPlan.objects.offered()
        .select_related("organiser")
        .filter(code=code, organiser__plan__in=PAID_PLANS)
    )


def membership_list_for_booker(*, user, organiser: Organiser | None = None):
    """The booker's memberships that have started, at organisers that offer memberships."""
    memberships = (
        Membership.objects.for_booker(user)
        .visible()
        .filter(organiser__plan__in=PAID_PLANS)
        .select_related("plan", "organiser")
    )
    if organiser is not None:
        memberships = memberships.for_organiser(organiser)
    return memberships


def membership_invoice_list(*, membership: Membership):
    return MembershipInvoice.objects.for_organiser(membership.organiser).filter(membership=membership)


def booker_get_for_organiser(*, organiser: Organiser, email: str) -> User | None:
    """The account with this email, if it is one of the organiser's own bookers (it booked with
    them or held one of their memberships). Staff never learn whether an address has an account
    anywhere else on the platform."""
    return (
        User.objects.filter(email__iexact=email.strip())
        .filter(Q(bookings__organiser=organiser) | Q(memberships__organiser=organiser))
        .distinct()
        .first()
    )


def membership_current_for(*, user, plan: MembershipPlan) -> Membership | None:
    """The booker's membership of `plan` that is still running (active, past due or pending)."""
    if not user.is_authenticated:
        return None
    return Membership.objects.for_booker(user).filter(plan=plan, status__in=Membership.CURRENT).first()


def membership_switch_plan_list(*, membership: Membership):
    """The plans a member may switch to: the same organiser's other offered plans, monthly or
    yearly (to another interval a new billing period starts on the day of the switch)."""
    return (
        MembershipPlan.objects.for_organiser(membership.organiser)
        .offered()
        .exclude(pk=membership.plan_id)
        .select_related("organiser")
    )
