"""Withdrawing from a contract bought online: the consumer's right of withdrawal (EU Directive
2023/2673, Art. 11a of the Consumer Rights Directive, in force from 19 June 2026).

For 14 days after buying a pass, a gift voucher or a membership online, the booker sees a
"Withdraw from contract here" function, confirms on a "Confirm withdrawal" step, gets their money
back less a fair share for what they already used at their own request (Art. 14(3): a
membership's days, a pass's uses, a voucher's spent part), and an acknowledgement by email with
the content, date and time of the withdrawal. Dated event bookings are exempt (Art. 16(l)).

portal sits below the products, so it owns the rule (one implementation: `withdrawal_quote`), the
record (`portal.models.Withdrawal`), the refund through the gateway and the email; each product
registers, from its AppConfig.ready(), how to find a booker's contract (`load`), how to end it
(`end`, inside the transaction, the product's row locked) and, if it must, what to tell its
payment processor afterwards (`settle`: a Stripe subscription is cancelled at once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.dates import local_date
from portal.emails import send_once, send_templated_email
from portal.exceptions import PaymentError, PortalError
from portal.locking import lock_timeout
from portal.models import Organiser, Withdrawal
from portal.payments import get_gateway

WITHDRAWAL_PERIOD = timedelta(days=14)


class WithdrawalError(PortalError):
    default_message = _("This contract can't be withdrawn from here.")


ERRORS = {
    "not_found": _("We couldn't find that purchase in your account."),
    "period_over": _(
        "The 14-day withdrawal period for this purchase ended on %(date)s. Contact the organiser if "
        "something is wrong."
    ),
    "business_only": _("%(organiser)s sells only to businesses, so there is no right of withdrawal."),
    "not_online": _("This was not bought online, so it can't be withdrawn from here: contact the organiser."),
    "ended": _("This has already ended or been cancelled, so there is nothing to withdraw from."),
}


@dataclass(frozen=True)
class Terms:
    """What decides whether a purchase may be withdrawn from now: read from a row the page has
    already loaded, so a list of cards asks the database nothing more."""

    organiser: Organiser
    purchased_at: datetime
    bought_online: bool = True
    ended: bool = False


@dataclass(frozen=True)
class Contract:
    """A booker's purchase as the withdrawal rule needs it."""

    kind: str
    code: str
    organiser: Organiser
    user_id: int | None
    email: str
    description: str  # the contract's content: what was bought, from whom
    purchased_at: datetime
    currency: str
    amount_paid: int  # minor units
    payment_reference: str
    # What was already used at the booker's request, as a share: used of total.
    used: int
    total: int
    used_label: str  # "2 of 10 uses", "£15.00 of £50.00 spent", "3 of 31 days"
    bought_online: bool = True
    ended: bool = False  # void, ended or used up in a way that leaves nothing to withdraw from
    detail_url: str = ""
    receipt_url: str = ""  # the receipt that shows the refund


@dataclass(frozen=True)
class Kind:
    load: Callable[..., Contract | None]  # (*, user, code, lock) -> the user's own contract or None
    terms: Callable[..., Terms]  # (row) -> its Terms, from the row and what it has selected
    end: Callable[..., None]  # (*, contract) -> end it now; in the transaction, after load(lock=True)
    settle: Callable[..., None] | None = None  # (*, withdrawal) -> after commit, idempotent


_KINDS: dict[str, Kind] = {}


def withdrawal_kind_register(
    kind: str,
    *,
    load: Callable[..., Contract | None],
    terms: Callable[..., Terms],
    end: Callable[..., None],
    settle: Callable[..., None] | None = None,
) -> None:
    registered = Kind(load=load, terms=terms, end=end, settle=settle)
    if kind in _KINDS and _KINDS[kind] != registered:
        raise ImproperlyConfigured(f"Two withdrawal kinds {kind!r}.")
    _KINDS[kind] = registered


def withdrawal_kinds() -> list[str]:
    return sorted(_KINDS)


# The rule ---------------------------------------------------------------------------------------


def withdrawal_deadline(contract: Contract | Terms) -> datetime:
    return contract.purchased_at + WITHDRAWAL_PERIOD


def withdrawal_problem(contract: Contract | Terms, *, now: datetime | None = None) -> str:
    """Why this contract can't be withdrawn from now, as the booker reads it, or ""."""
    now = now or timezone.now()
    if contract.organiser.sells_only_to_businesses:
        return str(ERRORS["business_only"] % {"organiser": contract.organiser.name})
    if not contract.bought_online:
        return str(ERRORS["not_online"])
    if contract.ended:
        return str(ERRORS["ended"])
    if now >= withdrawal_deadline(contract):
        return str(
            ERRORS["period_over"] % {"date": local_date(withdrawal_deadline(contract), contract.organiser)}
        )
    return ""


def withdrawal_open(contract: Contract | Terms, *, now: datetime | None = None) -> bool:
    """Whether the portal shows "Withdraw from contract here" for this contract now."""
    return not withdrawal_problem(contract, now=now)


@dataclass(frozen=True)
class Quote:
    amount_paid: int
    deduction: int
    refund: int


def withdrawal_quote(contract: Contract) -> Quote:
    """What goes back: what was paid, less the proportion already used at the booker's request
    (Art. 14(3) CRD), rounded to the nearest minor unit."""
    paid = contract.amount_paid
    if not contract.total or not contract.used:
        deduction = 0
    else:
        share = Decimal(min(contract.used, contract.total)) / Decimal(contract.total)
        deduction = int((Decimal(paid) * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return Quote(amount_paid=paid, deduction=deduction, refund=paid - deduction)


# Reads ------------------------------------------------------------------------------------------


def withdrawal_contract_get(*, user, kind: str, code: str) -> Contract | None:
    """The booker's own contract of this kind, or None (not theirs, not found, unknown kind)."""
    registered = _KINDS.get(kind)
    if registered is None or user is None or not user.is_authenticated:
        return None
    return registered.load(user=user, code=code, lock=False)


def withdrawal_open_for_row(*, kind: str, row) -> bool:
    """Whether a purchase the page already shows its owner may be withdrawn from now (the cards'
    "Withdraw from contract here"); no query."""
    registered = _KINDS.get(kind)
    return registered is not None and withdrawal_open(registered.terms(row))


def withdrawal_for(*, kind: str, code: str) -> Withdrawal | None:
    return Withdrawal.objects.filter(kind=kind, contract_code=str(code)).first()


# Writes -----------------------------------------------------------------------------------------


def withdrawal_make(*, user, kind: str, code: str) -> Withdrawal:
    """The booker withdraws from their contract: record it, end the contract, then (after
    commit, by a task) acknowledge it by email and refund it through the gateway.

    Under the product's row lock, and idempotent: a second request (a double submit, a retry)
    returns the withdrawal the first one made. Raises WithdrawalError: not the booker's, the
    organiser sells only to businesses, not bought online, already ended, or the period is over.
    """
    registered = _KINDS.get(kind)
    if registered is None:
        raise WithdrawalError(ERRORS["not_found"])
    try:
        with transaction.atomic(), lock_timeout():
            contract = registered.load(user=user, code=str(code), lock=True)
            if contract is None:
                raise WithdrawalError(ERRORS["not_found"])
            existing = withdrawal_for(kind=kind, code=contract.code)
            if existing is not None:
                return existing  # the first request did it (the product row lock ordered us)
            problem = withdrawal_problem(contract)
            if problem:
                raise WithdrawalError(problem)
            quote = withdrawal_quote(contract)
            withdrawal = Withdrawal.objects.create(
                organiser=contract.organiser,
                kind=kind,
                contract_code=contract.code,
                user_id=contract.user_id,
                email=contract.email,
                description=contract.description[:300],
                purchased_at=contract.purchased_at,
                withdrawn_at=timezone.now(),
                currency=contract.currency,
                amount_paid=quote.amount_paid,
                deduction=quote.deduction,
                deduction_reason=contract.used_label[:200] if quote.deduction else "",
                refund_amount=quote.refund,
                payment_reference=contract.payment_reference,
                refund_status=(
                    Withdrawal.RefundStatus.PENDING if quote.refund else Withdrawal.RefundStatus.NONE
                ),
            )
            registered.end(contract=contract)
            # Inside the function: portal.tasks imports this module for the service its task calls.
            from portal.tasks import withdrawal_settle as withdrawal_settle_task

            transaction.on_commit(partial(withdrawal_settle_task.delay, withdrawal.pk))
            return withdrawal
    except IntegrityError:  # two requests at once for a contract whose row the product didn't lock
        existing = withdrawal_for(kind=kind, code=str(code))
        if existing is None:
            raise
        return existing


def withdrawal_settle(*, withdrawal: Withdrawal) -> Withdrawal:
    """After the withdrawal committed: acknowledge it by email (once), tell the product's payment
    processor if it must (a subscription cancelled at once), then refund through the gateway.

    Idempotent (run by a task that may run twice): the email goes once, the gateway gets the same
    idempotency key every time, and a refund already done is not repeated. Raises PaymentError
    while the refund fails (the error is noted on the row), so the task retries."""
    withdrawal_send_acknowledgement(withdrawal_id=withdrawal.pk)
    registered = _KINDS.get(withdrawal.kind)
    if registered is not None and registered.settle is not None:
        registered.settle(withdrawal=withdrawal)
    return withdrawal_refund(withdrawal=withdrawal)


def withdrawal_refund(*, withdrawal: Withdrawal) -> Withdrawal:
    """Pay a withdrawal's refund to the original payment. Call outside a transaction."""
    withdrawal.refresh_from_db()
    if withdrawal.refund_status != Withdrawal.RefundStatus.PENDING:
        return withdrawal
    try:
        reference = get_gateway().refund(
            payment_reference=withdrawal.payment_reference,
            amount=withdrawal.refund_amount,
            idempotency_key=withdrawal.idempotency_key,
        )
    except PaymentError as exc:
        Withdrawal.objects.filter(pk=withdrawal.pk).update(
            refund_error=str(exc.message)[:300], updated_at=timezone.now()
        )
        raise
    with transaction.atomic():
        locked = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
        if locked.refund_status == Withdrawal.RefundStatus.PENDING:
            locked.refund_status = Withdrawal.RefundStatus.SUCCEEDED
            locked.refund_reference = reference[:120]
            locked.refund_error = ""
            locked.refunded_at = timezone.now()
            locked.save(
                update_fields=[
                    "refund_status",
                    "refund_reference",
                    "refund_error",
                    "refunded_at",
                    "updated_at",
                ]
            )
    return locked


def withdrawal_send_acknowledgement(*, withdrawal_id: int) -> bool:
    """The acknowledgement on a durable medium (Art. 11a(3)): the contract, the date and time of
    the withdrawal, and what is refunded. Once per withdrawal (`send_once`)."""

    def send(withdrawal: Withdrawal) -> None:
        organiser = withdrawal.organiser
        send_templated_email(
            template_prefix="portal/email/withdrawal_acknowledged",
            to=[withdrawal.email],
            reply_to=[organiser.contact_email] if organiser.contact_email else None,
            # The booker's language (their account's), else the organiser's default.
            context={"withdrawal": withdrawal, "organiser": organiser, "user": withdrawal.user},
        )

    rows = Withdrawal.objects.select_related("organiser", "user")
    return send_once(rows=rows, pk=withdrawal_id, sent_field="email_sent_at", send=send)
