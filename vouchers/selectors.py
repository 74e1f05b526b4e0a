"""Reads for vouchers. A booker's vouchers are the ones they bought (or were credited) and the
ones sent to an email address they have proved and claimed (accounts.selectors.claimed_emails)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext

from accounts.claims import Found
from accounts.selectors import claimed_emails
from portal.models import Organiser
from portal.money import format_money
from vouchers.models import Voucher, VoucherRedemption, normalise_code


def voucher_list_for_booker(*, user, organiser: Organiser | None = None):
    emails = [e.lower() for e in claimed_emails(user=user).values_list("e", flat=True)]
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


def voucher_list_held(*, user):
    """Vouchers the booker bought or was given (at an address they proved and claimed): reason
    enough to show them the Passes and Vouchers sections (portal.navigation)."""
    return (
        Voucher.objects.annotate(recipient=Lower("recipient_email"))
        .filter(Q(buyer=user) | Q(recipient__in=claimed_emails(user=user)))
        .exclude(status=Voucher.Status.PENDING)
    )


def organiser_takes_vouchers(*, organiser: Organiser) -> bool:
    """Whether the booking form asks for a voucher code: organisers who sell vouchers, and any
    organiser who has given credit as vouchers (that money must stay spendable)."""
    return organiser.offers_paid_products or Voucher.objects.for_organiser(organiser).exists()


def vouchers_found_for_email(*, user, email: str) -> list[Found]:
    """Gift vouchers sent to an address, for its new owner to look at before attaching it (the
    value, never the code: the code shows once they are the account's)."""
    vouchers = (
        Voucher.objects.filter(recipient_email__iexact=email)
        .exclude(status=Voucher.Status.PENDING)
        .exclude(buyer=user)
        .select_related("organiser")
        .order_by("created_at")
    )
    return [
        Found(
            kind=gettext("Gift voucher"),
            description=gettext("%(value)s with %(organiser)s")
            % {"value": format_money(v.value, v.currency), "organiser": v.organiser.name},
        )
        for v in vouchers
    ]


@dataclass(frozen=True)
class CreditBalance:
    """A booker's credit with one organiser: every refund given as credit is its own voucher
    code, but to the booker it is one balance (any of the codes pays at booking)."""

    organiser: Organiser
    currency: str
    balance: int
    vouchers: list


def credit_balances(vouchers) -> list[CreditBalance]:
    """The active credit among `vouchers` (as listed for a booker), one balance per organiser
    and currency, biggest first."""
    groups: dict[tuple[int, str], list] = {}
    for voucher in vouchers:
        if voucher.is_active and voucher.source == Voucher.Source.CREDIT:
            groups.setdefault((voucher.organiser_id, voucher.currency), []).append(voucher)
    balances = [
        CreditBalance(
            organiser=held[0].organiser,
            currency=currency,
            balance=sum(v.balance for v in held),
            vouchers=sorted(held, key=lambda v: v.expires_at or v.created_at),
        )
        for (_, currency), held in groups.items()
    ]
    return sorted(balances, key=lambda credit: -credit.balance)


def voucher_balance_for_booking(*, code: str, organiser: Organiser) -> int | None:
    """What the voucher with `code` could pay of a booking at `organiser` now (its balance), or
    None when it can't pay there (unknown, another organiser's, not paid, cancelled, expired,
    another currency). The booking page shows it before the booker books; `voucher_redeem`
    decides under the voucher's lock."""
    voucher = Voucher.objects.filter(code=normalise_code(code), organiser=organiser).first()
    if voucher is None or not voucher.is_active or voucher.currency != organiser.currency:
        return None
    return voucher.balance
