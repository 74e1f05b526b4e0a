"""The Stripe gateway with the real SDK: against localstripe for customers, payment methods,
subscriptions and invoices; at the SDK's HTTP boundary for Checkout and the Billing Portal."""

from __future__ import annotations

import time

import pytest
import stripe

from portal.exceptions import PaymentError
from portal.payments import StripeGateway
from tests.stripe_helpers import RecordingHTTPClient


@pytest.fixture
def gateway(localstripe_url):
    return StripeGateway("sk_test_localstripe", localstripe_url)


def subscribe(gateway, *, card="4242424242424242", metadata=None):
    """What Stripe Checkout does for a booker: a customer with a card and a subscription."""
    client = gateway.client
    customer = gateway.create_customer(
        email="bea@example.com", name="Bea Booker", idempotency_key=f"test-{time.monotonic_ns()}"
    )
    plan = client.v1.plans.create(
        params={"amount": 3000, "currency": "gbp", "interval": "month", "product": {"name": "Monthly"}}
    )
    method = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    client.v1.payment_methods.attach(method.id, params={"customer": customer})
    client.v1.customers.update(customer, params={"invoice_settings": {"default_payment_method": method.id}})
    subscription = client.v1.subscriptions.create(
        params={"customer": customer, "items": [{"plan": plan.id}], "metadata": metadata or {}}
    )
    return customer, subscription.id


def test_creating_a_customer_returns_stripes_id(gateway):
    customer = gateway.create_customer(email="bea@example.com", name="Bea", idempotency_key="cus-once")

    assert customer.startswith("cus_")
    assert gateway.client.v1.customers.retrieve(customer).email == "bea@example.com"


def test_a_subscription_is_read_back_with_its_period_and_metadata(gateway):
    customer, reference = subscribe(gateway, metadata={"membership": "m-1"})

    state = gateway.get_subscription(reference)

    assert (state.reference, state.customer_reference, state.status) == (reference, customer, "active")
    assert state.current_period_end > state.current_period_start
    assert state.metadata == {"membership": "m-1"}
    assert state.cancel_at_period_end is False


def test_the_card_on_file_is_the_customers_default_payment_method(gateway):
    customer, _ = subscribe(gateway, card="5555555555554444")

    card = gateway.card_on_file(customer_reference=customer)

    assert card.last4 == "4444"
    assert card.brand == "Visa"  # localstripe calls every card a Visa


def test_a_customer_without_a_card_has_none_on_file(gateway):
    customer = gateway.create_customer(email="x@example.com", name="X", idempotency_key="cus-no-card")

    assert gateway.card_on_file(customer_reference=customer) is None


def test_a_subscriptions_invoices_are_listed_and_read(gateway):
    _, reference = subscribe(gateway)

    invoices = gateway.list_invoices(subscription_reference=reference)

    assert len(invoices) == 1
    invoice = invoices[0]
    assert (invoice.status, invoice.amount_due, invoice.amount_paid, invoice.currency) == (
        "paid",
        3000,
        3000,
        "GBP",
    )
    assert invoice.subscription_reference == reference
    assert gateway.get_invoice(invoice.reference) == invoice


def test_cancelling_keeps_the_subscription_until_the_period_ends(gateway):
    _, reference = subscribe(gateway)

    state = gateway.cancel_subscription_at_period_end(
        reference=reference, idempotency_key=f"cancel-{reference}"
    )

    assert state.cancel_at_period_end is True
    assert state.status == "active"
    assert gateway.get_subscription(reference).cancel_at_period_end is True


def test_stripe_errors_become_booker_safe_payment_errors(gateway):
    with pytest.raises(PaymentError) as error:
        gateway.cancel_subscription_at_period_end(reference="sub_missing", idempotency_key="cancel-missing")

    assert "could not be cancelled" in str(error.value)


# What localstripe lacks: the parameters at the SDK's HTTP boundary -------------------------


def recording_gateway(responses):
    gateway = StripeGateway("sk_test_boundary")
    recorder = RecordingHTTPClient(responses)
    gateway.client = stripe.StripeClient("sk_test_boundary", http_client=recorder)
    return gateway, recorder


def test_checkout_is_a_subscription_for_the_plans_price_with_an_idempotency_key():
    gateway, recorder = recording_gateway(
        {
            "/v1/checkout/sessions": {
                "id": "cs_test_1",
                "object": "checkout.session",
                "url": "https://checkout.test/cs_1",
            }
        }
    )

    checkout = gateway.start_subscription(
        customer_reference="cus_1",
        description="Monthly Unlimited (Riverside)",
        amount=3000,
        currency="GBP",
        interval="month",
        success_url="https://portal.test/portal/memberships/?session={CHECKOUT_SESSION_ID}",
        cancel_url="https://portal.test/riverside/",
        idempotency_key="membership-abc-checkout-1",
        metadata={"membership": "abc", "organiser": "riverside"},
    )

    assert (checkout.redirect_url, checkout.checkout_reference) == ("https://checkout.test/cs_1", "cs_test_1")
    assert checkout.subscription is None  # Stripe tells us by webhook
    [request] = recorder.requests
    assert (request["method"], request["path"]) == ("post", "/v1/checkout/sessions")
    assert request["headers"]["Idempotency-Key"] == "membership-abc-checkout-1"
    form = RecordingHTTPClient.form(request["body"])
    assert form["mode"] == "subscription"
    assert form["customer"] == "cus_1"
    assert form["client_reference_id"] == "abc"
    assert form["line_items[0][price_data][currency]"] == "gbp"
    assert form["line_items[0][price_data][unit_amount]"] == "3000"
    assert form["line_items[0][price_data][recurring][interval]"] == "month"
    assert form["line_items[0][price_data][product_data][name]"] == "Monthly Unlimited (Riverside)"
    assert form["subscription_data[metadata][membership]"] == "abc"
    assert form["success_url"].endswith("?session={CHECKOUT_SESSION_ID}")


def test_update_card_opens_a_billing_portal_session_for_the_customer():
    gateway, recorder = recording_gateway(
        {
            "/v1/billing_portal/sessions": {
                "id": "bps_1",
                "object": "billing_portal.session",
                "url": "https://billing.test/bps_1",
            }
        }
    )

    url = gateway.card_update_url(
        customer_reference="cus_1", return_url="https://portal.test/portal/memberships/"
    )

    assert url == "https://billing.test/bps_1"
    form = RecordingHTTPClient.form(recorder.requests[0]["body"])
    assert form == {"customer": "cus_1", "return_url": "https://portal.test/portal/memberships/"}


def test_a_failed_checkout_is_a_payment_error_that_charges_nothing():
    gateway, _ = recording_gateway({})

    with pytest.raises(PaymentError) as error:
        gateway.start_subscription(
            customer_reference="cus_1",
            description="x",
            amount=100,
            currency="GBP",
            interval="month",
            success_url="https://x.test/",
            cancel_url="https://x.test/",
            idempotency_key="k",
            metadata={},
        )

    assert "You have not been charged" in str(error.value)


def test_new_api_versions_period_on_the_subscription_items_is_read():
    from portal.payments import stripe_subscription_state

    state = stripe_subscription_state(
        {
            "id": "sub_1",
            "customer": {"id": "cus_1"},
            "status": "active",
            "items": {"data": [{"current_period_start": 1_800_000_000, "current_period_end": 1_802_592_000}]},
        }
    )

    assert state.customer_reference == "cus_1"
    assert state.current_period_end.timestamp() == 1_802_592_000
