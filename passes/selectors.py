"""Reads for passes. A booker's passes are always reached through the booker."""

from __future__ import annotations

from django.db.models import Q

from bookings.models import Event
from passes.models import Pass, PassRedemption, PassType
from portal.models import Organiser


def pass_list_held(*, user):
    """Passes the booker bought (paid, used up or cancelled): reason enough to show them the
    Passes and Vouchers sections (portal.navigation)."""
    return Pass.objects.for_booker(user).exclude(status=Pass.Status.PENDING)


def pass_type_list_offered(*, organiser: Organiser):
    """Pass types on an organiser's public page; none below the Standard plan."""
    if not organiser.offers_paid_products:
        return PassType.objects.none()
    return PassType.objects.for_organiser(organiser).offered()


def pass_type_get_offered(*, organiser: Organiser, code):
    return pass_type_list_offered(organiser=organiser).filter(code=code)


def pass_list_for_booker(*, user, organiser: Organiser | None = None):
    """The booker's passes, paid or cancelled (not checkouts they never finished)."""
    passes = (
        Pass.objects.for_booker(user)
        .exclude(status=Pass.Status.PENDING)
        .select_related("pass_type", "organiser")
        .order_by("-created_at")
    )
    if organiser is not None:
        passes = passes.for_organiser(organiser)
    return passes


def pass_list_usable_for_booking(*, user, event: Event):
    """The booker's passes that could pay for a booking of `event` now (uses are re-checked
    under the lock when they are spent)."""
    if user is None or not user.is_authenticated:
        return Pass.objects.none()
    return (
        Pass.objects.for_organiser(event.organiser_id)
        .for_booker(user)
        .usable()
        .filter(valid_from__lte=event.starts_at, valid_until__gt=event.starts_at)
        .filter(Q(pass_type__scope=PassType.Scope.ALL_EVENTS) | Q(pass_type__events=event))
        .select_related("pass_type", "organiser")
        .distinct()
        .order_by("valid_until")
    )


def pass_type_event_list(*, pass_type: PassType):
    """The upcoming events a pass type can be redeemed against (for "chosen events")."""
    return Event.objects.for_organiser(pass_type.organiser_id).upcoming().filter(pass_types=pass_type)


def pass_redemption_list(*, pass_: Pass):
    return (
        PassRedemption.objects.for_organiser(pass_.organiser_id)
        .filter(booker_pass=pass_)
        .select_related("booking__event")
    )
