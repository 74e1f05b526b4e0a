from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from memberships import selectors
from memberships.models import (
    Membership,
    MembershipBookingUse,
    MembershipChange,
    MembershipInvoice,
    MembershipPause,
    MembershipPlan,
)
from portal.admin import OrganiserScopedAdmin, OrganiserScopedTabularInline


@admin.register(MembershipPlan)
class MembershipPlanAdmin(OrganiserScopedAdmin):
    money_fields = ("price",)
    list_display = [
        "name",
        "organiser",
        "price_shown",
        "interval",
        "discount_percent",
        "included_bookings",
        "is_offered",
        "pause_allowed",
    ]
    list_filter = ["is_offered", "interval", "pause_allowed"]
    search_fields = ["name"]
    list_select_related = ["organiser"]
    fields = [
        "organiser",
        "name",
        "description",
        "price",
        "interval",
        "discount_percent",
        "included_bookings",
        "is_offered",
        "position",
        "pause_allowed",
        "pause_max_weeks",
        "pauses_per_year",
    ]

    def _has_members(self, obj) -> bool:
        return obj is not None and obj.memberships.exists()

    def get_fields(self, request, obj=None):
        # A price that can no longer change is shown as money, not typed.
        shown = "price_shown" if self._has_members(obj) else "price"
        return [shown if name == "price" else name for name in super().get_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        # Members already pay this price and interval: changing them would silently reprice them.
        if self._has_members(obj):
            return ["organiser", "price_shown", "interval"]
        return ["organiser"] if obj is not None else []


class InvoiceInline(OrganiserScopedTabularInline):
    money_fields = ("amount_due", "amount_paid")
    model = MembershipInvoice
    fields = [
        "number",
        "status",
        "amount_due_shown",
        "amount_paid_shown",
        "currency",
        "issued_at",
        "hosted_url",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PauseInline(OrganiserScopedTabularInline):
    model = MembershipPause
    fields = ["starts_at", "resumes_at", "ended_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ChangeInline(OrganiserScopedTabularInline):
    """What the member changed (switches with their proration, cancellations taken back, pauses
    ended), each emailed to them once."""

    model = MembershipChange
    fields = [
        "created_at",
        "kind",
        "from_plan",
        "plan",
        "credit",
        "charge",
        "next_amount",
        "next_at",
        "email_sent_at",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class BookingUseInline(OrganiserScopedTabularInline):
    model = MembershipBookingUse
    fields = ["booking_reference", "period_start", "tickets", "created_at", "returned_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


# Memberships and invoices follow the payment gateway: organisers read them here, bookers manage them
# in the portal, and Stripe (through the webhooks) is the source of truth.
READ_ONLY_MEMBERSHIP_FIELDS = [
    "code",
    "organiser",
    "plan",
    "user",
    "status",
    "gateway",
    "started_at",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "cancel_reason",
    "paused_until",
    "ended_at",
    "card_brand",
    "card_last4",
    "customer_reference",
    "subscription_reference",
]


NOT_YOUR_BOOKER = (
    "No one who has booked with you has an account with this email. Complimentary memberships are "
    "for your own bookers: once they have booked with you (with an account), you can add one here."
)


class ComplimentaryMembershipForm(forms.ModelForm):
    """Staff give one of their own bookers a membership free of charge until a date they choose.
    The booker is named by email: a dropdown of every user would show one organiser everyone's
    bookers. An address that has not booked with this organiser gets the same answer whether or
    not it has an account elsewhere on the platform."""

    email = forms.EmailField(help_text=_("The email of the account of someone who has booked with you."))
    ends_on = forms.DateField(help_text=_("The membership ends at the end of this day; it is not billed."))

    class Meta:
        model = Membership
        fields = ["plan"]

    def clean(self):
        data = super().clean()
        email, plan = data.get("email"), data.get("plan")
        if email and plan:
            user = selectors.booker_get_for_organiser(organiser=plan.organiser, email=email)
            if user is None:
                self.add_error("email", NOT_YOUR_BOOKER)
            elif Membership.objects.live().filter(user=user, plan=plan).exists():
                self.add_error(None, "This booker already holds this membership.")
            else:
                data["user"] = user
        ends_on = data.get("ends_on")
        if ends_on and ends_on < timezone.localdate():
            self.add_error("ends_on", "Choose a date in the future.")
        return data

    def save(self, commit=True):
        membership = super().save(commit=False)
        plan = self.cleaned_data["plan"]
        end = datetime.combine(self.cleaned_data["ends_on"], time.max).replace(tzinfo=plan.organiser.tzinfo)
        now = timezone.now()
        membership.organiser = plan.organiser
        membership.user = self.cleaned_data["user"]
        membership.gateway = "manual"
        membership.status = Membership.Status.ACTIVE
        membership.started_at = membership.current_period_start = now
        membership.current_period_end = end
        membership.cancel_at_period_end = True
        if commit:
            membership.save()
        return membership


@admin.register(Membership)
class MembershipAdmin(OrganiserScopedAdmin):
    list_display = [
        "plan",
        "user",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "cancel_reason",
        "gateway",
    ]
    list_filter = ["status", "plan", "cancel_reason"]
    search_fields = ["user__email", "user__name", "subscription_reference"]
    list_select_related = ["plan", "user", "organiser"]
    readonly_fields = READ_ONLY_MEMBERSHIP_FIELDS
    inlines = [InvoiceInline, PauseInline, ChangeInline, BookingUseInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ComplimentaryMembershipForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["plan", "email", "ends_on"] if obj is None else READ_ONLY_MEMBERSHIP_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else READ_ONLY_MEMBERSHIP_FIELDS

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # Paid memberships follow the payment gateway: staff read them, bookers manage them.
        return False
