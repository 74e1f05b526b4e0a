from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from portal.admin import OrganiserScopedAdmin, OrganiserScopedTabularInline
from portal.exceptions import PortalError
from vouchers import services
from vouchers.models import Voucher, VoucherRedemption


class IssueVoucherForm(forms.ModelForm):
    """Staff give a voucher away: its code is made at random and emailed to the recipient."""

    class Meta:
        model = Voucher
        fields = ["organiser", "value", "recipient_name", "recipient_email", "message", "expires_at"]

    def clean_value(self):
        value = self.cleaned_data["value"]
        if not value:
            raise forms.ValidationError("A voucher must be worth something.")
        return value


class VoucherRedemptionInline(OrganiserScopedTabularInline):
    money_fields = ("amount",)
    model = VoucherRedemption
    fields = ["booking", "amount_shown", "created_at", "returned_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


VOUCHER_FIELDS = [
    "display_code",
    "organiser",
    "source",
    "status",
    "value_shown",
    "balance_shown",
    "currency",
    "expires_at",
    "buyer_email",
    "recipient_name",
    "recipient_email",
    "message",
    "refund",
    "paid_at",
    "payment_reference",
    "email_sent_at",
]


@admin.register(Voucher)
class VoucherAdmin(OrganiserScopedAdmin):
    money_fields = ("value", "balance")
    money_help_texts = {"value": "What the voucher is worth, e.g. 25.00."}
    list_display = [
        "display_code",
        "organiser",
        "source",
        "status",
        "value_shown",
        "balance_shown",
        "expires_at",
        "recipient_email",
    ]
    list_filter = ["source", "status"]
    search_fields = ["code", "recipient_email", "recipient_name", "buyer_email"]
    list_select_related = ["organiser"]
    inlines = [VoucherRedemptionInline]

    @admin.display(description="code")
    def display_code(self, obj):
        return obj.display_code

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = IssueVoucherForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return IssueVoucherForm.Meta.fields if obj is None else VOUCHER_FIELDS

    def get_readonly_fields(self, request, obj=None):
        # Balance and status change only through services (spending, returning); staff may
        # extend the expiry or correct who it is for.
        if obj is None:
            return []
        editable = {"expires_at", "recipient_name", "recipient_email", "message"}
        return [f for f in VOUCHER_FIELDS if f not in editable]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        try:
            issued = services.voucher_issue(
                organiser=data["organiser"],
                value=data["value"],
                recipient_name=data.get("recipient_name", ""),
                recipient_email=data.get("recipient_email", ""),
                message=data.get("message", ""),
                expires_at=data.get("expires_at"),
            )
        except PortalError as exc:  # pragma: no cover - the form checks the value first
            messages.error(request, exc.message)
            raise
        # The admin goes on with `obj` (history, redirect): make it the issued voucher.
        for field in Voucher._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued, field.attname))
        obj._state.adding = False
        obj._state.db = issued._state.db
