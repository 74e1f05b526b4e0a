"""Reads for passes. A booker's passes are always reached through the booker."""

from __future__ import annotations

from django.db.models import Q

from bookings.models import Booking, Event
from passes.models import Pass, PassRedemption, PassType
from portal.models import PAID_PLANS, Organiser


def booker_sees_paid_sections(*, user) -> bool:
    """Whether the portal shows the Passes and Vouchers sections to this booker: some organiser
    they deal with is on the Standard plan or above, or they already hold a pass or a voucher
    (money is never hidden from its owner). One query: the nav asks on every portal page."""
    if not user.is_authenticated:
        return False
    from django.db.models import Exists
    from django.db.models.functions import Lower

    from accounts.models import User
    from accounts.selectors import claimed_emails
    from memberships.models import Membership
    from vouchers.models import Voucher

    vouchers = (
        Voucher.objects.annotate(recipient=Lower("recipient_email"))
        .filter(Q(buyer=user) | Q(recipient__in=claimed_emails(user=user)))
        .exclude(status=Voucher.Status.PENDING)
    )
    checks = [
        Pass.objects.for_booker(user).exclude(status=Pass.Status.PENDING),
        vouchers,
        Booking.objects.filter(user=user, organiser__plan__in=PAID_PLANS),
        Membership.objects.filter(user=user, organiser__plan__in=PAID_PLANS),
    ]
    any_of = Q(Exists(checks[0]))
    for check in checks[1:]:
        any_of |= Q(Exists(check))
    return User.objects.filter(pk=user.pk).filter(any_of).exists()


def paid_sections_visible_for(request) -> bool:
    """`booker_sees_paid_sections` for the request's user, asked once per request (the section
    nav and the Passes and Vouchers pages both want it)."""
    if not hasattr(request, "_paid_sections_visible"):
        request._paid_sections_visible = booker_sees_paid_sections(user=request.user)
    return request._paid_sections_visible


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
