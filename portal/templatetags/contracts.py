"""What the portal's cards and menus offer on a purchase: its "Withdraw from contract here" while
the booker may still withdraw (portal.withdrawals)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from portal import withdrawals

register = template.Library()


@register.simple_tag
def withdrawal_url(kind: str, row) -> str:
    """The withdrawal step's address while its owner may withdraw from this purchase (within 14
    days, bought online, not ended, the organiser selling to consumers), else "". `row` is the
    pass, voucher or membership the page shows its owner; the step checks ownership again."""
    if not withdrawals.withdrawal_open_for_row(kind=kind, row=row):
        return ""
    code = getattr(row, "public_id", None) or row.code
    return reverse("withdrawal_confirm", kwargs={"kind": kind, "code": str(code)})
