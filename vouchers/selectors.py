"""Reads for vouchers. A booker's vouchers are the ones they bought (or were credited) and the
ones sent to an email address they have verified."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db.models import Q

from portal.models import Organiser
from vouchers.models import Voucher, VoucherRedemption


def voucher_list_for_booker(*, user, organiser: Organiser | None = None):
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    emails = [e.lower() for e in verified]
    vouchers = (
        Voucher.objects.filter(Q(buyer=user) | Q(recipient_email__in=emails))
        .exclude(status=Voucher.Status.PENDING)
        .select_related("organiser", "buyer")
        .order_by("-created_at")
    )
    if organiser is not None:
        vouchers = vouchers.for_organiser(organiser)
    return vouchers


def voucher_redemption_list(*, voucher: Voucher):
    return (
        VoucherRedemption.objects.for_organiser(voucher.organiser_id)
        .filter(voucher=voucher)
        .select_related("booking__event")
    )


def organiser_takes_vouchers(*, organiser: Organiser) -> bool:
    """Whether the booking form asks for a voucher code: organisers who sell vouchers, and any
    organiser who has given credit as vouchers (that money must stay spendable)."""
    return organiser.offers_paid_products or Voucher.objects.for_organiser(organiser).exists()
