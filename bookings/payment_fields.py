"""Paying at booking with a pass or a voucher: the fields the booking form adds for them, and the
price they make (the booking page's pay button). They belong to the booking, which spends passes
and vouchers (neither knows of the other)."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bookings import pricing
from passes.selectors import pass_list_usable_for_booking
from vouchers.models import CODE_LENGTH
from vouchers.selectors import organiser_takes_vouchers, voucher_balance_for_booking


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
    included = pricing.included_offer(user=user, organiser=event.organiser)
    if included is not None:
        form.fields["use_included"] = forms.BooleanField(
            label=_("Use my included bookings"),
            required=False,
            initial=True,
            help_text=_("%(plan)s: %(left)s left this %(period)s, one per ticket. Untick to pay instead.")
            % {"plan": included.name, "left": included.left, "period": included.period},
            widget=forms.CheckboxInput(attrs={"aria-describedby": "id_use_included_helptext"}),
        )
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


@dataclass(frozen=True)
class Quote:
    """What the booking page shows above its pay button: the price, and what pays for it."""

    price: pricing.Price
    pass_name: str = ""
    voucher_refused: bool = False  # a code was typed that can't pay here


def booking_quote(
    *,
    event,
    ticket_slots: list,
    user,
    use_included: bool = True,
    pass_=None,
    voucher_code: str = "",
    look_up_voucher: bool = True,
) -> Quote:
    """The price the booker's choices make, as `booking_submit` will charge it (the same
    `pricing.booking_price`, read here without locks). `look_up_voucher` False (too many wrong
    codes from this client) leaves the code out, unjudged."""
    organiser = event.organiser
    balance = None
    if voucher_code and pass_ is None and look_up_voucher:
        balance = voucher_balance_for_booking(code=voucher_code, organiser=organiser)
    included = None
    if use_included and pass_ is None:
        included = pricing.included_offer(user=user, organiser=organiser)
    price = pricing.booking_price(
        prices=[ticket_type.price for ticket_type in ticket_slots],
        user=user,
        organiser=organiser,
        included=included,
        pays_with_pass=pass_ is not None,
        voucher_balance=balance or 0,
    )
    return Quote(
        price=price,
        pass_name=pass_.pass_type.name if pass_ is not None else "",
        voucher_refused=bool(voucher_code) and pass_ is None and look_up_voucher and balance is None,
    )
