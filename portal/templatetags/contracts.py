"""What the portal's cards and menus offer on a purchase: its "Withdraw from contract here" while
the booker may still withdraw (portal.withdrawals)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from portal import withdrawals

register = template.Library()


@register.simple_tag(takes_context=True)
def withdrawal_url(context, kind: str, code) -> str:
    """The withdrawal step's address while this request's booker may withdraw from the contract
    (within 14 days, bought online, not ended, the organiser selling to consumers), else ""."""
    request = context.get("request")
    user = getattr(request, "user", None)
    contract = withdrawals.withdrawal_contract_get(user=user, kind=kind, code=str(code))
    if contract is None or not withdrawals.withdrawal_open(contract):
        return ""
    return reverse("withdrawal_confirm", kwargs={"kind": kind, "code": str(code)})
