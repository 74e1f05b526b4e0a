"""The Stripe gateway with the real SDK: against localstripe for customers, payment methods,
subscriptions and invoices; at the SDK's HTTP boundary for Checkout and the Billing Portal."""

from __future__ import annotations

import time
from datetime import UTC, datetime

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


# A member's changes: resuming a cancellation (localstripe), pausing and switching (the boundary) --


def test_resuming_a_cancelled_subscription_takes_the_cancellation_back(gateway):
    _, reference = subscribe(gateway)
    gateway.cancel_subscription_at_period_end(reference=reference, idempotency_key=f"cancel-{reference}")

    state = gateway.reactivate_subscription(reference=reference, idempotency_key=f"resume-{reference}")

    assert state.cancel_at_period_end is False and state.status == "active"
    assert gateway.get_subscription(reference).cancel_at_period_end is False


def test_resuming_an_unknown_subscription_is_a_booker_safe_error(gateway):
    with pytest.raises(PaymentError, match="could not be resumed"):
        gateway.reactivate_subscription(reference="sub_missing", idempotency_key="resume-missing")


SUBSCRIPTION = {
    "id": "sub_1",
    "object": "subscription",
    "customer": "cus_1",
    "status": "active",
    "metadata": {"membership": "abc"},
    "items": {
        "object": "list",
        "data": [
            {
                "id": "si_1",
                "object": "subscription_item",
                "price": {"id": "price_old", "object": "price", "product": "prod_old"},
                "current_period_start": 1_800_000_000,
                "current_period_end": 1_802_592_000,
            }
        ],
    },
}


def test_pausing_sets_pause_collection_to_void_until_the_chosen_day():
    resumes = datetime(2027, 3, 1, tzinfo=UTC)
    paused = {
        **SUBSCRIPTION,
        "pause_collection": {"behavior": "void", "resumes_at": int(resumes.timestamp())},
    }
    gateway, recorder = recording_gateway({"/v1/subscriptions/sub_1": paused})

    state = gateway.pause_subscription(
        reference="sub_1", resumes_at=resumes, idempotency_key="membership-abc-pause-1"
    )

    [request] = recorder.requests
    assert (request["method"], request["path"]) == ("post", "/v1/subscriptions/sub_1")
    assert request["headers"]["Idempotency-Key"] == "membership-abc-pause-1"
    assert RecordingHTTPClient.form(request["body"]) == {
        "pause_collection[behavior]": "void",
        "pause_collection[resumes_at]": str(int(resumes.timestamp())),
    }
    # Stripe keeps the subscription "active"; for us it is paused until that day.
    assert (state.status, state.paused_until) == ("paused", resumes)


def test_ending_a_pause_clears_pause_collection():
    gateway, recorder = recording_gateway({"/v1/subscriptions/sub_1": SUBSCRIPTION})

    state = gateway.unpause_subscription(reference="sub_1", idempotency_key="membership-abc-unpause-7")

    [request] = recorder.requests
    assert request["body"] == "pause_collection="
    assert request["headers"]["Idempotency-Key"] == "membership-abc-unpause-7"
    assert (state.status, state.paused_until) == ("active", None)


def test_the_switch_preview_is_stripes_next_invoice_with_the_change_made_at_that_moment():
    at = datetime(2027, 1, 16, tzinfo=UTC)
    preview = {
        "id": "upcoming_in_1",
        "object": "invoice",
        "amount_due": 7500,
        "next_payment_attempt": 1_802_592_000,
        "lines": {
            "object": "list",
            "data": [
                {"id": "il_1", "amount": -1500, "parent": {"subscription_item_details": {"proration": True}}},
                {"id": "il_2", "amount": 3000, "parent": {"subscription_item_details": {"proration": True}}},
                {"id": "il_3", "amount": 6000, "parent": {"subscription_item_details": {"proration": False}}},
            ],
        },
    }
    gateway, recorder = recording_gateway(
        {"/v1/subscriptions/sub_1": SUBSCRIPTION, "/v1/invoices/create_preview": preview}
    )

    result = gateway.preview_switch(
        reference="sub_1",
        old_amount=3000,
        new_amount=6000,
        currency="GBP",
        interval="month",
        period_start=at,
        period_end=at,
        proration_date=at,
    )

    assert (result.credit, result.charge, result.net, result.next_invoice_amount) == (1500, 3000, 1500, 7500)
    assert result.next_invoice_at.timestamp() == 1_802_592_000
    request = recorder.requests[-1]
    assert (request["method"], request["path"]) == ("post", "/v1/invoices/create_preview")
    form = RecordingHTTPClient.form(request["body"])
    assert form["subscription"] == "sub_1"
    assert form["subscription_details[items][0][id]"] == "si_1"
    assert form["subscription_details[items][0][price_data][unit_amount]"] == "6000"
    assert form["subscription_details[items][0][price_data][product]"] == "prod_old"
    assert form["subscription_details[proration_behavior]"] == "create_prorations"
    assert form["subscription_details[proration_date]"] == str(int(at.timestamp()))


def test_switching_moves_the_item_to_the_new_price_at_the_previewed_moment():
    at = datetime(2027, 1, 16, tzinfo=UTC)
    switched = {**SUBSCRIPTION, "metadata": {"membership": "abc", "plan": "p-2"}}
    gateway, recorder = recording_gateway(
        {"/v1/subscriptions/sub_1": switched, "/v1/products": {"id": "prod_new", "object": "product"}}
    )

    state = gateway.switch_subscription(
        reference="sub_1",
        description="Unlimited Plus (Riverside)",
        new_amount=6000,
        currency="GBP",
        interval="month",
        proration_date=at,
        idempotency_key="membership-abc-switch-p-2-1",
        metadata={"membership": "abc", "plan": "p-2"},
    )

    product, update = recorder.requests[1], recorder.requests[2]
    assert (
        product["path"] == "/v1/products"
        and product["headers"]["Idempotency-Key"] == "membership-abc-switch-p-2-1-product"
    )
    assert RecordingHTTPClient.form(product["body"]) == {"name": "Unlimited Plus (Riverside)"}
    assert (update["method"], update["path"]) == ("post", "/v1/subscriptions/sub_1")
    assert update["headers"]["Idempotency-Key"] == "membership-abc-switch-p-2-1"
    form = RecordingHTTPClient.form(update["body"])
    assert form["items[0][id]"] == "si_1"
    assert form["items[0][price_data][product]"] == "prod_new"
    assert form["items[0][price_data][unit_amount]"] == "6000"
    assert form["items[0][price_data][currency]"] == "gbp"
    assert form["items[0][price_data][recurring][interval]"] == "month"
    assert form["proration_behavior"] == "create_prorations"
    assert form["proration_date"] == str(int(at.timestamp()))
    assert form["metadata[plan]"] == "p-2"
    assert "billing_cycle_anchor" not in form  # the same interval: the renewal date stays
    assert state.metadata["plan"] == "p-2"


def test_the_offline_preview_is_stripes_arithmetic():
    from portal.payments import OfflineGateway

    start = datetime(2027, 1, 1, tzinfo=UTC)
    end = datetime(2027, 1, 31, tzinfo=UTC)

    preview = OfflineGateway().preview_switch(
        reference="offline_sub_1",
        old_amount=3000,
        new_amount=1000,
        currency="GBP",
        interval="month",
        period_start=start,
        period_end=end,
        proration_date=datetime(2027, 1, 21, tzinfo=UTC),  # a third of the period left
    )

    assert (preview.credit, preview.charge, preview.net_credit) == (1000, 333, 667)
    assert preview.next_invoice_amount == 1000 - 667 and preview.next_invoice_at == end
