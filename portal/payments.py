"""Payments behind one small interface; settings choose Stripe or the offline gateway.

The offline gateway is the embedded default: the demo and the tests take the same code paths
with no network. Stripe is used when STRIPE_SECRET_KEY is set. Stripe calls happen outside
database transactions (they are slow), and every call carries an idempotency key derived from
our own row, so a retry never charges or refunds twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from portal.exceptions import PaymentError


@dataclass(frozen=True)
class Checkout:
    """Either paid at once (offline) or a page the booker must be sent to (Stripe Checkout)."""

    paid: bool
    payment_reference: str = ""
    redirect_url: str = ""


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


def _stable_id(prefix: str, key: str) -> str:
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


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
            raise PaymentError("There is no payment to refund.")
        return _stable_id("offline_re", idempotency_key)


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
        try:
            session = self.client.v1.checkout.sessions.create(
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
            )
        except self.stripe.StripeError as exc:
            raise PaymentError() from exc
        return Checkout(paid=False, payment_reference=session.id, redirect_url=session.url)

    def refund(self, *, payment_reference, amount, idempotency_key) -> str:
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment_reference, "amount": amount},
                options={"idempotency_key": idempotency_key},
            )
        except self.stripe.StripeError as exc:
            raise PaymentError("The refund could not be made just now. Please try again.") from exc
        return refund.id


@cache
def _gateway(name: str, api_key: str, api_base: str) -> PaymentGateway:
    if name == "stripe":
        return StripeGateway(api_key, api_base)
    return OfflineGateway()


def get_gateway() -> PaymentGateway:
    return _gateway(settings.PAYMENT_GATEWAY, settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)
