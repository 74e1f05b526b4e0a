"""Gift vouchers: a code worth money with one organiser, its balance, and what was spent from it."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import OrganiserQuerySet, TenantModel

# 32 symbols (5 bits each) without 0/O or 1/I, so a code read over the phone survives.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16  # 16 x 5 = 80 random bits
CODE_GROUP = 4


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a booker typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def group_code(code: str) -> str:
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


class Voucher(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        ACTIVE = "active", _("Active")
        VOID = "void", _("Cancelled")

    class Source(models.TextChoices):
        BOUGHT = "bought", _("Bought as a gift")
        ISSUED = "issued", _("Issued by the organiser")
        CREDIT = "credit", _("Account credit from a refund")

    # The code is a secret (it is the money); URLs and logs use public_id instead.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=CODE_LENGTH, unique=True, default=new_code, editable=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ISSUED)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    value = models.PositiveIntegerField(help_text=_("What it was worth when issued, in minor units."))
    balance = models.PositiveIntegerField(help_text=_("What is left to spend, in minor units."))
    currency = models.CharField(max_length=3)
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("Leave empty for no expiry."))
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vouchers_bought",
    )
    buyer_email = models.EmailField(blank=True)
    recipient_name = models.CharField(max_length=150, blank=True)
    recipient_email = models.EmailField(blank=True)
    message = models.TextField(blank=True, max_length=1000)
    # Set for account credit: the refund this voucher pays out (one voucher per refund).
    refund = models.OneToOneField(
        "bookings.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="voucher"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=120, blank=True)
    # NULL, not "", so that vouchers made without a key never collide in the unique constraint.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A bought voucher: when its buyer was sent the purchase email with its receipt (once).
    purchase_email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OrganiserQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient_email"]), models.Index(fields=["buyer", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(balance__lte=F("value")), name="voucher_balance_within_value"),
            models.UniqueConstraint(
                fields=["organiser", "idempotency_key"], name="voucher_idempotent_per_organiser"
            ),
        ]

    def __str__(self) -> str:
        return self.display_code

    @property
    def display_code(self) -> str:
        return group_code(self.code)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def was_bought_by(self, user) -> bool:
        """The buyer's own contract (its receipt, its withdrawal): not a voucher they were given."""
        return self.source == self.Source.BOUGHT and self.buyer_id is not None and self.buyer_id == user.pk

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE and self.balance > 0 and not self.is_expired

    @property
    def state_label(self) -> str:
        if self.status != self.Status.ACTIVE:
            return self.get_status_display()
        if self.is_expired:
            return "Expired"
        if self.balance == 0:
            return "Used up"
        return "Active"


class VoucherRedemption(TenantModel):
    """Money spent from a voucher on one booking; `returned_at` is set once when it goes back."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.PROTECT, related_name="voucher_redemption"
    )
    amount = models.PositiveIntegerField(help_text=_("In minor units."))
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.amount} from {self.voucher} for {self.booking}"
