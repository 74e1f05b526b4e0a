"""Paying at booking with a pass or a voucher: the fields the booking form adds for them. They
belong to the booking, which spends passes and vouchers (neither knows of the other)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from passes.selectors import pass_list_usable_for_booking
from vouchers.models import CODE_LENGTH
from vouchers.selectors import organiser_takes_vouchers


class PassChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        until = date_format(timezone.localtime(obj.valid_until, obj.organiser.tzinfo), gettext("j M Y"))
        return f"{obj.pass_type.name}: {obj.uses_left} use{'s' if obj.uses_left != 1 else ''} left, until {until}"


def add_pass_and_voucher_fields(form: forms.Form, *, ticket_slots: list, user) -> None:
    """Add `use_pass` (the booker's passes that cover this booking) and `voucher_code` to a
    booking form, when there is something to pay and the organiser takes them."""
    if not ticket_slots or not sum(t.price for t in ticket_slots):
        return
    event = ticket_slots[0].event
    passes = pass_list_usable_for_booking(user=user, event=event).filter(uses_left__gte=len(ticket_slots))
    if user is not None and passes.exists():
        form.fields["use_pass"] = PassChoiceField(
            queryset=passes,
            required=False,
            empty_label=_("Don't use a pass"),
            label=_("Pay with a pass"),
            help_text=_("One use per ticket."),
        )
    if organiser_takes_vouchers(organiser=event.organiser):
        form.fields["voucher_code"] = forms.CharField(
            label=_("Gift voucher or credit code (optional)"),
            required=False,
            max_length=CODE_LENGTH * 2,
            help_text=_("It pays what it can; you pay any rest by card."),
            widget=forms.TextInput(
                attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
            ),
        )
