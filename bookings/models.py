"""Events, tickets, bookings and the organiser's rules for changing them."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import OrganiserQuerySet, TenantModel
from portal.money import validate_amount

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read over the phone


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def new_link_secret() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits


SEAT_COUNTERS = ("seats_taken", "seats_held")


class EventQuerySet(OrganiserQuerySet):
    def scheduled(self):
        return self.filter(status=Event.Status.SCHEDULED)

    def upcoming(self):
        return self.scheduled().filter(starts_at__gt=timezone.now())


class Event(TenantModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    venue = models.CharField(max_length=200, blank=True)
    what_to_bring = models.TextField(
        blank=True,
        max_length=1000,
        help_text=_("Optional: shown in the reminder email and the calendar entry (a mat, water, cash)."),
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(help_text=_("Seats across all ticket types."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancellation_message = models.TextField(
        blank=True,
        max_length=1000,
        editable=False,
        help_text=_("The organiser's words to bookers when they cancelled the event."),
    )
    cancellation_offers_rebooking = models.BooleanField(
        default=False, editable=False, help_text=_("The cancellation invited bookers to book another date.")
    )
    # The seat counters (bookings.capacity): tickets of confirmed and pending bookings, and places
    # held for waiting-list offers. Written only by the services that take and free places, with
    # this row locked; never by a form or a plain save (see `save`).
    # (A database default too, for rows inserted by SQL: seed_scale.)
    seats_taken = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    seats_held = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["organiser", "status", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")), name="event_ends_after_it_starts"
            ),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=models.F("capacity") - models.F("seats_held")),
                name="event_seats_within_capacity",
                violation_error_message=_("More places are booked or held than the capacity allows."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # An instance read before a booking (the admin's form, a script) carries counters that are
        # out of date by the time it is saved: writing them back would lose seats. The services
        # name the counters in `update_fields` when they mean to write them.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in SEAT_COUNTERS
            ]
        super().save(*args, **kwargs)

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            raise ValidationError({"ends_at": _("An event cannot end before it starts.")})

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()


class TicketType(TenantModel):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="ticket_types")
    name = models.CharField(max_length=120)
    price = models.PositiveIntegerField(
        help_text=_("In minor units (pence, cents)."), validators=[validate_amount]
    )
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Optional limit for this ticket type within the event.")
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.event}: {self.name}"

    def clean(self):
        if self.event_id and self.organiser_id and self.event.organiser_id != self.organiser_id:
            raise ValidationError(_("A ticket type belongs to its event's organiser."))


class Booking(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    class CancelledBy(models.TextChoices):
        BOOKER = "booker", _("You cancelled")
        ORGANISER = "organiser", _("The organiser cancelled the event")
        GIVEN = "given", _("You gave every ticket away")

    class PaymentMethod(models.TextChoices):
        FREE = "free", _("Free")
        CARD = "card", _("Card")
        OFFLINE = "offline", _("Offline payment")
        PASS = "pass", _("Pass")
        VOUCHER = "voucher", _("Voucher")
        MEMBERSHIP = "membership", _("Included in your membership")

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="bookings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )
    booker_name = models.CharField(max_length=150)
    booker_email = models.EmailField()
    booker_phone = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0, help_text=_("In minor units, after any discount."))
    discount = models.PositiveIntegerField(
        default=0, help_text=_("Taken off the tickets' prices, in minor units.")
    )
    discount_reason = models.CharField(max_length=200, blank=True)
    included_amount = models.PositiveIntegerField(
        default=0, help_text=_("The prices of the tickets a membership's included bookings paid for.")
    )
    included_reason = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3)
    payment_method = models.CharField(
        max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.FREE
    )
    payment_reference = models.CharField(max_length=120, blank=True)
    booked_from = models.CharField(
        max_length=200, blank=True, help_text=_("The public page path the booking was made on.")
    )
    # Rotating this revokes every signed View booking link sent so far.
    link_secret = models.CharField(max_length=32, default=new_link_secret, editable=False)
    # NULL, not "", so that bookings made without a key never collide in the unique constraint.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the booker has been told the organiser cancelled; the email goes out once.
    cancellation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OrganiserQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["booker_email"]),
            models.Index(fields=["event", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organiser", "idempotency_key"], name="booking_idempotent_per_organiser"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def refunds_shown(self) -> list:
        """The refunds worth a line on the booking: money that went back, or a refusal of a paid
        booking. A booking paid with a pass or voucher gets those back instead (the order details
        say so), and its empty "credit" refund is not news."""
        return [
            refund
            for refund in self.refunds.all()
            if refund.amount or (refund.method == BookingRules.RefundMethod.NONE and self.total)
        ]

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    def clean(self):
        if self.event_id and self.organiser_id and self.event.organiser_id != self.organiser_id:
            raise ValidationError(_("A booking belongs to its event's organiser."))


class Attendee(TenantModel):
    """One ticket: who holds it, of which type, at what price."""

    class Attendance(models.TextChoices):
        UNMARKED = "unmarked", _("Not marked")
        ATTENDED = "attended", _("Attended")
        ABSENT = "absent", _("Did not attend")

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="attendees")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="attendees")
    name = models.CharField(max_length=150)
    is_child = models.BooleanField(default=False)
    price = models.PositiveIntegerField(help_text=_("What was paid for this ticket, in minor units."))
    # A member's included booking paid for this ticket (the booking's `included_amount` is the sum
    # of these tickets' prices); cancelling or moving it gives back or takes along exactly that one.
    included = models.BooleanField(
        _("included in a membership"), default=False, help_text=_("Paid by a member's included booking.")
    )
    attendance = models.CharField(max_length=10, choices=Attendance.choices, default=Attendance.UNMARKED)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["ticket_type"])]

    def __str__(self) -> str:
        return self.name


class BookingFormField(TenantModel):
    """A question on the booking form; an event's own fields replace the organiser's defaults."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Short text")
        TEXTAREA = "textarea", _("Long text")
        CHOICE = "choice", _("Choice")
        CHECKBOX = "checkbox", _("Tick box")

    event = models.ForeignKey(
        Event,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="form_fields",
        help_text=_("Leave empty to ask on every event."),
    )
    label = models.CharField(max_length=200)
    field_type = models.CharField(max_length=10, choices=FieldType.choices, default=FieldType.TEXT)
    required = models.BooleanField(default=False)
    choices = models.TextField(blank=True, help_text=_("For a choice field: one option per line."))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.splitlines() if c.strip()]

    def clean(self):
        if self.field_type == self.FieldType.CHOICE and len(self.choice_list) < 2:
            raise ValidationError({"choices": _("A choice field needs at least two options.")})
        if self.field_type != self.FieldType.CHOICE and self.choice_list:
            raise ValidationError({"choices": _("Options are only used by a choice field; clear them.")})
        if self.event_id and self.organiser_id and self.event.organiser_id != self.organiser_id:
            raise ValidationError({"event": _("Choose one of your own events.")})


class BookingFormResponse(TenantModel):
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="responses")
    field = models.ForeignKey(BookingFormField, null=True, blank=True, on_delete=models.SET_NULL)
    label = models.CharField(max_length=200, help_text=_("The question as it was asked."))
    answer = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]


class WaitingListQuerySet(OrganiserQuerySet):
    def waiting(self):
        return self.filter(status=WaitingListEntry.Status.WAITING)

    def open(self):
        return self.filter(status__in=[WaitingListEntry.Status.WAITING, WaitingListEntry.Status.OFFERED])


class WaitingListEntry(TenantModel):
    class Status(models.TextChoices):
        # Anyone can type any address: a place counts once its mailbox's owner confirms it.
        UNCONFIRMED = "unconfirmed", _("Not confirmed yet")
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered a place")
        LEFT = "left", _("Left the list")
        BOOKED = "booked", _("Booked")
        EXPIRED = "expired", _("Offer expired")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="waiting_list")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="waiting_list_entries",
    )
    name = models.CharField(max_length=150)
    email = models.EmailField()
    # The ticket type the places are wanted as, or None: any of the event's tickets. The event's
    # places are one pool (`Event.capacity`), so it matters only for a type with its own limit:
    # an offer needs room within that limit too (see `bookings.services.waiting_list`). A type
    # deleted later leaves the entry waiting for any ticket.
    ticket_type = models.ForeignKey(
        TicketType, null=True, blank=True, on_delete=models.SET_NULL, related_name="waiting_list"
    )
    # The places asked for; an offer of fewer (to an entry that `accepts_fewer`) lowers it to
    # the places held, so while OFFERED it is always what the offer holds on the event's counter.
    quantity = models.PositiveSmallIntegerField(default=1)
    # False: all the places together or none (a family); True: as many as free up.
    accepts_fewer = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNCONFIRMED)
    # When the address's owner confirmed (or joined with an address they had proved): the queue
    # runs in this order.
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    # Claimed by the task that emails the offer, so a retried task sends it once (cleared when a
    # notify-everyone rule tells the place about free places again).
    offer_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Told that places are free under a notify-everyone rule (nothing held): its offer link may
    # then book, first come first served.
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = WaitingListQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "waiting list entries"
        indexes = [models.Index(fields=["user", "status"]), models.Index(fields=["email"])]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "email"],
                condition=Q(status__in=["waiting", "offered"]),
                name="one_open_waiting_entry_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} waiting for {self.event}"

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.WAITING, self.Status.OFFERED}

    @property
    def is_on_the_list(self) -> bool:
        """Open, or asked for and not confirmed yet: its owner may still see it, confirm or leave."""
        return self.is_open or self.status == self.Status.UNCONFIRMED

    @property
    def may_claim(self) -> bool:
        """Its offer link may book: a live offer (places held), or a notice that places are free."""
        return self.offer_is_live or (self.status == self.Status.WAITING and self.notified_at is not None)

    @property
    def offer_is_live(self) -> bool:
        return (
            self.status == self.Status.OFFERED
            and self.offer_expires_at is not None
            and self.offer_expires_at > timezone.now()
        )


MAX_CUTOFF_HOURS = 24 * 365


class BookingRules(TenantModel):
    """Transfer and cancellation rules: the organiser's default, or one event's override."""

    class Reminders(models.TextChoices):
        # The hours before the start, comma-separated (read by `reminder_hours`).
        DAY_BEFORE = "24", _("24 hours before")
        HOURS_BEFORE = "2", _("2 hours before")
        BOTH = "24,2", _("24 hours and 2 hours before")
        OFF = "", _("No reminders")

    class TransferScope(models.TextChoices):
        ANY_EVENT = "any", _("Any upcoming event of ours")
        SAME_EVENT = "same_event", _("Another ticket type of the same event only")
        CHOSEN_EVENTS = "chosen", _("Only the events chosen below")

    class PriceDifference(models.TextChoices):
        SETTLE = "settle", _("Charge a dearer ticket; refund a cheaper one")
        EQUAL_OR_CHEAPER_NO_REFUND = "no_refund", _("Allow same price or cheaper, no refund")
        SAME_PRICE_ONLY = "same_price", _("Only tickets of the same price")

    class RefundMethod(models.TextChoices):
        ORIGINAL = "original", _("To the original payment")
        CREDIT = "credit", _("As account credit (a voucher)")
        NONE = "none", _("No refund")

    class WaitingListOfferMode(models.TextChoices):
        ONE_AT_A_TIME = "one", _("One at a time: the places are held for the next person for a time")
        NOTIFY_ALL = "all", _("Notify everyone waiting: the first to book gets the places")

    class WaitingListOrder(models.TextChoices):
        STRICT = "strict", _("Strict order: nobody passes the person at the front of the queue")
        FILL = "fill", _("Let smaller requests behind take places the front of the queue can't use")

    event = models.OneToOneField(
        Event,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
        help_text=_("Leave empty for your default rules."),
    )
    transfers_allowed = models.BooleanField(default=False)
    transfer_cutoff_hours = models.PositiveIntegerField(
        default=24, help_text=_("Transfers close this many hours before the event starts.")
    )
    transfer_scope = models.CharField(
        max_length=12, choices=TransferScope.choices, default=TransferScope.ANY_EVENT
    )
    transfer_target_events = models.ManyToManyField(
        Event,
        blank=True,
        related_name="+",
        help_text=_("Used when transfers are limited to chosen events."),
    )
    price_difference = models.CharField(
        max_length=12, choices=PriceDifference.choices, default=PriceDifference.SETTLE
    )
    cancellations_allowed = models.BooleanField(default=False)
    cancellation_cutoff_hours = models.PositiveIntegerField(
        default=48, help_text=_("Cancellations close this many hours before the event starts.")
    )
    refund_method = models.CharField(
        max_length=10, choices=RefundMethod.choices, default=RefundMethod.ORIGINAL
    )
    cancellation_fee = models.PositiveIntegerField(
        default=0, help_text=_("Kept from each refund, in minor units.")
    )
    details_cutoff_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Bookers may correct attendee names and booking-form answers until this many hours "
            "before the event starts. Leave empty: never."
        ),
    )
    gift_cutoff_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Bookers may give a ticket to someone else until this many hours before the event "
            "starts. Leave empty: never."
        ),
    )
    waiting_list_offer_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_("When a place frees up, the next person waiting has this many hours to book it."),
    )
    waiting_list_offer_mode = models.CharField(
        max_length=4,
        choices=WaitingListOfferMode.choices,
        default=WaitingListOfferMode.ONE_AT_A_TIME,
        help_text=_(
            "One at a time holds freed places for the next person for the hours above. Notify "
            "everyone holds nothing: each person whose request fits is emailed (again after those "
            "hours if places are still free), and whoever books first gets them."
        ),
    )
    waiting_list_order = models.CharField(
        max_length=8,
        choices=WaitingListOrder.choices,
        default=WaitingListOrder.STRICT,
        help_text=_(
            "When the person at the front of the waiting list needs more places than are free: "
            "wait for enough places, or offer the free ones to smaller requests behind them."
        ),
    )
    reminders = models.CharField(
        max_length=10,
        choices=Reminders.choices,
        default=Reminders.DAY_BEFORE,
        blank=True,
        help_text=_("When bookers get a reminder email before the event (bookers can turn them off)."),
    )

    class Meta:
        verbose_name = "transfer and cancellation rules"
        verbose_name_plural = "transfer and cancellation rules"
        constraints = [
            models.UniqueConstraint(
                fields=["organiser"],
                condition=Q(event__isnull=True),
                name="one_default_rule_set_per_organiser",
                violation_error_message=_("You already have default rules: edit those instead."),
            ),
        ]

    def __str__(self) -> str:
        return f"Rules for {self.event}" if self.event_id else f"Default rules for {self.organiser}"

    @property
    def reminder_hours(self) -> list[int]:
        return [int(hours) for hours in self.reminders.split(",") if hours]

    def clean(self):
        # Combinations of transfer targets (a many-to-many) are checked by the admin form.
        errors = {}
        if self.refund_method == self.RefundMethod.NONE and self.cancellation_fee:
            errors["cancellation_fee"] = _("A fee makes no sense when nothing is refunded.")
        elif self.cancellation_fee and not self.cancellations_allowed:
            errors["cancellation_fee"] = _(
                "A cancellation fee only applies when bookers may cancel; set it to 0 or allow cancellations."
            )
        for name in [
            "transfer_cutoff_hours",
            "cancellation_cutoff_hours",
            "details_cutoff_hours",
            "gift_cutoff_hours",
        ]:
            if (getattr(self, name) or 0) > MAX_CUTOFF_HOURS:
                errors[name] = _(
                    "A cut-off longer than a year makes no sense; use at most %(max)s hours."
                ) % {"max": MAX_CUTOFF_HOURS}
        if self.event_id and self.organiser_id and self.event.organiser_id != self.organiser_id:
            errors["event"] = _("Choose one of your own events.")
        if errors:
            raise ValidationError(errors)


class Refund(TenantModel):
    """Money given back for a booking. One per booking and reason, so a retry never pays twice."""

    class Reason(models.TextChoices):
        EVENT_CANCELLED = "event_cancelled", _("The organiser cancelled the event")
        BOOKER_CANCELLED = "booker_cancelled", _("The booker cancelled")
        TRANSFER = "transfer", _("Moved to a cheaper ticket")
        TICKETS_CANCELLED = "tickets_cancelled", _("The booker cancelled some tickets")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Done")

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="refunds")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # Set for a price difference given back on a transfer; a booking may be moved more than once.
    transfer = models.OneToOneField(
        "Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )
    # Set for the money of some tickets given back; a booking may lose tickets more than once.
    cancellation = models.OneToOneField(
        "TicketCancellation", null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )
    method = models.CharField(max_length=10, choices=BookingRules.RefundMethod.choices)
    amount = models.PositiveIntegerField(help_text=_("Given back, in minor units."))
    fee_kept = models.PositiveIntegerField(default=0, help_text=_("Kept by the organiser, in minor units."))
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway_reference = models.CharField(max_length=120, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The organiser would rather give credit: until then the booker may take it instead of the
    # card refund (one click in the email); afterwards the card is refunded (never credit by default).
    credit_offer_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "reason"],
                condition=Q(transfer__isnull=True, cancellation__isnull=True),
                name="one_refund_per_booking_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund for {self.booking}"

    @property
    def credit_offer_open(self) -> bool:
        """The booker may still take this refund as credit instead (see refunds.refund_credit_offer)."""
        return (
            self.status == self.Status.PENDING
            and self.credit_offer_until is not None
            and self.credit_offer_until > timezone.now()
        )

    @property
    def idempotency_key(self) -> str:
        if self.transfer_id:
            return f"transfer-{self.transfer_id}-refund"
        if self.cancellation_id:
            return f"cancellation-{self.cancellation_id}-refund"
        return f"booking-{self.booking_id}-refund-{self.reason}"


class Transfer(TenantModel):
    """A booker moving a booking to another event or ticket type, and the price difference.

    A dearer move waits (PENDING) for its payment; it completes when the money is in, or fails
    (and the payment is given back) if the seats went meanwhile."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="transfers")
    from_event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    to_event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    to_ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="+")
    old_total = models.PositiveIntegerField(help_text=_("In minor units."))
    new_total = models.PositiveIntegerField(help_text=_("In minor units, after any member discount."))
    new_discount = models.PositiveIntegerField(default=0)
    new_discount_reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure = models.CharField(max_length=300, blank=True)
    payment_reference = models.CharField(max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=64)
    completed_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "idempotency_key"], name="transfer_idempotent_per_booking"
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking} to {self.to_event}"

    @property
    def difference(self) -> int:
        """Positive: the booker pays more; negative: they get money back."""
        return self.new_total - self.old_total


class TicketCancellation(TenantModel):
    """The booker cancelling some of a booking's tickets, not all (that cancels the booking).

    The cancelled tickets leave the booking (`booking.attendees` are the tickets it holds) and
    are kept here as they were (`tickets`); their share of the money is in `refund`."""

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="ticket_cancellations")
    idempotency_key = models.CharField(max_length=64)
    pass_uses_back = models.PositiveSmallIntegerField(default=0)
    voucher_back = models.PositiveIntegerField(default=0, help_text=_("In minor units."))
    included_back = models.PositiveSmallIntegerField(
        default=0, help_text=_("A member's included bookings given back with the tickets.")
    )
    email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "idempotency_key"], name="ticket_cancellation_idempotent_per_booking"
            )
        ]

    def __str__(self) -> str:
        return f"Tickets cancelled from {self.booking}"


class CancelledTicket(TenantModel):
    """One ticket as it was when the booker cancelled it."""

    cancellation = models.ForeignKey(TicketCancellation, on_delete=models.CASCADE, related_name="tickets")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=150)
    is_child = models.BooleanField(default=False)
    price = models.PositiveIntegerField(help_text=_("What the ticket cost, in minor units."))
    share = models.PositiveIntegerField(
        default=0, help_text=_("Its share of what the booking paid (card and voucher), in minor units.")
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class DetailEdit(TenantModel):
    """The booker correcting attendee names or booking-form answers: who, when, and each change
    (`changes`: a list of {"field", "what", "before", "after"}; an attendee's name also
    "attendee" and "ticket"), for the organiser's audit trail; `changes_shown` names them."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="detail_edits")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_label = models.CharField(max_length=300, help_text=_("Who, as they were known then."))

    class ChangedBy(models.TextChoices):
        BOOKER = "booker", _("the booker")
        OTHER_ACCOUNT = "other_account", _("another account")
        LINK = "link", _("the View booking link")

    # Stored as a key and named when shown, in the reader's language (empty: rows from before).
    changed_by_role = models.CharField(max_length=20, choices=ChangedBy.choices, blank=True)
    changes = models.JSONField(default=list)
    idempotency_key = models.CharField(max_length=64)
    email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "idempotency_key"], name="detail_edit_idempotent_per_booking"
            )
        ]

    def __str__(self) -> str:
        return f"Details of {self.booking} changed"

    @property
    def changed_by_shown(self) -> str:
        """Who, in the language active now: an account as "name <email> (role)"; a View booking
        link's opener by the address the link was sent to. Older rows as they were stored."""
        if self.changed_by_role == self.ChangedBy.LINK:
            return _("Whoever opened the booking's View booking link, sent to %(email)s") % {
                "email": self.changed_by_label
            }
        if self.changed_by_role:
            return f"{self.changed_by_label} ({self.get_changed_by_role_display()})"
        return self.changed_by_label

    def changes_shown(self) -> list[dict]:
        """`changes` with "what" named in the language active now (the admin's, or the email's):
        an attendee's name by its key; a question by the organiser's label, as asked."""
        shown = []
        for change in self.changes:
            if change.get("field") == "attendee_name":
                what = _("Name of attendee %(n)s (%(ticket)s)") % {
                    "n": change.get("attendee", ""),
                    "ticket": change.get("ticket", ""),
                }
                change = {**change, "what": what}
            shown.append(change)
        return shown


class TicketGift(TenantModel):
    """A booker giving one ticket of their booking to someone else. The recipient accepts through
    a signed link (until `expires_at`, while PENDING; the giver may withdraw it until then); the
    ticket then leaves the giver's booking and becomes the recipient's own booking
    (`new_booking`). No money moves."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for them to accept")
        ACCEPTED = "accepted", _("Accepted")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="gifts")
    # The ticket; it leaves with the gift (or is cancelled meanwhile, which withdraws the gift).
    attendee = models.ForeignKey(
        Attendee, null=True, blank=True, on_delete=models.SET_NULL, related_name="gifts"
    )
    ticket_label = models.CharField(max_length=300, help_text=_("The ticket as it was offered."))
    recipient_name = models.CharField(max_length=150)
    recipient_email = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    new_booking = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="gifted_from"
    )
    idempotency_key = models.CharField(max_length=64)
    offer_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The giver is told once that the recipient accepted (`emails.ticket_gift_send_accepted`), or
    # that the offer ran out unaccepted (`emails.ticket_gift_send_expired`).
    accepted_email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    expired_email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "idempotency_key"], name="gift_idempotent_per_booking"
            ),
            models.UniqueConstraint(
                fields=["attendee"], condition=Q(status="pending"), name="one_pending_gift_per_ticket"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_label} for {self.recipient_name}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()


class AccountCredit(TenantModel):
    """Credit given instead of a cash refund, spendable with the same organiser.

    TODO(#8): the vouchers issue turns these into redeemable vouchers with a balance."""

    refund = models.OneToOneField(Refund, on_delete=models.PROTECT, related_name="credit")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account_credits",
    )
    email = models.EmailField()
    amount = models.PositiveIntegerField(help_text=_("In minor units."))
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"Credit for {self.email}"
