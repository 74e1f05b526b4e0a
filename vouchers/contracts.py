"""What gift vouchers give the portal's receipts and the right of withdrawal (portal.receipts,
portal.withdrawals): a voucher the booker bought (the buyer's contract; a recipient sees the
voucher, never what it cost)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.money import format_money
from portal.receipts import (
    Receipt,
    ReceiptLine,
    parse_uuid,
    payment_method_label,
    receipt_url,
    withdrawal_refunds,
)
from portal.withdrawals import Contract, Terms
from vouchers.models import Voucher

KIND = "voucher"


def _own_bought_voucher(*, user, public_id, lock: bool = False) -> Voucher | None:
    public_id = parse_uuid(str(public_id))
    if public_id is None or user is None or not user.is_authenticated:
        return None
    vouchers = Voucher.objects.filter(
        buyer=user, public_id=public_id, source=Voucher.Source.BOUGHT, paid_at__isnull=False
    )
    if lock:  # inside withdrawal_make's transaction, which sets the lock timeout
        vouchers = vouchers.select_for_update(of=("self",))
    return vouchers.select_related("organiser", "buyer").first()


def _description(voucher: Voucher) -> str:
    if voucher.recipient_name:
        return _("Gift voucher worth %(value)s for %(name)s from %(organiser)s") % {
            "value": format_money(voucher.value, voucher.currency),
            "name": voucher.recipient_name,
            "organiser": voucher.organiser.name,
        }
    return _("Gift voucher worth %(value)s from %(organiser)s") % {
        "value": format_money(voucher.value, voucher.currency),
        "organiser": voucher.organiser.name,
    }


def voucher_receipt(*, request, ident: str) -> Receipt | None:
    voucher = _own_bought_voucher(user=request.user, public_id=ident)
    if voucher is None:
        return None
    return Receipt(
        kind=KIND,
        ident=str(voucher.public_id),
        organiser=voucher.organiser,
        number=str(voucher.public_id).split("-")[0].upper(),
        title=_description(voucher),
        issued_at=voucher.paid_at,
        customer_name=voucher.buyer.name,
        customer_email=voucher.buyer_email or voucher.buyer.email,
        currency=voucher.currency,
        lines=(ReceiptLine(description=_("Gift voucher"), amount=voucher.value),),
        total=voucher.value,
        payment_method=payment_method_label(
            payment_reference=voucher.payment_reference, amount=voucher.value
        ),
        status=voucher.get_status_display(),
        payment_reference=voucher.payment_reference,
        refunds=withdrawal_refunds(kind=KIND, code=voucher.public_id),
        back_url=reverse("vouchers:voucher_detail", kwargs={"public_id": voucher.public_id}),
        back_label=_("Back to the voucher"),
    )


def voucher_terms(voucher: Voucher) -> Terms:
    return Terms(
        organiser=voucher.organiser,
        purchased_at=voucher.paid_at,
        # Bought through the portal's checkout, not issued by the organiser or given as credit.
        bought_online=bool(
            voucher.source == Voucher.Source.BOUGHT and voucher.idempotency_key and voucher.payment_reference
        ),
        ended=voucher.status != Voucher.Status.ACTIVE,
    )


def voucher_contract(*, user, code, lock: bool) -> Contract | None:
    voucher = _own_bought_voucher(user=user, public_id=code, lock=lock)
    if voucher is None:
        return None
    spent = voucher.value - voucher.balance
    return Contract(
        kind=KIND,
        code=str(voucher.public_id),
        organiser=voucher.organiser,
        user_id=voucher.buyer_id,
        email=voucher.buyer_email or voucher.buyer.email,
        description=_description(voucher),
        purchased_at=voucher.paid_at,
        currency=voucher.currency,
        amount_paid=voucher.value,
        payment_reference=voucher.payment_reference,
        used=spent,
        total=voucher.value,
        used_label=_("%(spent)s of %(value)s spent")
        % {
            "spent": format_money(spent, voucher.currency),
            "value": format_money(voucher.value, voucher.currency),
        },
        bought_online=voucher_terms(voucher).bought_online,
        ended=voucher_terms(voucher).ended,
        detail_url=reverse("vouchers:voucher_detail", kwargs={"public_id": voucher.public_id}),
        receipt_url=receipt_url(KIND, voucher.public_id),
    )


def voucher_end(*, contract: Contract) -> None:
    """The voucher stops working at once (its code too): cancelled, nothing left on it."""
    Voucher.objects.filter(public_id=contract.code, status=Voucher.Status.ACTIVE).update(
        status=Voucher.Status.VOID, balance=0, updated_at=timezone.now()
    )
