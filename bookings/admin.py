from __future__ import annotations

from django.contrib import admin

from bookings.models import (
    Attendee,
    Booking,
    BookingFormField,
    BookingFormResponse,
    BookingRules,
    Event,
    TicketType,
    WaitingListEntry,
)
from portal.admin import OrganiserScopedAdmin, OrganiserScopedTabularInline


class TicketTypeInline(OrganiserScopedTabularInline):
    model = TicketType
    fields = ["name", "price", "capacity", "position"]


@admin.register(Event)
class EventAdmin(OrganiserScopedAdmin):
    list_display = ["title", "organiser", "starts_at", "capacity", "status"]
    list_filter = ["status", "organiser"]
    search_fields = ["title", "venue"]
    list_select_related = ["organiser"]
    date_hierarchy = "starts_at"
    inlines = [TicketTypeInline]


@admin.register(TicketType)
class TicketTypeAdmin(OrganiserScopedAdmin):
    list_display = ["name", "event", "price", "capacity"]
    search_fields = ["name", "event__title"]
    list_select_related = ["event"]
    autocomplete_fields = ["event"]


class AttendeeInline(OrganiserScopedTabularInline):
    model = Attendee
    fields = ["name", "is_child", "ticket_type", "price", "attendance"]


class ResponseInline(OrganiserScopedTabularInline):
    model = BookingFormResponse
    fields = ["label", "answer"]
    readonly_fields = ["label", "answer"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(OrganiserScopedAdmin):
    list_display = ["reference", "booker_name", "booker_email", "event", "status", "total"]
    list_filter = ["status", "event"]
    search_fields = ["reference", "booker_name", "booker_email"]
    list_select_related = ["event"]
    autocomplete_fields = ["event"]
    # Which account owns a booking follows from verified emails, not from staff edits.
    readonly_fields = ["reference", "user", "created_at"]
    inlines = [AttendeeInline, ResponseInline]


@admin.register(BookingFormField)
class BookingFormFieldAdmin(OrganiserScopedAdmin):
    list_display = ["label", "field_type", "required", "event", "position"]
    list_filter = ["field_type", "event"]
    search_fields = ["label"]
    autocomplete_fields = ["event"]


@admin.register(WaitingListEntry)
class WaitingListEntryAdmin(OrganiserScopedAdmin):
    list_display = ["name", "email", "event", "quantity", "status", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["name", "email", "event__title"]
    list_select_related = ["event"]
    autocomplete_fields = ["event"]
    readonly_fields = ["user"]


@admin.register(BookingRules)
class BookingRulesAdmin(OrganiserScopedAdmin):
    list_display = ["__str__", "transfers_allowed", "cancellations_allowed", "refund_method"]
    autocomplete_fields = ["event"]
    filter_horizontal = ["transfer_target_events"]
