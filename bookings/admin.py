"""The organiser admin for events, bookings, attendance, booking forms, rules and waiting lists.

Every admin here is scoped by `portal.admin.OrganiserScopedAdmin`. Status fields are read-only:
cancelling an event, changing its capacity, marking attendance and retrying refunds go through
`bookings.services`, never through a form field.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings import services
from bookings.exceptions import OrganiserError
from bookings.models import (
    AccountCredit,
    Attendee,
    Booking,
    BookingFormField,
    BookingFormResponse,
    BookingRules,
    CancelledTicket,
    DetailEdit,
    Event,
    Refund,
    TicketCancellation,
    TicketGift,
    TicketType,
    Transfer,
    WaitingListEntry,
)
from portal.admin import (
    OrganiserScopedAdmin,
    OrganiserScopedStackedInline,
    OrganiserScopedTabularInline,
    admin_link,
    is_organiser_staff,
    related_filter,
    scope_to_staff,
)
from portal.exceptions import PortalError
from portal.models import Organiser
from portal.money import format_money


class ReadOnlyMixin:
    """Rows that only services write: staff may look, never add, change or delete."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def money(amount: int, obj) -> str:
    return format_money(amount, getattr(obj, "currency", "") or obj.organiser.currency)


# Rules ----------------------------------------------------------------------------------------

RULE_HELP = {
    "event": _(
        "Leave empty for your default rules, which apply to every event without rules of its own. "
        "Choose an event to give it its own rules instead."
    ),
    "transfers_allowed": _(
        "Let bookers move their tickets themselves (Manage → Transfer ticket in the portal)."
    ),
    "transfer_cutoff_hours": _(
        "Transfers close this many hours before the event starts; bookers then see “Transfers close "
        "24 hours before the event”. 0 means until the event starts."
    ),
    "transfer_scope": _("Which events a ticket may be transferred to."),
    "transfer_target_events": _("Only used when transfers are limited to the events chosen here."),
    "price_difference": _("What happens when the new ticket costs more or less than the old one."),
    "cancellations_allowed": _(
        "Let bookers cancel their own bookings (Manage → Cancel ticket in the portal)."
    ),
    "cancellation_cutoff_hours": _(
        "Cancellations close this many hours before the event starts. 0 means until the event starts."
    ),
    "refund_method": _(
        "How a cancelled booking is refunded: when a booker cancels, and when you cancel an event. "
        "Account credit can be spent on a later booking with you."
    ),
    "cancellation_fee": _(
        "Kept from each refund when a booker cancels, e.g. 2.50. "
        "Never kept when you cancel the event: then bookers get everything back."
    ),
    "details_cutoff_hours": _(
        "Let bookers correct attendee names and their answers to your booking form (Manage → Edit "
        "details) until this many hours before the event starts; 0 means until it starts. Leave "
        "empty to never let them (you can still edit a booking here)."
    ),
    "gift_cutoff_hours": _(
        "Let bookers give a ticket to someone else (Manage → Give a ticket), who accepts it as a "
        "booking of their own, until this many hours before the event starts; 0 means until it "
        "starts. Leave empty to never let them. No money moves."
    ),
    "waiting_list_offer_hours": _(
        "When a place frees up on a full event, the next person waiting is offered it for this many hours."
    ),
    "reminders": _(
        "When bookers get a reminder email (with the booking's link, a calendar file and what to "
        "bring). Only bookings made before the reminder's time get it; bookers can turn reminders "
        "off for you from their Account page or the email."
    ),
}

RULE_ERRORS = {
    "no_targets": _(
        "Choose at least one event to transfer to, or let tickets move to any upcoming event of yours."
    ),
    "targets_unused": _(
        "You chose events to transfer to, but transfers are not limited to chosen events. Set "
        "“Transfer scope” to “Only the events chosen below”, or clear the chosen events."
    ),
    "target_is_self": _("An event can't be a transfer target of itself: choose other events."),
    "target_cancelled": _("“%(event)s” is cancelled, so tickets can't be transferred to it."),
    "target_other_organiser": _("Choose only events of %(organiser)s."),
}


class BookingRulesForm(forms.ModelForm):
    """Validates the combinations a many-to-many takes part in (the model's clean() does the rest)."""

    class Meta:
        model = BookingRules
        fields = ["organiser", *RULE_HELP]
        help_texts = RULE_HELP

    def clean(self):
        cleaned = super().clean()
        targets = cleaned.get("transfer_target_events")
        if targets is None:
            return cleaned
        targets = list(targets)
        scope = cleaned.get("transfer_scope")
        event = cleaned.get("event") if "event" in self.fields else None
        event = event or (self.instance.event if self.instance.event_id else None)
        organiser = cleaned.get("organiser") if "organiser" in self.fields else None
        organiser = organiser or (self.instance.organiser if self.instance.organiser_id else None)

        errors = []
        if scope == BookingRules.TransferScope.CHOSEN_EVENTS:
            if not targets and cleaned.get("transfers_allowed"):
                errors.append(RULE_ERRORS["no_targets"])
        elif targets:
            errors.append(RULE_ERRORS["targets_unused"])
        if event is not None and event in targets:
            errors.append(RULE_ERRORS["target_is_self"])
        for target in targets:
            if organiser is not None and target.organiser_id != organiser.pk:
                errors.append(RULE_ERRORS["target_other_organiser"] % {"organiser": organiser})
                break
            if target.is_cancelled:
                errors.append(RULE_ERRORS["target_cancelled"] % {"event": target})
        if errors:
            self.add_error("transfer_target_events", errors)
        return cleaned


RULE_FIELDSETS = (
    (
        _("Transfers"),
        {
            "fields": (
                "transfers_allowed",
                "transfer_cutoff_hours",
                "transfer_scope",
                "transfer_target_events",
                "price_difference",
            )
        },
    ),
    (
        _("Cancellations and refunds"),
        {
            "fields": (
                "cancellations_allowed",
                "cancellation_cutoff_hours",
                "refund_method",
                "cancellation_fee",
            )
        },
    ),
    (_("Attendee details and gifts"), {"fields": ("details_cutoff_hours", "gift_cutoff_hours")}),
    (
        _("Waiting list"),
        {"fields": ("waiting_list_offer_hours", "waiting_list_offer_mode", "waiting_list_order")},
    ),
    (_("Reminders"), {"fields": ("reminders",)}),
)


@admin.register(BookingRules)
class BookingRulesAdmin(OrganiserScopedAdmin):
    money_fields = ("cancellation_fee",)
    money_help_texts = {"cancellation_fee": RULE_HELP["cancellation_fee"]}
    form = BookingRulesForm
    list_display = [
        "__str__",
        "organiser",
        "transfers_allowed",
        "transfer_cutoff_hours",
        "cancellations_allowed",
        "cancellation_cutoff_hours",
        "refund_method",
        "fee",
    ]
    list_select_related = ["organiser", "event"]
    list_filter = ["transfers_allowed", "cancellations_allowed", "refund_method"]
    search_fields = ["event__title"]
    autocomplete_fields = ["event"]
    filter_horizontal = ["transfer_target_events"]
    fieldsets = ((_("Applies to"), {"fields": ("organiser", "event")}), *RULE_FIELDSETS)

    @admin.display(description=_("fee"))
    def fee(self, obj):
        return money(obj.cancellation_fee, obj.organiser)


class EventRulesInline(OrganiserScopedStackedInline):
    money_fields = ("cancellation_fee",)
    money_help_texts = {"cancellation_fee": RULE_HELP["cancellation_fee"]}
    model = BookingRules
    form = BookingRulesForm
    fk_name = "event"
    max_num = 1
    filter_horizontal = ["transfer_target_events"]
    fieldsets = RULE_FIELDSETS
    verbose_name = _("rules for this event only")
    verbose_name_plural = _("rules for this event only (without them, your default rules apply)")


# Events ---------------------------------------------------------------------------------------


class TicketTypeInline(OrganiserScopedTabularInline):
    money_fields = ("price",)
    model = TicketType
    fields = ["name", "price", "capacity", "position"]


class EventFormFieldInline(OrganiserScopedTabularInline):
    model = BookingFormField
    fk_name = "event"
    fields = ["label", "field_type", "required", "choices", "position"]
    verbose_name = _("booking form question for this event")
    verbose_name_plural = _(
        "booking form questions for this event (if you add any, they replace your default questions)"
    )


class WaitingListInline(OrganiserScopedTabularInline):
    model = WaitingListEntry
    fields = ["name", "email", "places", "ticket", "status", "confirmed_at", "offer_expires_at"]
    readonly_fields = fields
    ordering = [F("confirmed_at").asc(nulls_last=True), "pk"]  # the queue's order

    @admin.display(description=_("places"))
    def places(self, obj):
        return places_asked(obj)

    @admin.display(description=_("ticket"))
    def ticket(self, obj):
        return ticket_waited_for(obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("ticket_type")

    can_delete = False
    verbose_name_plural = _("waiting list")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventForm(forms.ModelForm):
    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk is not None and capacity is not None and "capacity" in self.changed_data:
            # The admin saves in one transaction: the event stays locked from this check to the
            # save, so no booking takes a place in between.
            try:
                services.event_capacity_check(event=self.instance, capacity_wanted=capacity)
            except OrganiserError as error:
                raise forms.ValidationError(error.message) from error
        return capacity


@admin.register(Event)
class EventAdmin(OrganiserScopedAdmin):
    list_display = ["title", "organiser", "starts_at", "venue", "places", "waiting", "status"]
    list_filter = ["status", "organiser"]
    search_fields = ["title", "venue"]
    list_select_related = ["organiser"]
    date_hierarchy = "starts_at"
    readonly_fields = ["status", "cancelled_at", "overview"]
    fieldsets = (
        (None, {"fields": ("organiser", "title", "description", "venue", "what_to_bring")}),
        (_("When"), {"fields": ("starts_at", "ends_at")}),
        (_("Places"), {"fields": ("capacity",)}),
        (_("Status"), {"fields": ("status", "cancelled_at", "overview")}),
    )
    inlines = [TicketTypeInline, EventFormFieldInline, EventRulesInline, WaitingListInline]
    actions = ["cancel_events"]
    form = EventForm

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                waiting_count=Count(
                    "waiting_list",
                    filter=Q(
                        waiting_list__status__in=[
                            WaitingListEntry.Status.WAITING,
                            WaitingListEntry.Status.OFFERED,
                        ]
                    ),
                ),
            )
            # Counting adds a GROUP BY, which drops the default ordering (and paging needs one).
            .order_by("starts_at", "pk")
        )

    @admin.display(description=_("places taken"), ordering="seats_taken")
    def places(self, obj):
        """Taken of capacity, from the event's own counter ("12 / 20")."""
        return f"{obj.seats_taken} / {obj.capacity}"

    @admin.display(description=_("waiting"), ordering="waiting_count")
    def waiting(self, obj):
        return obj.waiting_count

    @admin.display(description=_("bookings"))
    def overview(self, obj):
        if obj.pk is None:
            return "-"
        bookings_url = reverse("admin:bookings_booking_changelist") + f"?event__id__exact={obj.pk}"
        attendees_url = reverse("admin:bookings_attendee_changelist") + f"?event={obj.pk}"
        return format_html(
            '<a href="{}">Bookings</a> · <a href="{}">Attendees and attendance</a>',
            bookings_url,
            attendees_url,
        )

    # Cancelling: an action for many events, and a button on one event's page -----------------

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A raised capacity, the event's or a ticket type's own limit, goes to the people waiting
        # at once, not at the next periodic run (after the inlines: the ticket types are saved).
        if change and ("capacity" in form.changed_data or _ticket_limit_changed(formsets)):
            services.waiting_list_offer_places_now(event=form.instance)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name=f"{info[0]}_{info[1]}_cancel",
            ),
            *super().get_urls(),
        ]

    def cancel_view(self, request, object_id):
        event = self.get_object(request, unquote(object_id))
        if event is None:
            raise Http404("No such event.")
        if not self.has_change_permission(request, event):
            raise PermissionDenied
        change_url = reverse("admin:bookings_event_change", args=[event.pk])
        if request.method == "POST":
            self._cancel(request, [event], **self._cancellation_words(request))
            return HttpResponseRedirect(change_url)
        return self._confirm_cancel(request, [event], action_url=request.path, back_url=change_url)

    @admin.action(description=_("Cancel selected events (refund and email every booker)"))
    def cancel_events(self, request, queryset):
        events = list(queryset.order_by("starts_at"))
        if request.POST.get("confirm") != "yes":
            return self._confirm_cancel(request, events, action_url="", back_url=request.get_full_path())
        self._cancel(request, events, **self._cancellation_words(request))
        return None

    @staticmethod
    def _cancellation_words(request) -> dict:
        """What the organiser tells the bookers (the service checks its length)."""
        return {
            "message": request.POST.get("message", ""),
            "offer_rebooking": request.POST.get("offer_rebooking") == "on",
        }

    def _confirm_cancel(self, request, events, *, action_url, back_url):
        bookings = dict(
            Booking.objects.filter(event__in=events, status=Booking.Status.CONFIRMED)
            .values_list("event")
            .annotate(n=Count("pk"))
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Cancel events?") if len(events) > 1 else _("Cancel this event?"),
            "opts": self.opts,
            "events": [(event, bookings.get(event.pk, 0)) for event in events],
            "action_url": action_url,
            "back_url": back_url,
            "is_action": not action_url,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "message_max": services.CANCELLATION_MESSAGE_MAX,
        }
        return TemplateResponse(request, "admin/bookings/event/cancel_confirmation.html", context)

    def _cancel(self, request, events, *, message: str = "", offer_rebooking: bool = False):
        for event in events:
            try:
                queued = services.event_cancel(event=event, message=message, offer_rebooking=offer_rebooking)
            except PortalError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                continue
            self.log_change(request, event, "Cancelled the event.")
            self.message_user(
                request,
                ngettext(
                    "“%(event)s” is cancelled. %(n)s booking is being refunded and emailed.",
                    "“%(event)s” is cancelled. %(n)s bookings are being refunded and emailed.",
                    len(queued),
                )
                % {"event": event, "n": len(queued)},
                messages.SUCCESS,
            )


def _ticket_limit_changed(formsets) -> bool:
    return any(
        "capacity" in form.changed_data
        for formset in formsets
        if formset.model is TicketType
        for form in formset.forms
        if form.has_changed()
    )


@admin.register(TicketType)
class TicketTypeAdmin(OrganiserScopedAdmin):
    money_fields = ("price",)
    list_display = ["name", "event", "price_shown", "capacity"]
    search_fields = ["name", "event__title"]
    list_select_related = ["event"]
    autocomplete_fields = ["event"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "capacity" in form.changed_data:
            # A raised limit goes to the people waiting for this ticket at once, as the event's does.
            services.waiting_list_offer_places_now(event=obj.event)


# Bookings -------------------------------------------------------------------------------------


class AttendeeInline(OrganiserScopedTabularInline):
    money_fields = ("price",)
    model = Attendee
    fields = ["name", "is_child", "ticket_type", "price_shown", "included", "attendance"]
    # Attendance changes through the Attendees list's actions; tickets through transfers.
    readonly_fields = ["ticket_type", "price_shown", "included", "attendance"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ResponseInline(OrganiserScopedTabularInline):
    model = BookingFormResponse
    fields = ["label", "answer"]
    readonly_fields = ["label", "answer"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class RefundInline(OrganiserScopedTabularInline):
    money_fields = ("amount", "fee_kept")
    model = Refund
    fields = [
        "reason",
        "method",
        "amount_shown",
        "fee_kept_shown",
        "status",
        "gateway_reference",
        "last_error",
        "completed_at",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TransferInline(OrganiserScopedTabularInline):
    money_fields = ("old_total", "new_total")
    model = Transfer
    fk_name = "booking"
    fields = [
        "created_at",
        "from_event",
        "to_event",
        "to_ticket_type",
        "old_total_shown",
        "new_total_shown",
        "status",
        "failure",
    ]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("transfers by the booker")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TicketCancellationInline(OrganiserScopedTabularInline):
    model = TicketCancellation
    fields = ["created_at", "tickets_shown", "pass_uses_back", "voucher_back", "included_back"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("tickets cancelled by the booker")

    def get_queryset(self, request):
        # Each cancellation names its tickets and their types: read them in one go, not per row.
        tickets = Prefetch("tickets", queryset=CancelledTicket.objects.select_related("ticket_type"))
        return super().get_queryset(request).prefetch_related(tickets)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("tickets"))
    def tickets_shown(self, obj):
        return ", ".join(f"{ticket.name} ({ticket.ticket_type.name})" for ticket in obj.tickets.all())


class TicketGiftInline(OrganiserScopedTabularInline):
    model = TicketGift
    fk_name = "booking"
    fields = [
        "created_at",
        "ticket_label",
        "recipient_name",
        "recipient_email",
        "status",
        "expires_at",
        "new_booking",
    ]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("tickets given away by the booker")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DetailEditInline(OrganiserScopedTabularInline):
    """The audit trail of the booker's corrections: who changed what, when."""

    model = DetailEdit
    fields = ["created_at", "changed_by_shown", "changes_shown"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("details changed by the booker")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("who"))
    def changed_by_shown(self, obj):
        return obj.changed_by_shown

    @admin.display(description=_("changes"))
    def changes_shown(self, obj):
        return format_html_join(
            "",
            "<div>{}: “{}” → “{}”</div>",
            ((c.get("what", ""), c.get("before", ""), c.get("after", "")) for c in obj.changes_shown()),
        )


class EventDateFilter(admin.SimpleListFilter):
    """Bookings by when their event is: what an organiser looks for ("who is coming this week")."""

    title = _("event date")
    parameter_name = "event_date"

    def lookups(self, request, model_admin):
        return [
            ("today", _("Today")),
            ("next7", _("Next 7 days")),
            ("next30", _("Next 30 days")),
            ("upcoming", _("All upcoming")),
            ("past", _("Past")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        today = timezone.localdate()
        windows = {
            "today": Q(event__starts_at__date=today),
            "next7": Q(event__starts_at__gte=now, event__starts_at__lt=now + timedelta(days=7)),
            "next30": Q(event__starts_at__gte=now, event__starts_at__lt=now + timedelta(days=30)),
            "upcoming": Q(event__starts_at__gte=now),
            "past": Q(event__starts_at__lt=now),
        }
        return queryset.filter(windows[self.value()]) if self.value() in windows else queryset


@admin.register(Booking)
class BookingAdmin(OrganiserScopedAdmin):
    list_display = ["reference", "booker_name", "booker_email", "event", "status", "cancelled_by", "amount"]
    list_filter = [EventDateFilter, "status", "cancelled_by", "event"]
    search_fields = ["reference", "booker_name", "booker_email", "attendees__name"]
    list_select_related = ["event", "organiser"]
    autocomplete_fields = ["event"]
    # Bookings are made by bookers; status, money and event change only through services.
    readonly_fields = [
        "reference",
        "event",
        "user",
        "status",
        "cancelled_by",
        "cancelled_at",
        "amount",
        "payment_method",
        "payment_reference",
        "booked_from",
        "created_at",
    ]
    fieldsets = (
        (None, {"fields": ("reference", "event", "status", "cancelled_by", "cancelled_at")}),
        (_("Booker"), {"fields": ("booker_name", "booker_email", "booker_phone", "user")}),
        (_("Payment"), {"fields": ("amount", "payment_method", "payment_reference")}),
        (_("History"), {"fields": ("booked_from", "created_at")}),
    )
    inlines = [
        AttendeeInline,
        ResponseInline,
        RefundInline,
        TransferInline,
        TicketCancellationInline,
        TicketGiftInline,
        DetailEditInline,
    ]

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: bookings stay for reporting

    @admin.display(description=_("total"), ordering="total")
    def amount(self, obj):
        return money(obj.total, obj)


ATTENDANCE_ACTIONS = ["mark_attended", "mark_absent", "mark_unmarked"]


@admin.register(Attendee)
class AttendeeAdmin(OrganiserScopedAdmin):
    money_fields = ("price",)
    list_display = ["name", "is_child", "booking_link", "event", "ticket_type", "attendance"]
    list_filter = [
        "attendance",
        related_filter("booking__event", Event, _("event"), parameter_name="event"),
        "is_child",
    ]
    search_fields = ["name", "booking__reference", "booking__booker_name", "booking__booker_email"]
    list_select_related = ["booking", "booking__event", "ticket_type", "organiser"]
    fields = ["name", "is_child", "booking_link", "event", "ticket_type", "price_shown", "attendance"]
    readonly_fields = ["booking_link", "event", "ticket_type", "price_shown", "attendance"]
    actions = ATTENDANCE_ACTIONS

    def get_queryset(self, request):
        return super().get_queryset(request).filter(booking__status=Booking.Status.CONFIRMED)

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        tracking = scope_to_staff(request, Organiser.objects.filter(attendance_tracking=True)).exists()
        if not tracking:
            for name in ATTENDANCE_ACTIONS:
                actions.pop(name, None)
        return actions

    @admin.display(description=_("booking"), ordering="booking__reference")
    def booking_link(self, obj):
        return admin_link(obj.booking, obj.booking.reference)

    @admin.display(description=_("event"), ordering="booking__event__starts_at")
    def event(self, obj):
        return obj.booking.event

    @admin.action(description=_("Mark selected attendees as attended"))
    def mark_attended(self, request, queryset):
        self._mark(request, queryset, Attendee.Attendance.ATTENDED)

    @admin.action(description=_("Mark selected attendees as did not attend"))
    def mark_absent(self, request, queryset):
        self._mark(request, queryset, Attendee.Attendance.ABSENT)

    @admin.action(description=_("Clear attendance of selected attendees"))
    def mark_unmarked(self, request, queryset):
        self._mark(request, queryset, Attendee.Attendance.UNMARKED)

    def _mark(self, request, queryset, attendance):
        # The queryset is already scoped; a staff member of several organisers marks each in turn.
        selected = dict(queryset.values_list("pk", "organiser_id"))
        label = Attendee.Attendance(attendance).label
        for organiser in Organiser.objects.filter(pk__in=set(selected.values())):
            ids = [pk for pk, organiser_id in selected.items() if organiser_id == organiser.pk]
            try:
                changed = services.attendance_mark(
                    organiser=organiser, attendee_ids=ids, attendance=attendance
                )
            except PortalError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                continue
            self.message_user(request, f"{label}: {changed} attendee(s) marked.", messages.SUCCESS)
            if changed < len(ids):
                self.message_user(
                    request,
                    f"{len(ids) - changed} left as they were: attendance can be marked once the event "
                    "has started.",
                    messages.WARNING,
                )


# Booking form, waiting lists, refunds ---------------------------------------------------------


@admin.register(BookingFormField)
class BookingFormFieldAdmin(OrganiserScopedAdmin):
    list_display = ["label", "field_type", "required", "applies_to", "position"]
    list_editable = ["position"]
    list_filter = ["field_type", "required", "event"]
    search_fields = ["label", "event__title"]
    list_select_related = ["event"]
    autocomplete_fields = ["event"]
    fields = ["organiser", "event", "label", "field_type", "required", "choices", "position"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs.setdefault(
            "help_texts",
            {
                "event": _(
                    "Leave empty to ask on every event. Questions of an event replace your default "
                    "questions on that event."
                ),
                "position": _("Questions are asked in this order, lowest first."),
            },
        )
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description=_("asked on"), ordering="event__starts_at")
    def applies_to(self, obj):
        return obj.event or _("every event (default)")


def places_asked(entry: WaitingListEntry) -> str:
    if entry.quantity > 1 and entry.accepts_fewer:
        return _("up to %(count)s") % {"count": entry.quantity}
    if entry.quantity > 1:
        return _("%(count)s, all together") % {"count": entry.quantity}
    return str(entry.quantity)


def ticket_waited_for(entry: WaitingListEntry) -> str:
    """The ticket type the entry waits for ("any ticket" when it named none)."""
    return entry.ticket_type.name if entry.ticket_type_id else _("any ticket")


@admin.register(WaitingListEntry)
class WaitingListEntryAdmin(OrganiserScopedAdmin):
    list_display = ["name", "email", "event", "places", "ticket", "status", "offer", "confirmed_at"]
    list_filter = ["status", "event"]
    # Each event's queue in order: filter by event to see one.
    ordering = ["event__starts_at", "event", F("confirmed_at").asc(nulls_last=True), "pk"]
    actions = ["offer_places"]
    search_fields = ["name", "email", "event__title"]
    list_select_related = ["event", "organiser", "ticket_type"]
    autocomplete_fields = ["event"]
    fields = [
        "event",
        "name",
        "email",
        "quantity",
        "ticket",
        "status",
        "confirmed_at",
        "offer",
        "user",
        "created_at",
    ]
    # Offers are made by the waiting-list service; the list shows them, it doesn't make them.
    readonly_fields = ["event", "ticket", "status", "confirmed_at", "offer", "user", "created_at"]

    def has_add_permission(self, request, *args):
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status == WaitingListEntry.Status.OFFERED:
            fields.append("quantity")  # the offer holds that many places on the event
        return fields

    def delete_model(self, request, obj):
        services.waiting_list_entries_close(entry_ids=[obj.pk], delete=True)

    def delete_queryset(self, request, queryset):
        # An offer's places go back to the event as its entry goes.
        services.waiting_list_entries_close(entry_ids=queryset.values_list("pk", flat=True), delete=True)

    @admin.display(description=_("places asked for"), ordering="quantity")
    def places(self, obj):
        return places_asked(obj)

    @admin.display(description=_("ticket"), ordering="ticket_type__name")
    def ticket(self, obj):
        return ticket_waited_for(obj)

    @admin.action(description=_("Offer places now, out of turn (holds them and emails the booker)"))
    def offer_places(self, request, queryset):
        for entry in queryset.select_related("event").order_by("confirmed_at", "pk"):
            try:
                entry = services.waiting_list_offer_by_hand(entry=entry)
            except PortalError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "Offered %(count)s place to %(name)s for %(event)s.",
                        "Offered %(count)s places to %(name)s for %(event)s.",
                        entry.quantity,
                    )
                    % {"count": entry.quantity, "name": entry.name, "event": entry.event.title},
                    messages.SUCCESS,
                )

    @admin.display(description=_("offer window"), ordering="offer_expires_at")
    def offer(self, obj):
        if obj.offer_expires_at is None:
            return "-"
        local = timezone.localtime(obj.offer_expires_at, obj.organiser.tzinfo)
        state = _("open until") if obj.offer_expires_at > timezone.now() else _("expired")
        return f"{state} {local:%a %d %b %Y %H:%M}"


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, OrganiserScopedAdmin):
    money_fields = ("amount", "fee_kept")
    list_display = ["booking", "event", "reason", "method", "amount_given", "fee", "status", "completed_at"]
    list_filter = ["status", "method", "reason"]
    search_fields = ["booking__reference", "booking__booker_name", "booking__booker_email"]
    list_select_related = ["booking", "booking__event", "organiser"]
    readonly_fields = ["last_error"]
    actions = ["retry"]

    def has_change_permission(self, request, obj=None):
        # No form fields are editable; change permission only enables the retry action.
        return is_organiser_staff(request) and obj is None

    def get_fields(self, request, obj=None):
        return [
            "booking",
            "reason",
            "method",
            "amount_shown",
            "fee_kept_shown",
            "currency",
            "status",
            "gateway_reference",
            "last_error",
            "completed_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("event"))
    def event(self, obj):
        return obj.booking.event

    @admin.display(description=_("refunded"), ordering="amount")
    def amount_given(self, obj):
        return money(obj.amount, obj)

    @admin.display(description=_("fee kept"))
    def fee(self, obj):
        return money(obj.fee_kept, obj)

    @admin.action(description=_("Retry selected pending refunds"), permissions=["change"])
    def retry(self, request, queryset):
        done = failed = 0
        for refund in queryset.filter(status=Refund.Status.PENDING).select_related("booking"):
            try:
                if refund.transfer_id is None:  # a cancellation: its email follows the money
                    services.booking_settle_cancellation(booking=refund.booking)
                else:
                    services.refund_pay(refund=refund)
            except PortalError as exc:
                failed += 1
                self.message_user(request, f"{refund.booking}: {exc.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} refund(s) made, {failed} still pending.", messages.INFO)


@admin.register(AccountCredit)
class AccountCreditAdmin(ReadOnlyMixin, OrganiserScopedAdmin):
    list_display = ["email", "credit", "booking", "created_at"]
    search_fields = ["email", "refund__booking__reference"]
    list_select_related = ["refund__booking", "organiser"]
    fields = ["email", "user", "credit", "booking", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("amount"), ordering="amount")
    def credit(self, obj):
        return money(obj.amount, obj)

    @admin.display(description=_("booking"))
    def booking(self, obj):
        return obj.refund.booking
