"""Booking forms: they parse and validate input; capacity and locks are the service's."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from bookings.exceptions import ERRORS
from bookings.models import BookingFormField, TicketType
from bookings.payment_fields import add_pass_and_voucher_fields
from bookings.services.booking import TicketRequest
from portal.money import format_money

MAX_TICKETS_PER_BOOKING = 20


class TicketQuantitiesForm(forms.Form):
    """Step 1: how many of each ticket type. Also carried (hidden) through step 2."""

    def __init__(self, *args, event, ticket_types, seats_left: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        self.ticket_types = list(ticket_types)
        self.seats_left = seats_left
        for ticket_type in self.ticket_types:
            self.fields[f"qty_{ticket_type.pk}"] = forms.IntegerField(
                label=f"{ticket_type.name} ({_price(ticket_type, event)})",
                min_value=0,
                max_value=MAX_TICKETS_PER_BOOKING,
                initial=0,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def clean(self):
        cleaned = super().clean()
        quantities = self.quantities()
        total = sum(quantities.values())
        if not self.errors and total == 0:
            raise ValidationError(_("Choose at least one ticket."))
        if total > self.seats_left:
            raise ValidationError(
                _("Sorry, only %(left)s place(s) are left."), params={"left": self.seats_left}, code="full"
            )
        return cleaned

    def quantities(self) -> dict:
        data = getattr(self, "cleaned_data", {})
        return {tt: data.get(f"qty_{tt.pk}") or 0 for tt in self.ticket_types}

    def total_price(self) -> int:
        return sum(tt.price * quantity for tt, quantity in self.quantities().items())

    def ticket_slots(self) -> list:
        """One entry per ticket requested, in ticket-type order."""
        return [tt for tt, quantity in self.quantities().items() for _ in range(quantity)]


def _price(ticket_type, event) -> str:
    return format_money(ticket_type.price, event.organiser.currency) if ticket_type.price else "Free"


class BookingDetailsForm(forms.Form):
    """Step 2: who is coming, the organiser's questions, and optionally an account."""

    booker_name = forms.CharField(label=_("Your name"), max_length=150)
    booker_email = forms.EmailField(label=_("Your email"), help_text=_("We send your confirmation here."))
    booker_phone = forms.CharField(label=_("Phone (optional)"), max_length=40, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # The amount the pay button showed (the page writes it with the button): the booking refuses
    # to charge another (bookings.exceptions.PriceChanged).
    pay_amount = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)
    create_account = forms.BooleanField(
        label=_("Create an account"), required=False, help_text=_("See and manage your bookings any time.")
    )
    password = forms.CharField(
        label=_("Choose a password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, ticket_slots, form_fields, user=None, idempotency_key=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user if user and user.is_authenticated else None
        self.ticket_slots = ticket_slots
        self.form_fields = list(form_fields)
        # The page issues keys bound to the browser session (bookings.form_keys).
        self.fields["idempotency_key"].initial = idempotency_key or uuid.uuid4().hex
        if self.user:
            self.fields["booker_name"].initial = self.user.name
            self.fields["booker_email"].initial = self.user.email
            del self.fields["create_account"], self.fields["password"]
        for index, ticket_type in enumerate(ticket_slots):
            self.fields[f"attendee_{index}_name"] = forms.CharField(
                label=_("Name of attendee %(n)s (%(ticket)s)") % {"n": index + 1, "ticket": ticket_type.name},
                max_length=150,
            )
            self.fields[f"attendee_{index}_child"] = forms.BooleanField(
                label=_("This is a child"), required=False
            )
        for field in self.form_fields:
            self.fields[f"question_{field.pk}"] = question_field(field)
        add_pass_and_voucher_fields(self, ticket_slots=ticket_slots, user=self.user)

    def replace_key(self, key: str) -> None:
        """Send the form back with a fresh key (the posted one may not be used again)."""
        self.data = self.data.copy()
        self.data["idempotency_key"] = key

    def payment_choices(self) -> dict:
        """The pass, voucher code and included bookings chosen, as far as they are valid (for the
        price shown before the whole form is)."""
        if not self.is_bound:
            return {"pass_": None, "voucher_code": "", "use_included": True}
        self.is_valid()
        data = self.cleaned_data
        return {
            "pass_": data.get("use_pass"),
            "voucher_code": data.get("voucher_code") or "",
            "use_included": bool(data.get("use_included", True)),
        }

    def hide_errors(self) -> None:
        """Show the form as typed without judging it (the booker asked only for the new total)."""
        self.is_valid()
        self._errors = ErrorDict()

    def attendee_rows(self):
        return [
            (self[f"attendee_{i}_name"], self[f"attendee_{i}_child"]) for i in range(len(self.ticket_slots))
        ]

    def question_rows(self):
        return [self[f"question_{field.pk}"] for field in self.form_fields]

    def clean_booker_email(self):
        return self.cleaned_data["booker_email"].lower()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("use_pass") and cleaned.get("voucher_code"):
            self.add_error("voucher_code", ERRORS["pass_and_voucher"])
        if cleaned.get("create_account"):
            email, password = cleaned.get("booker_email"), cleaned.get("password")
            if not password:
                self.add_error("password", _("Choose a password to create your account."))
            else:
                try:
                    validate_password(password, User(email=email or "", name=cleaned.get("booker_name", "")))
                except ValidationError as error:
                    self.add_error("password", error)
            # An address that already has an account is not refused here, which would tell anyone
            # who has an account: the booking goes ahead as a guest's (bookings.services.booking_place).
        return cleaned

    def tickets(self) -> list[TicketRequest]:
        data = self.cleaned_data
        return [
            TicketRequest(
                ticket_type=tt,
                attendee_name=data[f"attendee_{i}_name"].strip(),
                is_child=data[f"attendee_{i}_child"],
            )
            for i, tt in enumerate(self.ticket_slots)
        ]

    def answers(self) -> dict:
        return {field: _answer_text(self.cleaned_data[f"question_{field.pk}"]) for field in self.form_fields}


class DetailsEditForm(forms.Form):
    """Correct attendee names and the answers to the organiser's questions, checked as the
    booking form checks them (required names and questions, lengths, the choices offered)."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, attendees, form_fields, responses, **kwargs):
        super().__init__(*args, **kwargs)
        self.attendees = list(attendees)
        self.form_fields = list(form_fields)
        self.fields["idempotency_key"].initial = uuid.uuid4().hex
        answered = {response.field_id: response.answer for response in responses}
        for index, attendee in enumerate(self.attendees):
            self.fields[f"attendee_{attendee.pk}_name"] = forms.CharField(
                label=_("Name of attendee %(n)s (%(ticket)s)")
                % {"n": index + 1, "ticket": attendee.ticket_type.name},
                max_length=150,
                initial=attendee.name,
            )
        for field in self.form_fields:
            question = question_field(field)
            answer = answered.get(field.pk, "")
            question.initial = (
                answer == "Yes" if field.field_type == BookingFormField.FieldType.CHECKBOX else answer
            )
            self.fields[f"question_{field.pk}"] = question

    def name_rows(self):
        return [self[f"attendee_{attendee.pk}_name"] for attendee in self.attendees]

    def question_rows(self):
        return [self[f"question_{field.pk}"] for field in self.form_fields]

    def names(self) -> dict[int, str]:
        return {a.pk: self.cleaned_data[f"attendee_{a.pk}_name"].strip() for a in self.attendees}

    def answers(self) -> dict:
        return {field: _answer_text(self.cleaned_data[f"question_{field.pk}"]) for field in self.form_fields}


class GiftForm(forms.Form):
    """Give one ticket to someone else: which, and to whom."""

    ticket = forms.TypedChoiceField(label=_("Which ticket?"), coerce=int, widget=forms.RadioSelect)
    recipient_name = forms.CharField(label=_("Their name"), max_length=150)
    recipient_email = forms.EmailField(
        label=_("Their email"), help_text=_("We email them a link to accept the ticket.")
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, attendees, **kwargs):
        super().__init__(*args, **kwargs)
        attendees = list(attendees)
        self.fields["ticket"].choices = [(a.pk, f"{a.name} ({a.ticket_type.name})") for a in attendees]
        if len(attendees) == 1:
            self.fields["ticket"].initial = attendees[0].pk
        self.fields["idempotency_key"].initial = uuid.uuid4().hex


def question_field(field: BookingFormField) -> forms.Field:
    kinds = BookingFormField.FieldType
    common = {"label": field.label, "required": field.required}
    if field.field_type == kinds.TEXTAREA:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, **common)
    if field.field_type == kinds.CHOICE:
        choices = [("", "—")] + [(c, c) for c in field.choice_list]
        return forms.ChoiceField(choices=choices, **common)
    if field.field_type == kinds.CHECKBOX:
        return forms.BooleanField(**common)
    return forms.CharField(max_length=500, **common)


def _answer_text(value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value or "")


class WaitingListForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Your email"))
    quantity = forms.IntegerField(
        label=_("Places wanted"), min_value=1, max_value=MAX_TICKETS_PER_BOOKING, initial=1
    )
    accepts_fewer = forms.TypedChoiceField(
        label=_("If fewer places free up than you asked for"),
        choices=[
            ("0", _("All together or none (for example a family)")),
            ("1", _("Offer me as many as free up")),
        ],
        coerce=lambda value: value == "1",
        empty_value=False,
        required=False,
        initial="0",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, ticket_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        types = list(ticket_types)  # the event's, loaded
        if len(types) > 1:
            # One ticket type: the places are that type's (the service names it).
            self.fields["ticket_type"] = forms.ModelChoiceField(
                label=_("Ticket"),
                queryset=TicketType.objects.filter(pk__in=[t.pk for t in types]).order_by("position", "pk"),
                required=False,
                empty_label=_("Any ticket"),
                help_text=_("Choose one if only that ticket will do (for example a child's place)."),
            )
            self.fields["ticket_type"].label_from_instance = lambda ticket_type: ticket_type.name
            self.order_fields(["name", "email", "ticket_type", "quantity", "accepts_fewer"])


class WaitingPlacesForm(forms.Form):
    """Ask for fewer places on a waiting-list place (never more: that would jump the queue)."""

    quantity = forms.TypedChoiceField(label=_("Places wanted"), coerce=int)

    def __init__(self, *args, entry, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].choices = [(n, str(n)) for n in range(entry.quantity, 0, -1)]
        self.fields["quantity"].initial = entry.quantity


class NewLinkForm(forms.Form):
    email = forms.EmailField(label=_("The email you booked with"))
