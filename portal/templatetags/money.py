from __future__ import annotations

from django import template

from portal.money import format_money

register = template.Library()


@register.filter(name="money")
def money(amount_minor: int | None, currency: str) -> str:
    return format_money(amount_minor or 0, currency)
