from __future__ import annotations

from django import forms
from django.contrib import admin

from passes.models import Pass, PassRedemption, PassType
from portal.admin import OrganiserScopedAdmin, OrganiserScopedTabularInline


class PassTypeForm(forms.ModelForm):
    class Meta:
        model = PassType
        fields = [
            "organiser",
            "name",
            "description",
            "price",
            "uses_included",
            "is_offered",
            "position",
            "validity",
            "validity_days",
            "valid_from",
            "valid_until",
            "scope",
            "events",
        ]

    def clean(self):
        data = super().clean()
        scope, events = data.get("scope"), data.get("events")
        if scope == PassType.Scope.CHOSEN_EVENTS and not events:
            self.add_error("events", "Choose the events this pass pays for, or make it valid for all events.")
        if scope == PassType.Scope.ALL_EVENTS and events:
            self.add_error("events", "Chosen events are only used with “only the events chosen”; clear them.")
        organiser = data.get("organiser") or getattr(self.instance, "organiser", None)
        if events and organiser and any(e.organiser_id != organiser.pk for e in events):
            self.add_error("events", "Choose your own events.")
        return data


@admin.register(PassType)
class PassTypeAdmin(OrganiserScopedAdmin):
    money_fields = ("price",)
    form = PassTypeForm
    list_display = ["name", "organiser", "price_shown", "uses_included", "validity", "scope", "is_offered"]
    list_filter = ["is_offered", "scope", "validity"]
    search_fields = ["name"]
    list_select_related = ["organiser"]
    filter_horizontal = ["events"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "organiser",
                    "name",
                    "description",
                    "price",
                    "uses_included",
                    "is_offered",
                    "position",
                )
            },
        ),
        ("How long it lasts", {"fields": ("validity", "validity_days", "valid_from", "valid_until")}),
        ("What it pays for", {"fields": ("scope", "events")}),
    )

    def _sold(self, obj) -> bool:
        return obj is not None and obj.passes.exists()

    def get_fieldsets(self, request, obj=None):
        # A price that can no longer change is shown as money, not typed.
        if not self._sold(obj):
            return super().get_fieldsets(request, obj)
        return [
            (
                title,
                {**options, "fields": tuple("price_shown" if f == "price" else f for f in options["fields"])},
            )
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_readonly_fields(self, request, obj=None):
        # Holders bought these terms: changing them would silently change passes already sold.
        if self._sold(obj):
            return [
                "organiser",
                "price_shown",
                "uses_included",
                "validity",
                "validity_days",
                "valid_from",
                "valid_until",
            ]
        return ["organiser"] if obj is not None else []


class PassRedemptionInline(OrganiserScopedTabularInline):
    model = PassRedemption
    fk_name = "booker_pass"
    fields = ["booking", "uses", "created_at", "returned_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


PASS_FIELDS = [
    "code",
    "organiser",
    "pass_type",
    "user",
    "buyer_email",
    "status",
    "uses_included",
    "uses_left",
    "valid_from",
    "valid_until",
    "price_shown",
    "currency",
    "paid_at",
    "payment_reference",
]


@admin.register(Pass)
class PassAdmin(OrganiserScopedAdmin):
    """Passes follow their payment and their redemptions: staff read them here."""

    money_fields = ("price",)
    list_display = ["pass_type", "buyer_email", "status", "uses_left", "uses_included", "valid_until"]
    list_filter = ["status", "pass_type"]
    search_fields = ["buyer_email", "user__email", "user__name"]
    list_select_related = ["pass_type", "organiser", "user"]
    fields = PASS_FIELDS
    readonly_fields = PASS_FIELDS
    inlines = [PassRedemptionInline]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
