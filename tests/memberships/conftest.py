"""Fixtures for memberships: plans, memberships, and a Stripe stand-in for view tests."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from memberships.models import Membership
from portal.payments import (
    CardDetails,
    InvoiceState,
    ProrationPreview,
    SubscriptionCheckout,
    SubscriptionState,
)
from tests.memberships.factories import MembershipFactory, MembershipInvoiceFactory, MembershipPlanFactory
from tests.stripe_helpers import start_localstripe


@pytest.fixture
def plan(organiser):
    # A Standard-plan organiser's monthly plan: 10% off bookings, £30 a month.
    return MembershipPlanFactory(
        organiser=organiser, name="Monthly Unlimited", price=3000, discount_percent=10
    )


@pytest.fixture
def membership(plan, booker):
    # Our booker's active offline membership, renewing in 20 days, with one paid invoice.
    membership = MembershipFactory(plan=plan, user=booker, card_brand="Visa", card_last4="4242")
    MembershipInvoiceFactory(membership=membership, number="INV-0001")
    return membership


@pytest.fixture
def ended_membership(organiser, booker):
    # An earlier membership of our booker's that has ended.
    start = timezone.now() - timedelta(days=90)
    return MembershipFactory(
        plan=MembershipPlanFactory(organiser=organiser, name="Yearly Flow"),
        user=booker,
        status=Membership.Status.CANCELED,
        started_at=start,
        current_period_end=start + timedelta(days=30),
        ended_at=start + timedelta(days=30),
    )


@pytest.fixture
def other_membership(plan, other_booker):
    # Another booker's membership of the same plan: never visible to ours.
    membership = MembershipFactory(plan=plan, user=other_booker)
    MembershipInvoiceFactory(membership=membership)
    return membership


class FakeStripe:
    """Answers as StripeGateway does, recording calls: for views and services at the boundary."""

    name = "stripe"
    keeps_subscription_state = False

    def __init__(self):
        self.calls = []
        now = timezone.now().replace(microsecond=0)
        self.subscriptions = {}
        self.invoices = {}
        self.card = CardDetails(brand="Visa", last4="4242")
        self.period = (now, now + timedelta(days=30))

    def create_customer(self, **kwargs):
        self.calls.append(("create_customer", kwargs))
        return "cus_fake"

    def start_subscription(self, **kwargs):
        self.calls.append(("start_subscription", kwargs))
        return SubscriptionCheckout(
            customer_reference=kwargs["customer_reference"],
            redirect_url="https://checkout.stripe.test/c/pay/cs_test_1",
            checkout_reference="cs_test_1",
        )

    def set_subscription(self, reference, **changes):
        base = self.subscriptions.get(reference) or SubscriptionState(
            reference=reference,
            customer_reference="cus_fake",
            status="active",
            current_period_start=self.period[0],
            current_period_end=self.period[1],
            started_at=self.period[0],
        )
        self.subscriptions[reference] = SubscriptionState(**{**base.__dict__, **changes})
        return self.subscriptions[reference]

    def set_invoice(self, reference, **changes):
        base = self.invoices.get(reference) or InvoiceState(
            reference=reference,
            number="RY-0001",
            status="paid",
            amount_due=3000,
            amount_paid=3000,
            currency="GBP",
            issued_at=self.period[0],
            subscription_reference="sub_fake",
            hosted_url="https://invoice.stripe.test/i/1",
            pdf_url="https://pay.stripe.test/invoice/1/pdf",
        )
        self.invoices[reference] = InvoiceState(**{**base.__dict__, **changes})
        return self.invoices[reference]

    def get_subscription(self, reference):
        self.calls.append(("get_subscription", reference))
        return self.subscriptions[reference]

    def get_invoice(self, reference):
        self.calls.append(("get_invoice", reference))
        return self.invoices[reference]

    def cancel_subscription_at_period_end(self, *, reference, idempotency_key):
        self.calls.append(("cancel", {"reference": reference, "idempotency_key": idempotency_key}))
        return self.set_subscription(reference, cancel_at_period_end=True)

    def reactivate_subscription(self, *, reference, idempotency_key):
        self.calls.append(("reactivate", {"reference": reference, "idempotency_key": idempotency_key}))
        return self.set_subscription(reference, cancel_at_period_end=False)

    def pause_subscription(self, *, reference, resumes_at, idempotency_key):
        self.calls.append(
            ("pause", {"reference": reference, "resumes_at": resumes_at, "idempotency_key": idempotency_key})
        )
        return self.set_subscription(reference, status="paused", paused_until=resumes_at)

    def unpause_subscription(self, *, reference, idempotency_key):
        self.calls.append(("unpause", {"reference": reference, "idempotency_key": idempotency_key}))
        return self.set_subscription(reference, status="active", paused_until=None)

    def preview_switch(self, **kwargs):
        # Stripe's answer for a switch from £30 to £60 half way through the period.
        self.calls.append(("preview_switch", kwargs))
        return ProrationPreview(
            credit=1500,
            charge=3000,
            next_invoice_amount=7500,
            next_invoice_at=self.period[1],
            proration_date=kwargs["proration_date"],
        )

    def switch_subscription(self, **kwargs):
        self.calls.append(("switch", kwargs))
        return self.set_subscription(kwargs["reference"], metadata=dict(kwargs["metadata"]))

    def card_update_url(self, *, customer_reference, return_url):
        self.calls.append(
            ("card_update_url", {"customer_reference": customer_reference, "return_url": return_url})
        )
        return "https://billing.stripe.test/p/session/bps_1"

    def card_on_file(self, *, customer_reference):
        self.calls.append(("card_on_file", customer_reference))
        return self.card


@pytest.fixture(scope="session")
def localstripe_url():
    """localstripe on a free 127.0.0.1 port, for the session; stopped by its own handle."""
    process, url = start_localstripe()
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def fake_stripe(monkeypatch):
    fake = FakeStripe()
    monkeypatch.setattr("memberships.services.get_gateway", lambda: fake)
    monkeypatch.setattr("memberships.changes.get_gateway", lambda: fake)
    return fake
