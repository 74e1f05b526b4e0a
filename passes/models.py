"""Pass types an organiser sells, the passes bookers hold, and each use spent on a booking."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from portal.models import OrganiserQuerySet, TenantModel


class PassTypeQuerySet(OrganiserQuerySet):
    def offered(self):
        return self.filter(is_offered=True)


class PassType(TenantModel):
    class Validity(models.TextChoices):
        DAYS = "days", _("A number of days from purchase")
        DATES = "dates", _("Between fixed dates")

    class Scope(models.TextChoices):
        ALL_EVENTS = "all", _("All our events")
        CHOSEN_EVENTS = "chosen", _("Only the events chosen below")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text=_("Shown on your public page."))
    price = models.PositiveIntegerField(help_text=_("In minor units of your currency: 6000 is 60.00."))
    uses_included = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], help_text=_("How many tickets the pass pays for.")
    )
    validity = models.CharField(max_length=5, choices=Validity.choices, default=Validity.DAYS)
    validity_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("With “days from purchase”: how many days it lasts.")
    )
    valid_from = models.DateField(null=True, blank=True, help_text=_("With fixed dates: the first day."))
    valid_until = models.DateField(null=True, blank=True, help_text=_("With fixed dates: the last day."))
    scope = models.CharField(max_length=6, choices=Scope.choices, default=Scope.ALL_EVENTS)
    events = models.ManyToManyField(
        "bookings.Event",
        blank=True,
        related_name="pass_types",
        help_text=_("With “only the events chosen”: the events it pays for."),
    )
    is_offered = models.BooleanField(
        default=True, help_text=_("Untick to stop selling it; passes already bought still work.")
    )
    position = models.PositiveSmallIntegerField(default=0)

    objects = PassTypeQuerySet.as_manager()

    class Meta:
        ordering = ["position", "price", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organiser", "name"], name="pass_type_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        if self.validity == self.Validity.DAYS:
            if not self.validity_days:
                errors["validity_days"] = _("Say how many days the pass lasts after purchase.")
            if self.valid_from or self.valid_until:
                errors["valid_from"] = _("Fixed dates are only used with “between fixed dates”; clear them.")
        else:
            if not (self.valid_from and self.valid_until):
                errors["valid_until"] = _("Give both the first and the last day.")
            elif self.valid_until < self.valid_from:
                errors["valid_until"] = _("The last day cannot be before the first.")
            if self.validity_days:
                errors["validity_days"] = _("Days from purchase are not used with fixed dates; clear it.")
        if errors:
            raise ValidationError(errors)

    def validity_window(self, *, bought_at: datetime, tzinfo) -> tuple[datetime, datetime]:
        """When a pass bought at `bought_at` may be used: [from, until), in UTC."""
        if self.validity == self.Validity.DAYS:
            return bought_at, bought_at + timedelta(days=self.validity_days or 0)
        start = datetime.combine(self.valid_from, time.min).replace(tzinfo=tzinfo)
        end = datetime.combine(self.valid_until + timedelta(days=1), time.min).replace(tzinfo=tzinfo)
        return start, end

    @property
    def validity_summary(self) -> str:
        if self.validity == self.Validity.DAYS:
            days = self.validity_days or 0
            return ngettext("%(days)s day from purchase", "%(days)s days from purchase", days) % {
                "days": days
            }
        return gettext("%(start)s to %(end)s") % {
            "start": date_format(self.valid_from, gettext("j F Y")),
            "end": date_format(self.valid_until, gettext("j F Y")),
        }

    @property
    def uses_summary(self) -> str:
        uses = self.uses_included
        return ngettext("%(uses)s ticket", "%(uses)s tickets", uses) % {"uses": uses}


class PassQuerySet(OrganiserQuerySet):
    def for_booker(self, user):
        return self.filter(user=user)

    def paid(self):
        return self.filter(status=Pass.Status.ACTIVE)

    def usable(self, now=None):
        now = now or timezone.now()
        return self.paid().filter(uses_left__gt=0, valid_from__lte=now, valid_until__gt=now)


class Pass(TenantModel):
    """A booker's pass: `uses_left` tickets, usable between `valid_from` and `valid_until`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        ACTIVE = "active", _("Paid")
        VOID = "void", _("Cancelled")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pass_type = models.ForeignKey(PassType, on_delete=models.PROTECT, related_name="passes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="passes"
    )
    buyer_email = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    uses_included = models.PositiveSmallIntegerField()
    uses_left = models.PositiveSmallIntegerField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    price = models.PositiveIntegerField(help_text=_("Paid, in minor units."))
    currency = models.CharField(max_length=3)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=120, blank=True)
    # NULL, not "", so that passes made without a key (admin, demo) never collide.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    # When the buyer was sent the purchase email with its receipt (once: portal.emails.send_once).
    purchase_email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PassQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "passes"
        indexes = [models.Index(fields=["user", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(uses_left__lte=F("uses_included")), name="pass_uses_left_within_included"
            ),
            models.UniqueConstraint(
                fields=["organiser", "idempotency_key"], name="pass_idempotent_per_organiser"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pass_type} ({self.buyer_email})"

    @property
    def is_active(self) -> bool:
        """Listed under “Active passes”: paid, uses left, and not over."""
        now = timezone.now()
        return self.status == self.Status.ACTIVE and self.uses_left > 0 and self.valid_until > now

    @property
    def state_label(self) -> str:
        now = timezone.now()
        if self.status != self.Status.ACTIVE:
            return self.get_status_display()
        if self.uses_left == 0:
            return "Used up"
        if self.valid_until <= now:
            return "Expired"
        if self.valid_from > now:
            return "Not started yet"
        return "Active"


class PassRedemption(TenantModel):
    """Uses of a pass spent on one booking (one per ticket). `returned_at` is set once when the
    uses go back to the pass (the booking was cancelled and the rules allow it)."""

    booker_pass = models.ForeignKey(Pass, on_delete=models.PROTECT, related_name="redemptions")
    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.PROTECT, related_name="pass_redemption"
    )
    uses = models.PositiveSmallIntegerField(default=1)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.uses} use(s) of {self.booker_pass} for {self.booking}"
