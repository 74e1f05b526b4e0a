"""Receipts: one page and one PDF for everything a booker paid for, rendered from one template.

portal sits below the apps, so it owns the mechanism (what a receipt holds, the template, the
page, the PDF) and each app registers, from its AppConfig.ready(), how to find one of its
receipts for a request: bookings (a booking's payment), passes, vouchers (a gift voucher's
purchase) and memberships (an invoice). The provider is also the ownership check: it returns
None for anything the request may not see (another booker's, or not paid for), which is a 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.models import Organiser, Withdrawal


@dataclass(frozen=True)
class ReceiptLine:
    description: str
    amount: int  # minor units
    quantity: int = 1
    deduction: bool = False  # a discount: taken off the total


@dataclass(frozen=True)
class ReceiptRefund:
    on: datetime | None
    amount: int
    description: str


@dataclass(frozen=True)
class Receipt:
    kind: str
    ident: str
    organiser: Organiser
    number: str  # our public reference for what was bought
    title: str  # what was bought, in a few words
    issued_at: datetime | None  # when it was paid (or made, if nothing was due)
    customer_name: str
    customer_email: str
    currency: str
    lines: tuple[ReceiptLine, ...]
    total: int
    payment_method: str
    status: str = ""
    payment_reference: str = ""
    notes: tuple[str, ...] = ()
    refunds: tuple[ReceiptRefund, ...] = ()
    back_url: str = ""
    back_label: str = field(default="")

    @property
    def tax(self) -> int:
        """The VAT the total includes at the organiser's rate (prices are tax-inclusive)."""
        rate = Decimal(self.organiser.vat_rate_percent or 0)
        if not rate or not self.total:
            return 0
        return int((Decimal(self.total) * rate / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def refunded(self) -> int:
        return sum(refund.amount for refund in self.refunds)

    @property
    def net_paid(self) -> int:
        return max(self.total - self.refunded, 0)

    @property
    def seller_name(self) -> str:
        return self.organiser.legal_name or self.organiser.name

    @property
    def url(self) -> str:
        return receipt_url(self.kind, self.ident)

    @property
    def pdf_url(self) -> str:
        return receipt_pdf_url(self.kind, self.ident)

    @property
    def filename(self) -> str:
        safe = "".join(ch for ch in self.number if ch.isalnum() or ch in "-_") or "receipt"
        return f"receipt-{safe}.pdf"


Provider = Callable[..., Receipt | None]

_PROVIDERS: dict[str, Provider] = {}


def receipt_provider_register(kind: str, provider: Provider) -> None:
    """`provider(*, request, ident)` returns the receipt for `ident` when this request's booker
    (or the booking its signed link opened) may see it, else None."""
    if _PROVIDERS.get(kind, provider) != provider:
        raise ImproperlyConfigured(f"Two receipt providers for {kind!r}: {_PROVIDERS[kind]} and {provider}.")
    _PROVIDERS[kind] = provider


def receipt_kinds() -> list[str]:
    return sorted(_PROVIDERS)


def receipt_get(*, request: HttpRequest, kind: str, ident: str) -> Receipt:
    """The receipt, or Http404 for an unknown kind or anything this request may not see."""
    provider = _PROVIDERS.get(kind)
    receipt = provider(request=request, ident=ident) if provider else None
    if receipt is None:
        raise Http404("No such receipt.")
    return receipt


def receipt_url(kind: str, ident) -> str:
    return reverse("receipt_detail", kwargs={"kind": kind, "ident": str(ident)})


def receipt_pdf_url(kind: str, ident) -> str:
    return reverse("receipt_pdf", kwargs={"kind": kind, "ident": str(ident)})


def parse_uuid(ident: str) -> uuid.UUID | None:
    """Providers whose identifiers are UUIDs: anything else is simply not found."""
    try:
        return uuid.UUID(ident)
    except (TypeError, ValueError):
        return None


# Rendering: the page includes the same document template the PDF is made from.

DOCUMENT_TEMPLATE = "portal/_receipt_document.html"
PDF_TEMPLATE = "portal/receipt_pdf.html"
PDF_STYLESHEET = "css/receipt-pdf.css"  # a static file: the CSP allows no inline <style>


def receipt_pdf(*, receipt: Receipt, base_url: str = "") -> bytes:
    """The receipt as a PDF (WeasyPrint), from the template the page shows."""
    # Imported here: WeasyPrint loads Pango and fonts, which only this function needs.
    import weasyprint

    html = render_to_string(PDF_TEMPLATE, {"receipt": receipt})
    stylesheet = weasyprint.CSS(filename=finders.find(PDF_STYLESHEET))
    return weasyprint.HTML(string=html, base_url=base_url or None).write_pdf(stylesheets=[stylesheet])


def payment_method_label(*, payment_reference: str, amount: int) -> str:
    """How a product bought through the gateway was paid, from its payment's reference."""
    if not amount:
        return str(_("Free"))
    if payment_reference.startswith("offline_"):
        return str(_("Offline payment"))
    return str(_("Card"))


def withdrawal_refunds(*, kind: str, code) -> tuple[ReceiptRefund, ...]:
    """The refund of a withdrawal from this contract (portal.withdrawals), as a receipt line."""
    withdrawal = Withdrawal.objects.filter(kind=kind, contract_code=str(code)).first()
    if withdrawal is None or not withdrawal.refund_amount:
        return ()
    return (
        ReceiptRefund(
            on=withdrawal.refunded_at or withdrawal.withdrawn_at,
            amount=withdrawal.refund_amount,
            description=str(_("Withdrawal from the contract (%(state)s)"))
            % {"state": withdrawal.get_refund_status_display().lower()},
        ),
    )
