"""Voucher forms: they parse and validate input; balances and locks are the services'."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.money import SYMBOLS, decimals


def minor_units_per_unit(currency: str) -> int:
    return 10 ** decimals(currency)


class VoucherBuyForm(forms.Form):
    """A gift voucher's value is chosen in whole currency units (25, not 25.00): no decimals to
    parse, and the amount in minor units is an exact integer product."""

    value = forms.IntegerField(
        label=_("Value"),
        min_value=5,
        max_value=500,
        initial=25,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    recipient_name = forms.CharField(label=_("Who is it for?"), max_length=150)
    recipient_email = forms.EmailField(
        label=_("Their email (optional)"),
        required=False,
        help_text=_("We email them the code. Leave empty to get it yourself and hand it over."),
    )
    message = forms.CharField(
        label=_("Message (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["idempotency_key"].initial = uuid.uuid4().hex
        self.fields["value"].label = _("Value (%(unit)s)") % {"unit": SYMBOLS.get(currency, currency)}

    def value_minor(self) -> int:
        return self.cleaned_data["value"] * minor_units_per_unit(self.currency)
