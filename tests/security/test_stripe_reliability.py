"""Stripe never charges, refunds or subscribes twice, and a webhook delivered twice at once has one
effect.

Every call that creates or changes something at Stripe carries an idempotency key made from our
own row, the same on a retry (the SDK would otherwise invent a random one per call, which Stripe
would treat as a new request). Webhook duplicates racing each other on Postgres are stored once
(StripeEvent.event_id is unique) and applied once."""

from __future__ import annotations

import ast
import inspect
import json
import threading

import pytest
import stripe
from django.test import Client
from django.urls import reverse

from bookings import services as booking_services
from bookings.models import Booking
from memberships import services as membership_services
from memberships.models import Membership
from portal import payments, stripe_events
from portal.exceptions import PaymentError
from portal.models import StripeEvent
from portal.payments import StripeGateway, SubscriptionState
from tests.factories import BookingFactory, RefundFactory
from tests.memberships.factories import MembershipFactory, MembershipPlanFactory
from tests.races import at_once
from tests.stripe_helpers import RecordingHTTPClient, event, sign

# Calls that create something at Stripe without a key, and why that is safe: a Billing Portal
# session is a short-lived sign-in link that changes nothing; a stable key would hand a booker
# back yesterday's expired link.
WITHOUT_KEY = {"billing_portal.sessions.create": "a sign-in link, no money or state"}
MUTATING = ("create", "update", "cancel", "delete", "attach", "detach", "pay", "void", "finalize_invoice")


# --- Idempotency keys ----------------------------------------------------------------------------


def stripe_calls_in_gateway():
    """(dotted resource.method, has an idempotency_key option) for every SDK call StripeGateway makes."""
    tree = ast.parse(inspect.getsource(StripeGateway))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for target in [node.func, *node.args]:
            dotted = ast.unparse(target)
            if dotted.startswith("self.client.v1."):
                options = next((kw.value for kw in node.keywords if kw.arg == "options"), None)
                has_key = isinstance(options, ast.Dict) and any(
                    isinstance(k, ast.Constant) and k.value == "idempotency_key" for k in options.keys
                )
                yield dotted.removeprefix("self.client.v1."), has_key


def test_every_stripe_call_that_creates_or_changes_something_carries_an_idempotency_key():
    calls = list(stripe_calls_in_gateway())
    assert any(name == "refunds.create" for name, _ in calls)  # the scan sees the gateway's calls
    missing = [
        name
        for name, has_key in calls
        if name.rsplit(".", 1)[-1] in MUTATING and not has_key and name not in WITHOUT_KEY
    ]
    assert not missing, f"pass options={{'idempotency_key': <from our row>}} to: {missing}"


class FlakyStripe(RecordingHTTPClient):
    """Stripe's HTTP boundary: answers with canned objects, except that the first POST to each path
    in `fail_first` fails as Stripe's own errors do (so our code retries)."""

    def __init__(self, responses, fail_first=()):
        super().__init__(responses)
        self.fail_first = set(fail_first)

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        body, status, response_headers = super().request(method, url, headers, post_data, _usage=_usage)
        path = self.requests[-1]["path"]
        for prefix in list(self.fail_first):
            if method == "post" and path.startswith(prefix):
                self.fail_first.discard(prefix)
                return json.dumps({"error": {"type": "api_error", "message": "try again"}}), 500, {}
        return body, status, response_headers

    def keys(self, prefix: str) -> list[str]:
        return [
            r["headers"].get("Idempotency-Key")
            for r in self.requests
            if r["method"] == "post" and r["path"].startswith(prefix)
        ]


def subscription(reference="sub_1", **extra):
    return {
        "id": reference,
        "object": "subscription",
        "status": "active",
        "customer": "cus_1",
        "current_period_start": 1_790_000_000,
        "current_period_end": 1_792_600_000,
        **extra,
    }


@pytest.fixture
def flaky_stripe(monkeypatch):
    """The real StripeGateway and SDK (no network retries of its own), with FlakyStripe beneath."""

    def install(fail_first=()):
        recorder = FlakyStripe(
            {
                "/v1/checkout/sessions": {
                    "id": "cs_1",
                    "object": "checkout.session",
                    "url": "https://pay.test",
                },
                "/v1/customers": {"id": "cus_1", "object": "customer"},
                "/v1/refunds": {"id": "re_1", "object": "refund"},
                "/v1/subscriptions/sub_1": subscription(cancel_at_period_end=True),
            },
            fail_first=fail_first,
        )
        gateway = StripeGateway("sk_test_recorded")
        gateway.client = stripe.StripeClient("sk_test_recorded", http_client=recorder, max_network_retries=0)
        monkeypatch.setattr(payments, "_gateway", lambda *args: gateway)
        return recorder

    return install


def twice(call):
    """Call, and if Stripe failed, call again as a retry (a task retry, the booker's second click)."""
    try:
        call()
    except PaymentError:
        pass
    call()


@pytest.mark.django_db
def test_a_booking_payment_retried_after_a_stripe_error_reuses_its_key(flaky_stripe, organiser):
    recorder = flaky_stripe(fail_first=["/v1/checkout/sessions"])
    booking = BookingFactory(organiser=organiser, status=Booking.Status.PENDING, total=2500)

    twice(
        lambda: booking_services.booking_start_payment(booking=booking, success_url="/ok", cancel_url="/no")
    )

    assert recorder.keys("/v1/checkout/sessions") == [f"booking-{booking.pk}-payment"] * 2


@pytest.mark.django_db
def test_a_refund_retried_after_a_stripe_error_reuses_its_key_and_pays_once(flaky_stripe, organiser):
    recorder = flaky_stripe(fail_first=["/v1/refunds"])
    booking = BookingFactory(organiser=organiser, status=Booking.Status.CANCELLED, payment_reference="pi_1")
    refund = RefundFactory(booking=booking, organiser=organiser, amount=1000)

    twice(lambda: booking_services.refund_pay(refund=refund))
    booking_services.refund_pay(refund=refund)  # already paid: Stripe is not asked again

    assert recorder.keys("/v1/refunds") == [refund.idempotency_key] * 2
    assert refund.idempotency_key.startswith(f"booking-{booking.pk}-refund")


@pytest.mark.django_db
def test_joining_a_membership_twice_reuses_the_customer_and_checkout_keys(
    flaky_stripe, organiser, booker, time_machine
):
    time_machine.move_to("2026-11-22 10:15:00+00:00", tick=False)
    recorder = flaky_stripe(fail_first=["/v1/customers", "/v1/checkout/sessions"])
    plan = MembershipPlanFactory(organiser=organiser)

    for _ in range(3):  # customer fails, then checkout fails, then both go through
        try:
            membership_services.membership_subscribe(user=booker, plan=plan, success_url="/", cancel_url="/")
        except PaymentError:
            pass

    membership = Membership.objects.get()
    customer_keys = recorder.keys("/v1/customers")
    checkout_keys = recorder.keys("/v1/checkout/sessions")
    assert set(customer_keys) == {f"membership-{membership.code}-customer"} and len(customer_keys) >= 2
    assert len(set(checkout_keys)) == 1 and len(checkout_keys) == 2
    assert checkout_keys[0].startswith(f"membership-{membership.code}-checkout-")


@pytest.mark.django_db
def test_cancelling_a_membership_twice_sends_stripe_one_key(flaky_stripe, organiser, booker):
    recorder = flaky_stripe(fail_first=["/v1/subscriptions/sub_1"])
    membership = MembershipFactory(
        organiser=organiser,
        plan=MembershipPlanFactory(organiser=organiser),
        user=booker,
        gateway="stripe",
        subscription_reference="sub_1",
        customer_reference="cus_1",
    )

    twice(lambda: membership_services.membership_cancel(membership=membership))

    assert recorder.keys("/v1/subscriptions/sub_1") == [f"membership-{membership.code}-cancel"] * 2


# --- Webhooks duplicated in parallel (Postgres) -----------------------------------------------------

WEBHOOK = reverse("stripe_webhook")


def post_event(payload: str) -> int:
    return (
        Client()
        .post(WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload))
        .status_code
    )


class SubscriptionsAtStripe:
    """What Stripe says about subscriptions, counting how often it is asked."""

    name = "stripe"

    def __init__(self, state: SubscriptionState):
        self.state, self.asked = state, 0
        self.lock = threading.Lock()

    def get_subscription(self, reference):
        with self.lock:
            self.asked += 1
        return self.state


@pytest.mark.postgres
@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_one_subscription_event_delivered_ten_times_at_once_is_applied_once(
    webhook_secret, organiser, booker, monkeypatch, mailoutbox
):
    membership = MembershipFactory(
        organiser=organiser,
        plan=MembershipPlanFactory(organiser=organiser),
        user=booker,
        gateway="stripe",
        status=Membership.Status.PENDING,
        subscription_reference="",
        current_period_start=None,
        current_period_end=None,
    )
    stripe_side = SubscriptionsAtStripe(
        payments.stripe_subscription_state(subscription(metadata={"membership": str(membership.code)}))
    )
    monkeypatch.setattr(membership_services, "get_gateway", lambda: stripe_side)
    payload = event(
        "evt_dup",
        "customer.subscription.created",
        {"id": "sub_1", "metadata": {"membership": str(membership.code)}},
    )

    statuses = at_once(10, lambda _: post_event(payload))

    assert statuses == [200] * 10  # Stripe stops retrying every copy
    assert StripeEvent.objects.filter(event_id="evt_dup").count() == 1
    assert stripe_side.asked == 1
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE and membership.subscription_reference == "sub_1"
    assert len([m for m in mailoutbox if m.subject.startswith("Welcome")]) == 1


def paid_checkout(booking):
    return {
        "id": "cs_pay_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": "pi_paid_1",
        "metadata": {"booking": booking.reference},
    }


@pytest.mark.postgres
@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_a_bookings_paid_checkout_delivered_ten_times_at_once_sends_one_confirmation(
    webhook_secret, organiser, mailoutbox
):
    booking = BookingFactory(
        organiser=organiser, status=Booking.Status.PENDING, total=2500, booker_email="paid@example.com"
    )
    payload = event("evt_paid", "checkout.session.completed", paid_checkout(booking))

    statuses = at_once(10, lambda _: post_event(payload))

    assert statuses == [200] * 10
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.payment_reference == "pi_paid_1"
    assert booking.confirmation_sent_at is not None
    assert [m.to for m in mailoutbox] == [["paid@example.com"]]


@pytest.mark.postgres
@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_one_stored_checkout_event_processed_by_eight_workers_at_once_confirms_and_emails_once(
    organiser, mailoutbox
):
    # At-least-once delivery of the processing task itself: the same stored event, run concurrently.
    booking = BookingFactory(
        organiser=organiser, status=Booking.Status.PENDING, total=2500, booker_email="paid@example.com"
    )
    stored = StripeEvent.objects.create(
        event_id="evt_paid",
        type="checkout.session.completed",
        created="2026-11-22T10:00Z",
        data=paid_checkout(booking),
    )

    at_once(8, lambda _: stripe_events.stripe_event_process(event=StripeEvent.objects.get(pk=stored.pk)))

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert [m.to for m in mailoutbox] == [["paid@example.com"]]
