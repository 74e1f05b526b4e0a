"""What passes give the portal's receipts and the right of withdrawal (portal.receipts,
portal.withdrawals): a booker's own pass, found through the booker."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from passes.models import Pass
from portal.dates import local_date
from portal.receipts import (
    Receipt,
    ReceiptLine,
    parse_uuid,
    payment_method_label,
    receipt_url,
    withdrawal_refunds,
)
from portal.withdrawals import Contract, Terms

KIND = "pass"


def _own_pass(*, user, code, lock: bool = False) -> Pass | None:
    code = parse_uuid(str(code))
    if code is None or user is None or not user.is_authenticated:
        return None
    passes = Pass.objects.for_booker(user).filter(code=code, paid_at__isnull=False)
    if lock:  # inside withdrawal_make's transaction, which sets the lock timeout
        passes = passes.select_for_update(of=("self",))
    return passes.select_related("pass_type", "organiser").first()


def pass_receipt(*, request, ident: str) -> Receipt | None:
    pass_ = _own_pass(user=request.user, code=ident)
    if pass_ is None:
        return None
    name = pass_.pass_type.name
    return Receipt(
        kind=KIND,
        ident=str(pass_.code),
        organiser=pass_.organiser,
        number=str(pass_.code).split("-")[0].upper(),
        title=_("%(pass)s pass: %(uses)s, valid %(start)s to %(end)s")
        % {
            "pass": name,
            "uses": pass_.pass_type.uses_summary,
            "start": local_date(pass_.valid_from, pass_.organiser),
            "end": local_date(pass_.valid_until, pass_.organiser),
        },
        issued_at=pass_.paid_at,
        customer_name=request.user.name,
        customer_email=pass_.buyer_email,
        currency=pass_.currency,
        lines=(ReceiptLine(description=_("%(pass)s pass") % {"pass": name}, amount=pass_.price),),
        total=pass_.price,
        payment_method=payment_method_label(payment_reference=pass_.payment_reference, amount=pass_.price),
        status=pass_.get_status_display(),
        payment_reference=pass_.payment_reference,
        refunds=withdrawal_refunds(kind=KIND, code=pass_.code),
        back_url=reverse("passes:pass_detail", kwargs={"code": pass_.code}),
        back_label=_("Back to the pass"),
    )


def pass_terms(pass_: Pass) -> Terms:
    return Terms(
        organiser=pass_.organiser,
        purchased_at=pass_.paid_at,
        # Bought through the portal's checkout (an idempotency key), not made in the admin.
        bought_online=bool(pass_.idempotency_key and pass_.payment_reference),
        ended=pass_.status != Pass.Status.ACTIVE,
    )


def pass_contract(*, user, code, lock: bool) -> Contract | None:
    pass_ = _own_pass(user=user, code=code, lock=lock)
    if pass_ is None:
        return None
    used = pass_.uses_included - pass_.uses_left
    terms = pass_terms(pass_)
    return Contract(
        kind=KIND,
        code=str(pass_.code),
        organiser=terms.organiser,
        user_id=pass_.user_id,
        email=pass_.buyer_email,
        description=_("%(pass)s pass (%(uses)s) from %(organiser)s")
        % {
            "pass": pass_.pass_type.name,
            "uses": pass_.pass_type.uses_summary,
            "organiser": pass_.organiser.name,
        },
        purchased_at=terms.purchased_at,
        currency=pass_.currency,
        amount_paid=pass_.price,
        payment_reference=pass_.payment_reference,
        used=used,
        total=pass_.uses_included,
        used_label=_("%(used)s of %(total)s uses taken") % {"used": used, "total": pass_.uses_included},
        bought_online=terms.bought_online,
        ended=terms.ended,
        detail_url=reverse("passes:pass_detail", kwargs={"code": pass_.code}),
        receipt_url=receipt_url(KIND, pass_.code),
    )


def pass_end(*, contract: Contract) -> None:
    """The pass stops working at once: cancelled, no uses left. Bookings already paid with it
    stay booked (their uses are what the deduction paid for)."""
    Pass.objects.filter(code=contract.code, status=Pass.Status.ACTIVE).update(
        status=Pass.Status.VOID, uses_left=0, updated_at=timezone.now()
    )
