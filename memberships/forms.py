from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from memberships.models import Membership
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


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you leaving? (optional)"),
        required=False,
        choices=[("", _("I'd rather not say"))] + list(Membership.CancelReason.choices),
        help_text=_("Your answer goes to the organiser, to help them improve."),
        error_messages={"invalid_choice": _("Choose one of the reasons, or “I'd rather not say”.")},
    )


class PauseForm(forms.Form):
    """How long to pause: 1 to the plan's most weeks, each choice naming the day it resumes."""

    weeks = forms.TypedChoiceField(
        label=_("Pause for"),
        coerce=int,
        error_messages={
            "required": _("Choose how long to pause for."),
            "invalid_choice": _("Choose one of the pause lengths offered."),
        },
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weeks"].choices = list(choices)


class SwitchForm(forms.Form):
    """The plan to switch to, and (on the confirm step) the moment its amounts were worked out."""

    plan = forms.TypedChoiceField(
        label=_("New plan"),
        coerce=str,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the plan you'd like to switch to."),
            "invalid_choice": _("That plan is not available. Choose one of those listed."),
        },
    )
    quoted_at = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.plans = {str(plan.code): plan for plan in plans}
        self.fields["plan"].choices = [(code, plan.name) for code, plan in self.plans.items()]

    def clean_plan(self):
        return self.plans[self.cleaned_data["plan"]]

    def clean_quoted_at(self):
        value = self.cleaned_data.get("quoted_at")
        if value is None:
            return None
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise forms.ValidationError(_("Those amounts are out of date. Please look again.")) from exc
