"""Withdrawing from a Stripe membership (portal.withdrawals, memberships.contracts): the
subscription ends at once and the invoice's payment is refunded less the days begun; against
localstripe, and at the SDK's HTTP boundary for the newer API that localstripe lacks."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from django.utils import timezone, translation

from memberships.models import Membership
from portal import withdrawals
from portal.models import Withdrawal
from portal.payments import StripeGateway
from tests.memberships.factories import MembershipFactory, MembershipInvoiceFactory
from tests.memberships.test_stripe_gateway import subscribe
from tests.stripe_helpers import RecordingHTTPClient


@pytest.fixture(autouse=True)
def _in_english():
    # What the services write (a contract's description, an error) is in the active language;
    # another test's request may have left one active.
    with translation.override("en-gb"):
        yield


@pytest.fixture
def gateway(localstripe_url, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_localstripe"
    settings.STRIPE_API_BASE = localstripe_url
    settings.PAYMENT_GATEWAY = "stripe"
    return StripeGateway("sk_test_localstripe", localstripe_url)


@pytest.mark.django_db
def test_withdrawing_ends_the_stripe_subscription_and_refunds_its_payment_pro_rata(
    gateway, booker, django_capture_on_commit_callbacks
):
    customer, reference = subscribe(gateway)
    (invoice,) = gateway.list_invoices(subscription_reference=reference)
    start = timezone.now() - timedelta(days=1, hours=2)
    membership = MembershipFactory(
        user=booker,
        gateway="stripe",
        customer_reference=customer,
        subscription_reference=reference,
        started_at=start,
        current_period_start=start,
        current_period_end=start + timedelta(days=30),
    )
    MembershipInvoiceFactory(
        membership=membership, reference=invoice.reference, status="paid", amount_paid=3000, amount_due=3000
    )

    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawals.withdrawal_make(user=booker, kind="membership", code=str(membership.code))

    withdrawal.refresh_from_db()
    assert (withdrawal.deduction, withdrawal.refund_amount) == (200, 2800)  # 2 of 30 days begun
    assert withdrawal.refund_status == Withdrawal.RefundStatus.SUCCEEDED
    assert withdrawal.payment_reference.startswith("pi_")  # the invoice's payment, not the invoice
    assert withdrawal.refund_reference.startswith("re_")
    refund = gateway.client.v1.refunds.retrieve(withdrawal.refund_reference)
    assert refund.amount == 2800
    assert gateway.get_subscription(reference).status == "canceled"
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELED


@pytest.mark.django_db
def test_settling_again_cancels_and_refunds_with_the_same_keys(
    gateway, booker, django_capture_on_commit_callbacks
):
    customer, reference = subscribe(gateway)
    (invoice,) = gateway.list_invoices(subscription_reference=reference)
    membership = MembershipFactory(
        user=booker, gateway="stripe", customer_reference=customer, subscription_reference=reference
    )
    MembershipInvoiceFactory(
        membership=membership, reference=invoice.reference, status="paid", amount_paid=3000
    )
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawals.withdrawal_make(user=booker, kind="membership", code=str(membership.code))
    withdrawal.refresh_from_db()
    first = withdrawal.refund_reference

    withdrawals.withdrawal_settle(withdrawal=withdrawal)

    withdrawal.refresh_from_db()
    assert withdrawal.refund_reference == first
    refunds = gateway.client.v1.refunds.list(params={"payment_intent": withdrawal.payment_reference})
    assert len(refunds.data) == 1


def test_since_api_2025_03_31_the_invoices_payment_is_found_among_its_invoice_payments():
    recorder = RecordingHTTPClient(
        {
            "/v1/invoices/in_1": {"id": "in_1", "object": "invoice"},
            "/v1/invoice_payments": {
                "object": "list",
                "data": [{"id": "inpay_1", "payment": {"type": "payment_intent", "payment_intent": "pi_9"}}],
            },
            "/v1/subscriptions/sub_1": {"id": "sub_1", "object": "subscription", "status": "canceled"},
        }
    )
    gateway = StripeGateway("sk_test_boundary")
    gateway.client = stripe.StripeClient("sk_test_boundary", http_client=recorder)

    assert gateway.invoice_payment_reference("in_1") == "pi_9"
    assert gateway.cancel_subscription_now(
        reference="sub_1", idempotency_key="withdrawal-x-cancel"
    ).status == ("canceled")
    cancel = recorder.requests[-1]
    assert cancel["method"] == "delete" and cancel["path"] == "/v1/subscriptions/sub_1"
    assert cancel["headers"]["Idempotency-Key"] == "withdrawal-x-cancel"
