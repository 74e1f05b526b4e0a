"""What memberships give the portal's receipts and the right of withdrawal (portal.receipts,
portal.withdrawals): a member's invoices, and their membership in its first 14 days."""

from __future__ import annotations

import math

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from memberships.models import Membership, MembershipInvoice
from portal.dates import local_date
from portal.models import Withdrawal
from portal.payments import get_gateway
from portal.receipts import Receipt, ReceiptLine, ReceiptRefund, parse_uuid, receipt_url
from portal.withdrawals import Contract, Terms

INVOICE_KIND = "invoice"
KIND = "membership"


def _payment_method(membership: Membership) -> str:
    if membership.card_last4:
        return _("%(brand)s card ending %(last4)s") % {
            "brand": membership.card_brand,
            "last4": membership.card_last4,
        }
    return _("Offline payment") if membership.gateway == "offline" else _("Card")


def invoice_receipt(*, request, ident: str) -> Receipt | None:
    code = parse_uuid(ident)
    if code is None or not request.user.is_authenticated:
        return None
    invoice = (
        MembershipInvoice.objects.filter(code=code, membership__user=request.user)
        .select_related("membership__plan", "membership__user", "organiser")
        .first()
    )
    if invoice is None:
        return None
    membership = invoice.membership
    organiser = invoice.organiser
    period = ""
    if invoice.period_start and invoice.period_end:
        period = (
            f" ({local_date(invoice.period_start, organiser)} – {local_date(invoice.period_end, organiser)})"
        )
    withdrawal = Withdrawal.objects.filter(kind=KIND, contract_code=str(membership.code)).first()
    refunds = ()
    # A withdrawal refunds the last invoice paid before it (no invoice comes after).
    if withdrawal is not None and withdrawal.refund_amount and _paid_invoice(membership) == invoice:
        refunds = (
            ReceiptRefund(
                on=withdrawal.refunded_at or withdrawal.withdrawn_at,
                amount=withdrawal.refund_amount,
                description=_("Withdrawal from the membership (%(state)s)")
                % {"state": withdrawal.get_refund_status_display().lower()},
            ),
        )
    return Receipt(
        kind=INVOICE_KIND,
        ident=str(invoice.code),
        organiser=organiser,
        number=invoice.number or invoice.reference,
        title=_("%(plan)s membership at %(organiser)s")
        % {"plan": membership.plan.name, "organiser": organiser.name},
        issued_at=invoice.issued_at,
        customer_name=membership.user.name,
        customer_email=membership.user.email,
        currency=invoice.currency,
        lines=(ReceiptLine(description=f"{membership.plan.name}{period}", amount=invoice.amount),),
        total=invoice.amount,
        payment_method=_payment_method(membership),
        status=invoice.get_status_display(),
        refunds=refunds,
        back_url=reverse("memberships:membership_invoices", kwargs={"code": membership.code}),
        back_label=_("Back to the invoices"),
    )


def _paid_invoice(membership: Membership) -> MembershipInvoice | None:
    return (
        MembershipInvoice.objects.filter(membership=membership, status=MembershipInvoice.Status.PAID)
        .order_by("-issued_at", "-pk")
        .first()
    )


def membership_terms(membership: Membership) -> Terms:
    return Terms(
        organiser=membership.organiser,
        purchased_at=membership.started_at or membership.created_at,
        ended=not membership.is_current,
    )


def membership_contract(*, user, code, lock: bool) -> Contract | None:
    code = parse_uuid(str(code))
    if code is None or user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.for_booker(user).visible().filter(code=code)
    if lock:  # inside withdrawal_make's transaction, which sets the lock timeout
        memberships = memberships.select_for_update(of=("self",))
    membership = memberships.select_related("plan", "organiser", "user").first()
    if membership is None:
        return None
    invoice = _paid_invoice(membership)
    now = timezone.now()
    start, end = membership.current_period_start, membership.current_period_end
    total_days = max(math.ceil((end - start).total_seconds() / 86400), 1) if start and end else 0
    # A day begun is a day used: the member could book with the benefits all of it.
    used_days = min(max(math.ceil((now - start).total_seconds() / 86400), 0), total_days) if start else 0
    plan = membership.plan
    return Contract(
        kind=KIND,
        code=str(membership.code),
        organiser=membership.organiser,
        user_id=membership.user_id,
        email=membership.user.email,
        description=_("%(plan)s membership at %(organiser)s")
        % {"plan": plan.name, "organiser": membership.organiser.name},
        purchased_at=membership.started_at or membership.created_at,
        currency=invoice.currency if invoice else membership.organiser.currency,
        amount_paid=invoice.amount_paid if invoice else 0,
        payment_reference=invoice.reference if invoice else "",
        used=used_days,
        total=total_days,
        used_label=_("%(used)s of %(total)s days") % {"used": used_days, "total": total_days},
        ended=membership_terms(membership).ended,
        detail_url=reverse("memberships:membership_list"),
        receipt_url=receipt_url(INVOICE_KIND, invoice.code) if invoice else "",
    )


def membership_end(*, contract: Contract) -> None:
    """The membership ends now, its benefits with it. With Stripe, the subscription is cancelled
    at once after commit (`membership_settle_withdrawal`); its webhook then agrees with us."""
    now = timezone.now()
    Membership.objects.filter(code=contract.code, status__in=Membership.CURRENT).update(
        status=Membership.Status.CANCELED,
        ended_at=now,
        cancel_at_period_end=False,
        cancel_requested_at=now,
        updated_at=now,
    )


def membership_settle_withdrawal(*, withdrawal: Withdrawal) -> None:
    """Stripe: cancel the subscription now (no further invoices) and refund the invoice's
    payment rather than the invoice. Idempotent: the same keys every time."""
    membership = Membership.objects.filter(code=withdrawal.contract_code).first()
    if membership is None or membership.gateway != "stripe" or not membership.subscription_reference:
        return
    gateway = get_gateway()
    gateway.cancel_subscription_now(
        reference=membership.subscription_reference, idempotency_key=f"withdrawal-{withdrawal.code}-cancel"
    )
    if withdrawal.payment_reference.startswith("in_"):
        payment = gateway.invoice_payment_reference(withdrawal.payment_reference)
        Withdrawal.objects.filter(pk=withdrawal.pk, payment_reference=withdrawal.payment_reference).update(
            payment_reference=payment, updated_at=timezone.now()
        )
