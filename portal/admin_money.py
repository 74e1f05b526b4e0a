"""Money in the organiser admin: typed and shown in the organiser's currency ("2.50", after its
symbol), stored as minor units as everywhere else. An admin lists its money fields in
`money_fields`; `OrganiserScopedAdmin` and its inlines do the rest (see portal/admin.py)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.money import MAX_AMOUNT, SYMBOLS, decimals, format_money


class MoneyInput(forms.TextInput):
    """A text box with the currency before it ("£ [ 2.50 ]") and a decimal keypad on phones."""

    def __init__(self, currency: str, attrs=None):
        super().__init__({"inputmode": "decimal", "size": 10, **(attrs or {})})
        self.currency = currency

    def render(self, name, value, attrs=None, renderer=None):
        box = super().render(name, value, attrs, renderer)
        symbol = SYMBOLS.get(self.currency, self.currency)
        # The label names the currency too ("Price (£)"), so the symbol is decoration here.
        return format_html(
            '<span class="money-input"><span class="money-input__symbol" aria-hidden="true">{}</span>{}</span>',
            symbol,
            box,
        )


class MoneyField(forms.Field):
    """An amount in `currency`'s major units in the form, an int of minor units in cleaned_data."""

    default_error_messages = {
        "invalid": _("Enter an amount, like 12.50."),
        "negative": _("Enter an amount of 0 or more."),
        "whole": _("%(currency)s has no smaller units: enter a whole number."),
        "too_big": _("At most %(max)s."),
    }

    def __init__(self, *, currency: str, **kwargs):
        kwargs.setdefault("widget", MoneyInput(currency))
        super().__init__(**kwargs)
        self.currency = currency
        self.places = decimals(currency)

    def prepare_value(self, value):
        """Minor units from the database become "2.50"; what the user typed is shown as typed."""
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{Decimal(value).scaleb(-self.places):.{self.places}f}"
        return value

    def to_python(self, value) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip().replace(",", "").removeprefix(SYMBOLS.get(self.currency, "\0"))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not amount.is_finite() or "e" in text.lower():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if amount < 0:
            raise ValidationError(self.error_messages["negative"], code="negative")
        minor = amount.scaleb(self.places)
        if minor != minor.to_integral_value():
            if not self.places:
                raise ValidationError(
                    self.error_messages["whole"], code="whole", params={"currency": self.currency}
                )
            raise ValidationError(
                ngettext(
                    "%(currency)s takes at most %(places)d decimal place.",
                    "%(currency)s takes at most %(places)d decimal places.",
                    self.places,
                ),
                code="decimals",
                params={"currency": self.currency, "places": self.places},
            )
        if minor > MAX_AMOUNT:
            raise ValidationError(
                self.error_messages["too_big"],
                code="too_big",
                params={"max": format_money(MAX_AMOUNT, self.currency)},
            )
        return int(minor)

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(data) != initial
        except ValidationError:
            return True


def money_display(field_name: str, verbose_name: str):
    """A read-only or changelist column showing `field_name` as money in the row's currency."""

    def show(obj) -> str:
        amount = getattr(obj, field_name)
        if amount is None:
            return "—"
        return format_money(amount, getattr(obj, "currency", "") or obj.organiser.currency)

    show.short_description = verbose_name
    show.admin_order_field = field_name
    return show
