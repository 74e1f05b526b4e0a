"""Membership plans, the bookers' memberships (subscriptions) and their invoices.

Stripe owns subscription and invoice state when Stripe is the gateway; these rows follow it
(see portal/stripe_events.py). With the offline gateway these rows are the record.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from portal.models import OrganiserQuerySet, TenantModel
from portal.payments import add_interval


class MembershipPlanQuerySet(OrganiserQuerySet):
    def offered(self):
        return self.filter(is_offered=True)


class MembershipPlan(TenantModel):
    class Interval(models.TextChoices):
        MONTH = "month", _("Monthly")
        YEAR = "year", _("Yearly")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text=_("Shown on your public page."))
    price = models.PositiveIntegerField(help_text=_("In minor units of your currency: 2500 is 25.00."))
    interval = models.CharField(max_length=5, choices=Interval.choices, default=Interval.MONTH)
    discount_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("Members get this percentage off every booking."),
    )
    included_bookings = models.PositiveSmallIntegerField(
        default=0, help_text=_("Free bookings included in each billing period (0 for none).")
    )
    is_offered = models.BooleanField(
        default=True, help_text=_("Untick to stop new sign-ups; existing members keep their membership.")
    )
    position = models.PositiveSmallIntegerField(default=0)
    pause_allowed = models.BooleanField(
        _("members may pause"),
        default=False,
        help_text=_("Members can pause for a few weeks: no payments and no member benefits meanwhile."),
    )
    pause_max_weeks = models.PositiveSmallIntegerField(
        _("longest pause (weeks)"), default=4, validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    pauses_per_year = models.PositiveSmallIntegerField(
        _("pauses in any 12 months"), default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )

    objects = MembershipPlanQuerySet.as_manager()

    class Meta:
        ordering = ["position", "price", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organiser", "name"], name="membership_plan_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def currency(self) -> str:
        return self.organiser.currency

    @property
    def interval_noun(self) -> str:
        """ "month" or "year" in the booker's language, as in "£30.00 / month"."""
        return gettext("year") if self.interval == self.Interval.YEAR else gettext("month")

    @property
    def benefit_summary(self) -> str:
        parts = []
        if self.discount_percent:
            parts.append(gettext("%(percent)s%% off every booking") % {"percent": self.discount_percent})
        if self.included_bookings:
            count = self.included_bookings
            if self.interval == self.Interval.YEAR:
                text = ngettext(
                    "%(count)s free booking each year", "%(count)s free bookings each year", count
                )
            else:
                text = ngettext(
                    "%(count)s free booking each month", "%(count)s free bookings each month", count
                )
            parts.append(text % {"count": count})
        return "; ".join(parts)


class MembershipQuerySet(OrganiserQuerySet):
    def for_booker(self, user):
        return self.filter(user=user)

    def visible(self):
        """What the booker's portal lists: not checkouts they never finished."""
        return self.exclude(status__in=Membership.NOT_STARTED)

    def live(self):
        return self.filter(status__in=Membership.LIVE)

    def granting_benefits(self):
        return self.filter(status__in=Membership.BENEFITS)


class Membership(TenantModel):
    """A booker's subscription to a plan. `status` uses Stripe's subscription statuses,
    plus `pending` while the booker is still in Checkout."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        INCOMPLETE = "incomplete", _("Awaiting payment")
        INCOMPLETE_EXPIRED = "incomplete_expired", _("Payment not completed")
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment overdue")
        UNPAID = "unpaid", _("Unpaid")
        PAUSED = "paused", _("Paused")
        CANCELED = "canceled", _("Ended")

    # A booker holds at most one of these per plan at a time.
    LIVE = ("pending", "incomplete", "trialing", "active", "past_due", "unpaid", "paused")
    # Shown under "Active memberships".
    CURRENT = ("trialing", "active", "past_due", "unpaid", "paused")
    BENEFITS = ("trialing", "active")
    NOT_STARTED = ("pending", "incomplete", "incomplete_expired")

    class CancelReason(models.TextChoices):
        TOO_EXPENSIVE = "too_expensive", _("It costs too much")
        NOT_USING = "not_using", _("I don't come often enough")
        SCHEDULE = "schedule", _("The times don't suit me any more")
        MOVING = "moving", _("I'm moving away")
        ELSEWHERE = "elsewhere", _("I'm going somewhere else")
        QUALITY = "quality", _("I'm not happy with the classes or service")
        OTHER = "other", _("Another reason")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="memberships"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    gateway = models.CharField(max_length=20, editable=False)
    customer_reference = models.CharField(max_length=255, blank=True, editable=False)
    subscription_reference = models.CharField(max_length=255, blank=True, editable=False)
    checkout_reference = models.CharField(max_length=255, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    cancel_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Optional, from the cancel dialog; organisers read it in the admin.
    cancel_reason = models.CharField(max_length=20, choices=CancelReason.choices, blank=True)
    # When the member last took a cancellation back: a later cancel is a new request to Stripe
    # (its idempotency key names this moment), not a replay of the first.
    cancel_undone_at = models.DateTimeField(null=True, blank=True, editable=False)
    # While paused: the day billing and benefits come back (Stripe's pause_collection.resumes_at).
    paused_until = models.DateTimeField(null=True, blank=True)
    # Offline gateway only: a plan switch's proration (credit negative), added to the next invoice.
    # Stripe keeps its own pending proration items.
    proration_pending = models.IntegerField(default=0, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    card_brand = models.CharField(max_length=20, blank=True, editable=False)
    card_last4 = models.CharField(max_length=4, blank=True, editable=False)
    # Emails go out at most once each, however often a task is retried.
    started_email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "plan"],
                condition=Q(
                    status__in=("pending", "incomplete", "trialing", "active", "past_due", "unpaid", "paused")
                ),
                name="membership_one_live_per_plan",
            ),
            models.UniqueConstraint(
                fields=["subscription_reference"],
                condition=~Q(subscription_reference=""),
                name="membership_subscription_reference_unique",
            ),
        ]
        indexes = [models.Index(fields=["organiser", "status"])]

    def __str__(self) -> str:
        return f"{self.plan} ({self.get_status_display()})"

    @property
    def is_current(self) -> bool:
        return self.status in self.CURRENT

    @property
    def can_cancel(self) -> bool:
        return self.is_current and not self.cancel_at_period_end

    @property
    def is_paused(self) -> bool:
        return self.status == self.Status.PAUSED

    @property
    def can_resume(self) -> bool:
        """Cancelled by the member but not ended yet: the cancellation can be undone. A complimentary
        membership (gateway "manual") ends on its chosen day and is never billed, so it cannot."""
        return (
            self.is_current
            and self.cancel_at_period_end
            and self.gateway != "manual"
            and self.current_period_end is not None
            and self.current_period_end > timezone.now()
        )

    @property
    def is_billed(self) -> bool:
        return self.gateway != "manual"

    @property
    def can_pause(self) -> bool:
        return (
            self.status == self.Status.ACTIVE
            and not self.cancel_at_period_end
            and self.is_billed
            and self.plan.pause_allowed
        )

    @property
    def can_switch(self) -> bool:
        return self.status == self.Status.ACTIVE and not self.cancel_at_period_end and self.is_billed

    @property
    def ends_on(self):
        """When a membership that will not renew stops (or stopped)."""
        if self.status == self.Status.CANCELED:
            return self.ended_at or self.current_period_end
        if self.cancel_at_period_end:
            return self.current_period_end
        return None

    @property
    def renews_on(self):
        """The next renewal that is charged: while paused, the first one after the pause."""
        if not self.is_current or self.cancel_at_period_end:
            return None
        due = self.current_period_end
        while due and self.is_paused and self.paused_until and due < self.paused_until:
            due = add_interval(due, self.plan.interval)
        return due

    @property
    def has_card(self) -> bool:
        return bool(self.card_last4)

    @property
    def included_bookings_used(self) -> int:
        """Included bookings used in the current period: the tickets this period's bookings took
        (those given back count no more)."""
        if not self.plan.included_bookings or self.current_period_start is None:
            return 0
        return (
            self.booking_uses.filter(period_start=self.current_period_start, returned_at__isnull=True)
            .aggregate(tickets=Sum("tickets"))
            .get("tickets")
            or 0
        )

    @property
    def included_bookings_left(self) -> int:
        """Included bookings left in the current period: the plan's allowance less those used."""
        if not self.plan.included_bookings or self.current_period_start is None:
            return 0
        return max(self.plan.included_bookings - self.included_bookings_used, 0)


class MembershipInvoice(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Due")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")
        UNCOLLECTIBLE = "uncollectible", _("Unpaid")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="invoices")
    reference = models.CharField(max_length=255, unique=True, editable=False)
    number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    amount_due = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    issued_at = models.DateTimeField(default=timezone.now)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    hosted_url = models.URLField(max_length=500, blank=True)
    pdf_url = models.URLField(max_length=500, blank=True)

    objects = OrganiserQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return self.number or self.reference

    @property
    def amount(self) -> int:
        return self.amount_paid if self.status == self.Status.PAID else self.amount_due


class MembershipPause(TenantModel):
    """One pause of a membership: from `starts_at` until `resumes_at` (the chosen day), or until
    `ended_at` when it ended (early, by the member, or on the day). Counted for the plan's
    pauses-a-year rule; organisers read them in the admin."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="pauses")
    starts_at = models.DateTimeField()
    resumes_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # The member's "paused until" email goes out once, however often its task is retried.
    email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"], condition=Q(ended_at__isnull=True), name="membership_one_open_pause"
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership} paused {self.starts_at:%Y-%m-%d} to {self.resumes_at:%Y-%m-%d}"


class MembershipBookingUse(TenantModel):
    """Included bookings taken from a membership's allowance for a billing period by one booking
    (one per ticket they paid for). The booking service records it; the reference is the
    booking's public reference. `returned_at` is set once when they go back (the booking was
    cancelled and the rules give the booker their payment back); a returned use counts no more."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="booking_uses")
    booking_reference = models.CharField(max_length=32)
    period_start = models.DateTimeField()
    tickets = models.PositiveSmallIntegerField(default=1)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "booking_reference"], name="membership_booking_use_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking_reference} ({self.membership})"


class MembershipChange(TenantModel):
    """A change to a running membership its member is told about by email, once each: a plan
    switch (what it costs), a cancellation taken back, a pause ended (early by the member or on
    its day). `key` names the change (the idempotency key of the request that made it), so the
    same change recorded twice, by a retry or a webhook, is one row and one email."""

    class Kind(models.TextChoices):
        SWITCHED = "switched", _("Switched plan")
        RESUMED = "resumed", _("Cancellation taken back")
        UNPAUSED = "unpaused", _("Pause ended")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=200, editable=False)
    from_plan = models.ForeignKey(
        MembershipPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="+")
    # A switch's proration, in minor units: the credit for unused time, the charge for the new plan.
    credit = models.PositiveIntegerField(default=0)
    charge = models.PositiveIntegerField(default=0)
    # What the next invoice will be and when (for a switch to another interval: today's).
    next_amount = models.PositiveIntegerField(null=True, blank=True)
    next_at = models.DateTimeField(null=True, blank=True)
    billed_now = models.BooleanField(default=False)
    early = models.BooleanField(default=False)  # a pause ended by the member before its day
    email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "key"], name="membership_change_once"),
        ]

    def __str__(self) -> str:
        return f"{self.membership}: {self.get_kind_display()}"
