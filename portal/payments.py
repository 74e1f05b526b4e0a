"""Payments behind one small interface; settings choose Stripe or the offline gateway.

The offline gateway is the embedded default: the demo and the tests take the same code paths
with no network. Stripe is used when STRIPE_SECRET_KEY is set; production takes offline payments
only when PAYMENT_GATEWAY=offline says so. Stripe calls happen outside
database transactions (they are slow), and every call carries an idempotency key derived from
our own row, so a retry never charges or refunds twice.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import deploy
from portal.exceptions import PaymentError


@dataclass(frozen=True)
class Checkout:
    """Either paid at once (offline) or a page the booker must be sent to (Stripe Checkout)."""

    paid: bool
    payment_reference: str = ""
    redirect_url: str = ""


@dataclass(frozen=True)
class CardDetails:
    brand: str
    last4: str


@dataclass(frozen=True)
class SubscriptionState:
    """A subscription as the gateway sees it; Stripe's status names."""

    reference: str
    customer_reference: str
    status: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool = False
    started_at: datetime | None = None
    ended_at: datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # Set while billing is paused ("paused" status): when it comes back.
    paused_until: datetime | None = None


@dataclass(frozen=True)
class InvoiceState:
    reference: str
    number: str
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    issued_at: datetime
    subscription_reference: str = ""
    period_start: datetime | None = None
    period_end: datetime | None = None
    hosted_url: str = ""
    pdf_url: str = ""


@dataclass(frozen=True)
class SubscriptionCheckout:
    """Offline: the subscription started at once (with its first invoice).
    Stripe: a Checkout page the booker must be sent to; webhooks tell us the rest."""

    customer_reference: str
    redirect_url: str = ""
    checkout_reference: str = ""
    subscription: SubscriptionState | None = None
    invoice: InvoiceState | None = None


@dataclass(frozen=True)
class ProrationPreview:
    """What switching a subscription's price now would bill: a credit for the unused time on the
    old price, a charge for the rest of the period on the new one, and the next invoice with both."""

    credit: int  # a positive amount taken off
    charge: int
    next_invoice_amount: int
    next_invoice_at: datetime | None
    proration_date: datetime
    # A switch to another interval: a new period starts at `proration_date` and is invoiced then
    # (`next_invoice_*` is that invoice); `charge` is the new plan's whole first period.
    billed_now: bool = False

    @property
    def net(self) -> int:
        return self.charge - self.credit

    @property
    def net_credit(self) -> int:
        """What is left over for the next invoice when the new plan costs less."""
        return max(self.credit - self.charge, 0)


def prorate(
    *, old_amount: int, new_amount: int, period_start: datetime, period_end: datetime, at: datetime
) -> tuple[int, int]:
    """(credit, charge) for switching from `old_amount` to `new_amount` per period at `at`: each
    price times the share of the period still to come, in whole seconds, as Stripe prorates."""
    total = max(int((period_end - period_start).total_seconds()), 1)
    left = min(max(int((period_end - at).total_seconds()), 0), total)
    return round(old_amount * left / total), round(new_amount * left / total)


def prorate_interval_change(
    *, old_amount: int, new_amount: int, period_start: datetime, period_end: datetime, at: datetime
) -> tuple[int, int]:
    """(credit, charge) for switching to a price billed at another interval at `at`: Stripe resets
    the billing cycle anchor to that moment, so the credit is the old price's unused share (as in
    `prorate`) and the charge is the new price for a whole new period from then."""
    credit, _charge = prorate(
        old_amount=old_amount, new_amount=new_amount, period_start=period_start, period_end=period_end, at=at
    )
    return credit, new_amount


def add_interval(moment: datetime, interval: str, count: int = 1) -> datetime:
    """One billing period on: the same day next month (clamped to the month's end) or next year."""
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class PaymentGateway:
    name = ""

    def start_checkout(
        self,
        *,
        amount: int,
        currency: str,
        description: str,
        customer_email: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Checkout:
        raise NotImplementedError

    def refund(self, *, payment_reference: str, amount: int, idempotency_key: str) -> str:
        """Refund part or all of a payment; returns the refund's reference."""
        raise NotImplementedError

    # Subscriptions (memberships) ----------------------------------------------------------

    #: Whether subscription state arrives later by webhook (Stripe) or is ours to keep (offline).
    keeps_subscription_state = False

    def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        raise NotImplementedError

    def start_subscription(
        self,
        *,
        customer_reference: str,
        description: str,
        amount: int,
        currency: str,
        interval: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> SubscriptionCheckout:
        raise NotImplementedError

    def get_subscription(self, reference: str) -> SubscriptionState:
        raise NotImplementedError

    def cancel_subscription_at_period_end(self, *, reference: str, idempotency_key: str) -> SubscriptionState:
        raise NotImplementedError

    def cancel_subscription_now(self, *, reference: str, idempotency_key: str) -> SubscriptionState:
        """End a subscription at once, billing nothing more (a consumer withdrew from it)."""
        raise NotImplementedError

    def invoice_payment_reference(self, invoice_reference: str) -> str:
        """The payment that paid an invoice, as `refund` takes it."""
        raise NotImplementedError

    def renew_subscription(
        self,
        *,
        reference: str,
        amount: int,
        currency: str,
        period_start: datetime,
        period_end: datetime,
        collect: bool = True,
    ) -> InvoiceState:
        """Bill the next period. Only the offline gateway needs this: Stripe renews by itself.
        `collect=False` (a paused subscription) voids the period's invoice, as Stripe's
        pause_collection does."""
        raise NotImplementedError

    def reactivate_subscription(self, *, reference: str, idempotency_key: str) -> SubscriptionState:
        """Take back a cancel-at-period-end: the subscription renews again."""
        raise NotImplementedError

    def pause_subscription(
        self, *, reference: str, resumes_at: datetime, idempotency_key: str
    ) -> SubscriptionState:
        """Stop collecting payment until `resumes_at` (invoices in between are voided)."""
        raise NotImplementedError

    def unpause_subscription(self, *, reference: str, idempotency_key: str) -> SubscriptionState:
        raise NotImplementedError

    def preview_switch(
        self,
        *,
        reference: str,
        old_amount: int,
        new_amount: int,
        currency: str,
        interval: str,
        period_start: datetime,
        period_end: datetime,
        proration_date: datetime,
        reset_billing_cycle: bool = False,
    ) -> ProrationPreview:
        """What switching the subscription to `new_amount` at `proration_date` would bill (with
        `reset_billing_cycle`, to another interval: a new period from then, invoiced at once)."""
        raise NotImplementedError

    def switch_subscription(
        self,
        *,
        reference: str,
        description: str,
        new_amount: int,
        currency: str,
        interval: str,
        proration_date: datetime,
        idempotency_key: str,
        metadata: dict[str, str],
        reset_billing_cycle: bool = False,
    ) -> SubscriptionState:
        """Move the subscription to a new price now, prorating the rest of the period (with
        `reset_billing_cycle`, another interval: a new period starts now, invoiced at once)."""
        raise NotImplementedError

    def get_invoice(self, reference: str) -> InvoiceState:
        raise NotImplementedError

    def list_invoices(self, *, subscription_reference: str) -> list[InvoiceState]:
        raise NotImplementedError

    def card_update_url(self, *, customer_reference: str, return_url: str) -> str:
        """A hosted page where the booker changes their card, or "" when we show our own form."""
        raise NotImplementedError

    def update_card(
        self, *, customer_reference: str, number: str, exp_month: int, exp_year: int, cvc: str
    ) -> CardDetails:
        """Only gateways without a hosted page take card details through our form."""
        raise NotImplementedError

    def card_on_file(self, *, customer_reference: str) -> CardDetails | None:
        raise NotImplementedError


def _stable_id(prefix: str, key: str) -> str:
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def luhn_ok(digits: str) -> bool:
    """The check digit every card number carries (ISO/IEC 7812): catches a mistyped digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class OfflineGateway(PaymentGateway):
    """Takes payment at once, as if by card at the door. References are derived from the
    idempotency key, so the same request twice yields the same payment."""

    name = "offline"

    def start_checkout(
        self,
        *,
        amount,
        currency,
        description,
        customer_email,
        success_url,
        cancel_url,
        idempotency_key,
        metadata,
    ) -> Checkout:
        return Checkout(paid=True, payment_reference=_stable_id("offline_pay", idempotency_key))

    def refund(self, *, payment_reference, amount, idempotency_key) -> str:
        if not payment_reference:
            raise PaymentError(_("There is no payment to refund."))
        return _stable_id("offline_re", idempotency_key)

    # The offline gateway keeps no state of its own: our rows are the record, and these methods
    # return what a card processor would have said, derived from the keys they are given.
    keeps_subscription_state = True

    def create_customer(self, *, email, name, idempotency_key) -> str:
        return _stable_id("offline_cus", idempotency_key)

    def start_subscription(
        self,
        *,
        customer_reference,
        description,
        amount,
        currency,
        interval,
        success_url,
        cancel_url,
        idempotency_key,
        metadata,
    ) -> SubscriptionCheckout:
        now = timezone.now().replace(microsecond=0)
        end = add_interval(now, interval)
        reference = _stable_id("offline_sub", idempotency_key)
        subscription = SubscriptionState(
            reference=reference,
            customer_reference=customer_reference,
            status="active",
            current_period_start=now,
            current_period_end=end,
            started_at=now,
            metadata=dict(metadata),
        )
        invoice = self._invoice(reference, amount, currency, now, end)
        return SubscriptionCheckout(
            customer_reference=customer_reference, subscription=subscription, invoice=invoice
        )

    def _invoice(
        self, subscription_reference, amount, currency, period_start, period_end, collect=True
    ) -> InvoiceState:
        reference = _stable_id("offline_in", f"{subscription_reference}-{period_start.isoformat()}")
        return InvoiceState(
            reference=reference,
            number=f"OFF-{reference[-8:].upper()}",
            status="paid" if collect else "void",
            amount_due=amount,
            amount_paid=amount if collect else 0,
            currency=currency,
            issued_at=period_start,
            subscription_reference=subscription_reference,
            period_start=period_start,
            period_end=period_end,
        )

    def cancel_subscription_at_period_end(self, *, reference, idempotency_key):
        raise NotImplementedError("The offline gateway keeps no subscriptions: cancel our own row.")

    def cancel_subscription_now(self, *, reference, idempotency_key):
        raise NotImplementedError("The offline gateway keeps no subscriptions: end our own row.")

    def invoice_payment_reference(self, invoice_reference) -> str:
        return invoice_reference  # offline, the invoice is its own payment

    def renew_subscription(
        self, *, reference, amount, currency, period_start, period_end, collect=True
    ) -> InvoiceState:
        return self._invoice(reference, amount, currency, period_start, period_end, collect)

    def reactivate_subscription(self, *, reference, idempotency_key):
        raise NotImplementedError("The offline gateway keeps no subscriptions: change our own row.")

    def pause_subscription(self, *, reference, resumes_at, idempotency_key):
        raise NotImplementedError("The offline gateway keeps no subscriptions: change our own row.")

    def unpause_subscription(self, *, reference, idempotency_key):
        raise NotImplementedError("The offline gateway keeps no subscriptions: change our own row.")

    def preview_switch(
        self,
        *,
        reference,
        old_amount,
        new_amount,
        currency,
        interval,
        period_start,
        period_end,
        proration_date,
        reset_billing_cycle=False,
    ) -> ProrationPreview:
        # Stripe's arithmetic (see `prorate`): the net goes onto the next renewal's invoice. To
        # another interval, a new period starts now and is invoiced now, less the unused time.
        credit, charge = (prorate_interval_change if reset_billing_cycle else prorate)(
            old_amount=old_amount,
            new_amount=new_amount,
            period_start=period_start,
            period_end=period_end,
            at=proration_date,
        )
        if reset_billing_cycle:
            return ProrationPreview(
                credit=credit,
                charge=charge,
                next_invoice_amount=max(charge - credit, 0),
                next_invoice_at=proration_date,
                proration_date=proration_date,
                billed_now=True,
            )
        return ProrationPreview(
            credit=credit,
            charge=charge,
            next_invoice_amount=max(new_amount + charge - credit, 0),
            next_invoice_at=period_end,
            proration_date=proration_date,
        )

    def switch_subscription(self, **kwargs):
        raise NotImplementedError("The offline gateway keeps no subscriptions: change our own row.")

    def card_update_url(self, *, customer_reference, return_url) -> str:
        return ""

    def update_card(self, *, customer_reference, number, exp_month, exp_year, cvc) -> CardDetails:
        digits = "".join(ch for ch in number if ch.isdigit())
        if len(digits) < 12 or not luhn_ok(digits) or exp_month < 1 or exp_month > 12:
            raise PaymentError(_("Those card details don't look right. Please check them."))
        if (exp_year, exp_month) < (timezone.now().year, timezone.now().month):
            raise PaymentError(_("That card has expired."))
        brand = {"4": "Visa", "5": "Mastercard", "3": "American Express"}.get(digits[0], "Card")
        return CardDetails(brand=brand, last4=digits[-4:])

    def card_on_file(self, *, customer_reference):
        return None


class StripeGateway(PaymentGateway):
    name = "stripe"

    def __init__(self, api_key: str, api_base: str = ""):
        import stripe

        self.client = stripe.StripeClient(api_key, base_addresses={"api": api_base} if api_base else None)
        self.stripe = stripe

    def start_checkout(
        self,
        *,
        amount,
        currency,
        description,
        customer_email,
        success_url,
        cancel_url,
        idempotency_key,
        metadata,
    ) -> Checkout:
        session = self._call(
            self.client.v1.checkout.sessions.create,
            params={
                "mode": "payment",
                "customer_email": customer_email,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": currency.lower(),
                            "unit_amount": amount,
                            "product_data": {"name": description},
                        },
                    }
                ],
                "success_url": success_url,
                "cancel_url": cancel_url,
                "metadata": metadata,
                "payment_intent_data": {"metadata": metadata},
            },
            options={"idempotency_key": idempotency_key},
            message=str(PaymentError.default_message),
        )
        return Checkout(paid=False, payment_reference=session["id"], redirect_url=session["url"])

    def refund(self, *, payment_reference, amount, idempotency_key) -> str:
        refund = self._call(
            self.client.v1.refunds.create,
            params={"payment_intent": payment_reference, "amount": amount},
            options={"idempotency_key": idempotency_key},
            message="The refund could not be made just now. Please try again.",
        )
        return refund["id"]

    # Subscriptions: Stripe is the record; our rows follow it through webhooks.

    def _call(self, method, *args, message: str = "", **kwargs) -> dict:
        try:
            return method(*args, **kwargs).to_dict()
        except self.stripe.StripeError as exc:
            raise PaymentError(message or "Stripe could not be reached just now. Please try again.") from exc

    def create_customer(self, *, email, name, idempotency_key) -> str:
        customer = self._call(
            self.client.v1.customers.create,
            params={"email": email, "name": name},
            options={"idempotency_key": idempotency_key},
        )
        return customer["id"]

    def start_subscription(
        self,
        *,
        customer_reference,
        description,
        amount,
        currency,
        interval,
        success_url,
        cancel_url,
        idempotency_key,
        metadata,
    ) -> SubscriptionCheckout:
        session = self._call(
            self.client.v1.checkout.sessions.create,
            params={
                "mode": "subscription",
                "customer": customer_reference,
                "client_reference_id": metadata.get("membership", ""),
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": currency.lower(),
                            "unit_amount": amount,
                            "recurring": {"interval": interval},
                            "product_data": {"name": description},
                        },
                    }
                ],
                "success_url": success_url,
                "cancel_url": cancel_url,
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
            },
            options={"idempotency_key": idempotency_key},
            message="The payment page could not be opened just now. You have not been charged.",
        )
        return SubscriptionCheckout(
            customer_reference=customer_reference,
            redirect_url=session["url"],
            checkout_reference=session["id"],
        )

    def get_subscription(self, reference) -> SubscriptionState:
        return stripe_subscription_state(self._call(self.client.v1.subscriptions.retrieve, reference))

    def cancel_subscription_at_period_end(self, *, reference, idempotency_key) -> SubscriptionState:
        subscription = self._call(
            self.client.v1.subscriptions.update,
            reference,
            params={"cancel_at_period_end": True},
            options={"idempotency_key": idempotency_key},
            message="Your membership could not be cancelled just now. Please try again.",
        )
        return stripe_subscription_state(subscription)

    def reactivate_subscription(self, *, reference, idempotency_key) -> SubscriptionState:
        subscription = self._call(
            self.client.v1.subscriptions.update,
            reference,
            params={"cancel_at_period_end": False},
            options={"idempotency_key": idempotency_key},
            message="Your membership could not be resumed just now. Please try again.",
        )
        return stripe_subscription_state(subscription)

    def pause_subscription(self, *, reference, resumes_at, idempotency_key) -> SubscriptionState:
        # "void": invoices Stripe makes during the pause are voided, so nothing is owed for them.
        subscription = self._call(
            self.client.v1.subscriptions.update,
            reference,
            params={"pause_collection": {"behavior": "void", "resumes_at": int(resumes_at.timestamp())}},
            options={"idempotency_key": idempotency_key},
            message="Your membership could not be paused just now. Please try again.",
        )
        return stripe_subscription_state(subscription)

    def unpause_subscription(self, *, reference, idempotency_key) -> SubscriptionState:
        subscription = self._call(
            self.client.v1.subscriptions.update,
            reference,
            params={"pause_collection": ""},  # an empty value clears the pause
            options={"idempotency_key": idempotency_key},
            message="Your membership could not be resumed just now. Please try again.",
        )
        return stripe_subscription_state(subscription)

    def _item_and_product(self, reference) -> tuple[str, str]:
        subscription = self._call(self.client.v1.subscriptions.retrieve, reference)
        item = subscription["items"]["data"][0]
        price = item.get("price") or item.get("plan") or {}
        return item["id"], _reference(price.get("product"))

    def preview_switch(
        self,
        *,
        reference,
        old_amount,
        new_amount,
        currency,
        interval,
        period_start,
        period_end,
        proration_date,
        reset_billing_cycle=False,
    ) -> ProrationPreview:
        # Stripe's own preview of the next invoice with the change made at `proration_date`; the
        # same date goes into the switch itself, so the booker is billed what they were shown.
        # To another interval Stripe starts a new period then and invoices it at once: the
        # preview is that invoice, with the anchor reset as the switch will reset it.
        item, product = self._item_and_product(reference)
        details = {
            "items": [{"id": item, "price_data": _price_data(new_amount, currency, interval, product)}],
            "proration_behavior": "create_prorations",
            "proration_date": int(proration_date.timestamp()),
        }
        if reset_billing_cycle:
            details["billing_cycle_anchor"] = "now"
        preview = self._call(
            self.client.v1.invoices.create_preview,
            params={"subscription": reference, "subscription_details": details},
            message="The price of the new plan could not be worked out just now. Please try again.",
        )
        lines = (preview.get("lines") or {}).get("data") or []
        prorations = [line for line in lines if _is_proration(line)]
        if reset_billing_cycle:
            return ProrationPreview(
                credit=-sum(int(line["amount"]) for line in lines if int(line["amount"]) < 0),
                # The new period in full (not a proration line), and any proration charged with it.
                charge=sum(int(line["amount"]) for line in lines if int(line["amount"]) > 0),
                next_invoice_amount=int(preview.get("amount_due") or 0),
                next_invoice_at=proration_date,
                proration_date=proration_date,
                billed_now=True,
            )
        return ProrationPreview(
            credit=-sum(int(line["amount"]) for line in prorations if int(line["amount"]) < 0),
            charge=sum(int(line["amount"]) for line in prorations if int(line["amount"]) > 0),
            next_invoice_amount=int(preview.get("amount_due") or 0),
            next_invoice_at=_timestamp(preview.get("next_payment_attempt") or preview.get("period_end")),
            proration_date=proration_date,
        )

    def switch_subscription(
        self,
        *,
        reference,
        description,
        new_amount,
        currency,
        interval,
        proration_date,
        idempotency_key,
        metadata,
        reset_billing_cycle=False,
    ) -> SubscriptionState:
        item, _ = self._item_and_product(reference)
        product = self._call(
            self.client.v1.products.create,
            params={"name": description},
            options={"idempotency_key": f"{idempotency_key}-product"},
            message="Your plan could not be changed just now. Please try again.",
        )
        params = {
            "items": [{"id": item, "price_data": _price_data(new_amount, currency, interval, product["id"])}],
            "proration_behavior": "create_prorations",
            "proration_date": int(proration_date.timestamp()),
            "metadata": metadata,
        }
        if reset_billing_cycle:
            # Another interval: Stripe would reset the anchor anyway; saying so makes the preview
            # and the switch the same request. The new period is invoiced (and charged) at once.
            params["billing_cycle_anchor"] = "now"
        subscription = self._call(
            self.client.v1.subscriptions.update,
            reference,
            params=params,
            options={"idempotency_key": idempotency_key},
            message="Your plan could not be changed just now. Please try again.",
        )
        return stripe_subscription_state(subscription)

    def cancel_subscription_now(self, *, reference, idempotency_key) -> SubscriptionState:
        subscription = self._call(
            self.client.v1.subscriptions.cancel,
            reference,
            options={"idempotency_key": idempotency_key},
            message="Your membership could not be ended just now. We will try again.",
        )
        return stripe_subscription_state(subscription)

    def invoice_payment_reference(self, invoice_reference) -> str:
        """The PaymentIntent of a paid invoice: on the invoice before API version 2025-03-31 (and
        in localstripe), among its InvoicePayments since."""
        invoice = self._call(self.client.v1.invoices.retrieve, invoice_reference)
        intent = _reference(invoice.get("payment_intent"))
        if not intent:
            payments = self._call(
                self.client.v1.invoice_payments.list, params={"invoice": invoice_reference, "limit": 10}
            )["data"]
            for payment in payments:
                intent = intent or _reference((payment.get("payment") or {}).get("payment_intent"))
        if not intent:
            raise PaymentError("We could not find the payment for this invoice.")
        return intent

    def get_invoice(self, reference) -> InvoiceState:
        return stripe_invoice_state(self._call(self.client.v1.invoices.retrieve, reference))

    def list_invoices(self, *, subscription_reference) -> list[InvoiceState]:
        page = self._call(
            self.client.v1.invoices.list, params={"subscription": subscription_reference, "limit": 100}
        )
        return [stripe_invoice_state(invoice) for invoice in page["data"]]

    def card_update_url(self, *, customer_reference, return_url) -> str:
        session = self._call(
            self.client.v1.billing_portal.sessions.create,
            params={"customer": customer_reference, "return_url": return_url},
            message="The card details page could not be opened just now. Please try again.",
        )
        return session["url"]

    def update_card(self, *, customer_reference, number, exp_month, exp_year, cvc) -> CardDetails:
        # Card numbers never touch our servers with Stripe: the Billing Portal takes them.
        raise NotImplementedError

    def card_on_file(self, *, customer_reference) -> CardDetails | None:
        customer = self._call(self.client.v1.customers.retrieve, customer_reference)
        default = (customer.get("invoice_settings") or {}).get("default_payment_method")
        if isinstance(default, dict):
            method = default
        elif default:
            method = self._call(self.client.v1.payment_methods.retrieve, default)
        else:
            methods = self._call(
                self.client.v1.payment_methods.list,
                params={"customer": customer_reference, "type": "card", "limit": 1},
            )["data"]
            if not methods:
                return None
            method = methods[0]
        card = method.get("card") or {}
        if not card:
            return None
        return CardDetails(brand=str(card.get("brand", "card")).title(), last4=card.get("last4", ""))


def _price_data(amount: int, currency: str, interval: str, product: str) -> dict:
    return {
        "currency": currency.lower(),
        "unit_amount": amount,
        "recurring": {"interval": interval},
        "product": product,
    }


def _is_proration(line: dict) -> bool:
    """Since API version 2025-03-31 a line says it is a proration under parent.*_details."""
    if line.get("proration"):
        return True
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or parent.get("invoice_item_details") or {}
    return bool(details.get("proration"))


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _reference(value) -> str:
    """Stripe gives an id, or the whole object when it was expanded."""
    if isinstance(value, dict):
        return value.get("id", "")
    return value or ""


def stripe_subscription_state(data: dict) -> SubscriptionState:
    """From a Stripe subscription (a dict). Since API version 2025-03-31 the billing period lives
    on the subscription's items; older versions (and localstripe) have it on the subscription."""
    items = (data.get("items") or {}).get("data") or [{}]
    period_start = items[0].get("current_period_start") or data.get("current_period_start")
    period_end = items[0].get("current_period_end") or data.get("current_period_end")
    status = data.get("status", "")
    pause = data.get("pause_collection") or {}
    # Stripe keeps a subscription whose collection is paused "active"; for us it is paused.
    if pause and status == "active":
        status = "paused"
    return SubscriptionState(
        reference=data["id"],
        customer_reference=_reference(data.get("customer")),
        status=status,
        current_period_start=_timestamp(period_start),
        current_period_end=_timestamp(period_end),
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        started_at=_timestamp(data.get("start_date")),
        ended_at=_timestamp(data.get("ended_at")),
        metadata=dict(data.get("metadata") or {}),
        paused_until=_timestamp(pause.get("resumes_at")) if pause else None,
    )


def stripe_invoice_state(data: dict) -> InvoiceState:
    """From a Stripe invoice (a dict). The subscription moved to parent.subscription_details
    in API version 2025-03-31; older versions have it at the top."""
    parent = data.get("parent") or {}
    subscription = (parent.get("subscription_details") or {}).get("subscription") or data.get("subscription")
    status = data.get("status") or "open"
    return InvoiceState(
        reference=data["id"],
        number=data.get("number") or "",
        status=status,
        amount_due=int(data.get("amount_due") or 0),
        amount_paid=int(data.get("amount_paid") or 0),
        currency=str(data.get("currency") or "").upper(),
        issued_at=_timestamp(data.get("created") or data.get("date")) or timezone.now(),
        subscription_reference=_reference(subscription),
        period_start=_timestamp(data.get("period_start")),
        period_end=_timestamp(data.get("period_end")),
        hosted_url=data.get("hosted_invoice_url") or "",
        pdf_url=data.get("invoice_pdf") or "",
    )


@cache
def _gateway(name: str, api_key: str, api_base: str) -> PaymentGateway:
    if name == "stripe":
        return StripeGateway(api_key, api_base)
    if name == "offline":
        return OfflineGateway()
    # Never fall back to the gateway that accepts every payment: settings.py and the system
    # checks refuse this configuration, and a payment must not slip through if they were bypassed.
    raise ImproperlyConfigured(
        deploy.payment_gateway_problem(name, api_key) or f"Unknown payment gateway {name!r}."
    )


def get_gateway() -> PaymentGateway:
    return _gateway(settings.PAYMENT_GATEWAY, settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)
