from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.payments import luhn_ok


class CardForm(forms.Form):
    """Card details for the offline gateway only; with Stripe the Billing Portal takes them.
    Every message is in the portal's words, never Django's ("Ensure this value is ...")."""

    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
        error_messages={
            "required": _("Enter the long number on the front of your card."),
            "max_length": _("Check the card number: it doesn't look right."),
        },
    )
    exp_month = forms.IntegerField(
        label=_("Expiry month"),
        min_value=1,
        max_value=12,
        widget=forms.NumberInput(attrs={"autocomplete": "cc-exp-month"}),
        error_messages=dict.fromkeys(
            ["required", "invalid", "min_value", "max_value"], _("Check the expiry month (1 to 12).")
        ),
    )
    exp_year = forms.IntegerField(
        label=_("Expiry year"),
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"autocomplete": "cc-exp-year"}),
        error_messages=dict.fromkeys(
            ["required", "invalid", "min_value", "max_value"], _("Check the expiry year.")
        ),
    )
    cvc = forms.CharField(
        label=_("Security code"),
        min_length=3,
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-csc"}),
        error_messages=dict.fromkeys(
            ["required", "min_length", "max_length"], _("Enter the 3 or 4 digits on the back of your card.")
        ),
    )

    def clean_number(self):
        digits = "".join(ch for ch in self.cleaned_data["number"] if ch.isdigit())
        if not 12 <= len(digits) <= 19:
            raise forms.ValidationError(_("Enter the long number on the front of your card."))
        if not luhn_ok(digits):
            raise forms.ValidationError(_("Check the card number: it doesn't look right."))
        return digits

    def clean_cvc(self):
        cvc = self.cleaned_data["cvc"]
        if not cvc.isdigit():
            raise forms.ValidationError(_("Enter the 3 or 4 digits on the back of your card."))
        return cvc

    def clean(self):
        data = super().clean()
        month, year = data.get("exp_month"), data.get("exp_year")
        today = timezone.now()
        if month and year and (year, month) < (today.year, today.month):
            self.add_error("exp_year", "That card has expired.")
        return data
