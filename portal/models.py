"""The platform core: the Organiser tenant and the one mechanism that scopes rows to it."""

from __future__ import annotations

import secrets
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from portal import branding
from portal.money import validate_currency

RESERVED_SLUGS = frozenset(
    {"admin", "accounts", "portal", "static", "healthz", "media", "api", "b", "stripe", "webhooks", "i18n"}
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone name such as Europe/London."), params={"value": value}
        )


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("This address is reserved; choose another."))


def logo_upload_to(organiser: Organiser, filename: str) -> str:
    """A name of our own (never the uploader's): a fresh one per upload, so caches never serve
    the old logo under the new address."""
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"organisers/{organiser.slug}/logo-{secrets.token_hex(6)}.{extension}"


class BaseModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OrganiserQuerySet(models.QuerySet):
    """The one scoping mechanism: every tenant-owned query starts here."""

    def for_organiser(self, organiser: Organiser):
        return self.filter(organiser=organiser)


class TenantModel(BaseModel):
    """A row that belongs to exactly one organiser. Child rows copy it from their parent."""

    organiser = models.ForeignKey("portal.Organiser", on_delete=models.PROTECT, related_name="%(class)ss")

    objects = OrganiserQuerySet.as_manager()

    class Meta:
        abstract = True


class OrganiserManager(models.Manager):
    def for_staff(self, user):
        if user.is_superuser:
            return self.all()
        return self.filter(staff__user=user)


class Organiser(BaseModel):
    class Plan(models.TextChoices):
        FREE = "free", _("Free")
        STANDARD = "standard", _("Standard")
        PREMIUM = "premium", _("Premium")

    slug = models.SlugField(
        unique=True,
        max_length=60,
        validators=[validate_slug_not_reserved],
        help_text=_("The address of the public page: /<slug>/."),
    )
    name = models.CharField(max_length=120)
    plan = models.CharField(max_length=10, choices=Plan.choices, default=Plan.FREE)
    attendance_tracking = models.BooleanField(
        default=False, help_text=_("Mark who attended; bookers see Attended / Did not attend.")
    )
    default_language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default="en-gb",
        help_text=_("For guests whose browser speaks none of the portal's languages, and their emails."),
    )
    time_zone = models.CharField(max_length=64, default="Europe/London", validators=[validate_time_zone])
    currency = models.CharField(
        max_length=3,
        default="GBP",
        validators=[validate_currency],
        help_text=_("A three-letter ISO code that Stripe takes payments in, such as GBP or EUR."),
    )
    public_page_intro = models.TextField(blank=True, help_text=_("Shown at the top of your public page."))
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    address = models.TextField(blank=True)
    # Printed on receipts (portal.receipts): the seller as the law knows it.
    legal_name = models.CharField(
        max_length=200, blank=True, help_text=_("Your registered business name, if not the name above.")
    )
    vat_number = models.CharField(
        max_length=40,
        blank=True,
        help_text=_("Your VAT (or sales tax) registration number, if you have one."),
    )
    vat_rate_percent = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(50)],
        help_text=_("The VAT rate your prices include, such as 20; 0 when you don't charge VAT."),
    )
    # The consumer's right of withdrawal (portal.withdrawals) is the law for sales to consumers;
    # only a seller whose every buyer is a business may switch the function off.
    sells_only_to_businesses = models.BooleanField(
        default=False,
        help_text=_(
            "Tick only if every buyer is a business, never a consumer: bookers then see no "
            "“Withdraw from contract here” on passes, vouchers and memberships."
        ),
    )
    logo = models.ImageField(
        upload_to=logo_upload_to,
        blank=True,
        width_field="logo_width",
        height_field="logo_height",
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "webp"]), branding.validate_logo],
        help_text=_("PNG, JPEG or WebP, at most 1 MB and 2000 px a side. Shown on your pages and emails."),
    )
    # Stored with the logo, so pages give the <img> its size without opening the file.
    logo_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    logo_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    accent_colour = models.CharField(
        max_length=7,
        blank=True,
        validators=[branding.validate_accent_colour],
        help_text=_(
            "Your colour for buttons and highlights, as # and six hex digits (e.g. #0f766e). It carries "
            "white text, so it must be dark enough to read (contrast at least 4.5:1)."
        ),
    )

    objects = OrganiserManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def offers_paid_products(self) -> bool:
        """Memberships, passes and vouchers need the Standard plan or above."""
        return self.plan in PAID_PLANS

    @property
    def accent(self) -> str:
        """The accent colour pages use: the organiser's own when it is readable, else the platform's."""
        return branding.usable_accent(self.accent_colour)

    @property
    def brand_version(self) -> int:
        """Changes whenever the organiser is saved: the brand stylesheet's address carries it."""
        return int(self.updated_at.timestamp()) if self.updated_at else 0

    @cached_property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


# Plans that sell memberships, passes and vouchers.
PAID_PLANS = [Organiser.Plan.STANDARD, Organiser.Plan.PREMIUM]


class OrganiserStaff(BaseModel):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MANAGER = "manager", _("Manager")

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organiser_roles"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MANAGER)

    class Meta:
        verbose_name = "organiser staff member"
        verbose_name_plural = "organiser staff"
        constraints = [
            models.UniqueConstraint(fields=["organiser", "user"], name="staff_unique_per_organiser")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organiser})"


class StripeEvent(BaseModel):
    """A Stripe webhook event we accepted (portal.webhooks). The unique id is what makes each event
    run once; portal.stripe_events applies it."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    created = models.DateTimeField()
    data = models.JSONField(default=dict)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [
            # The beat sweep's query: the few events not yet applied, by when they arrived.
            models.Index(
                fields=["created_at"], condition=Q(processed_at__isnull=True), name="stripe_event_unprocessed"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Withdrawal(TenantModel):
    """A consumer withdrawing from a contract bought online within its withdrawal period (EU
    Directive 2023/2673, Art. 11a of the Consumer Rights Directive): a pass, a gift voucher or a
    membership. One per contract (`kind` and the product's public `contract_code`), so a second
    request finds the first. portal.withdrawals records it, refunds it through the gateway and
    acknowledges it by email."""

    class RefundStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Done")
        NONE = "none", _("Nothing to refund")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20)
    contract_code = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="withdrawals"
    )
    email = models.EmailField(help_text=_("Where the acknowledgement went."))
    description = models.CharField(max_length=300, help_text=_("The contract, as the booker saw it."))
    purchased_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    amount_paid = models.PositiveIntegerField(help_text=_("In minor units."))
    deduction = models.PositiveIntegerField(
        default=0, help_text=_("Kept for what was already used at the booker's request, in minor units.")
    )
    deduction_reason = models.CharField(max_length=200, blank=True)
    refund_amount = models.PositiveIntegerField(help_text=_("Given back, in minor units."))
    payment_reference = models.CharField(max_length=120, blank=True, editable=False)
    refund_status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    refund_reference = models.CharField(max_length=120, blank=True, editable=False)
    refund_error = models.CharField(max_length=300, blank=True, editable=False)
    refunded_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OrganiserQuerySet.as_manager()

    class Meta:
        ordering = ["-withdrawn_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "contract_code"], name="withdrawal_once_per_contract"),
            models.CheckConstraint(
                condition=Q(refund_amount__lte=models.F("amount_paid")), name="withdrawal_refund_within_paid"
            ),
        ]

    def __str__(self) -> str:
        return f"Withdrawal: {self.description}"

    @property
    def idempotency_key(self) -> str:
        return f"withdrawal-{self.code}-refund"
