"""The Stripe webhook endpoint, with payloads we sign ourselves with a test secret."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from memberships.models import Membership, MembershipInvoice
from portal import stripe_events
from portal.models import StripeEvent
from portal.payments import StripeGateway
from tests.memberships.factories import MembershipFactory
from tests.stripe_helpers import event, sign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_secret")]

WEBHOOK = reverse("stripe_webhook")


@pytest.fixture
def pending(plan, booker):
    # A booker back from Checkout: Stripe has the subscription, our row waits for the webhook.
    return MembershipFactory(
        plan=plan,
        user=booker,
        gateway="stripe",
        status=Membership.Status.PENDING,
        customer_reference="cus_fake",
        subscription_reference="",
        checkout_reference="cs_test_1",
        current_period_start=None,
        current_period_end=None,
    )


def subscription_payload(reference, membership, status="active", **extra):
    return {
        "id": reference,
        "object": "subscription",
        "status": status,
        "metadata": {"membership": str(membership.code)},
        **extra,
    }


def test_a_valid_event_is_applied_once(deliver, pending, fake_stripe):
    fake_stripe.set_subscription("sub_1", metadata={"membership": str(pending.code)})
    payload = event("evt_1", "customer.subscription.created", subscription_payload("sub_1", pending))

    first = deliver(payload)
    replay = deliver(payload)

    assert first.status_code == 200 and replay.status_code == 200
    pending.refresh_from_db()
    assert pending.status == Membership.Status.ACTIVE
    assert pending.subscription_reference == "sub_1"
    assert pending.current_period_end == fake_stripe.period[1]
    assert [call for call in fake_stripe.calls if call[0] == "get_subscription"] == [
        ("get_subscription", "sub_1")
    ]
    stored = StripeEvent.objects.get()
    assert stored.event_id == "evt_1" and stored.processed_at is not None


def test_activation_sends_the_welcome_email_once(deliver, pending, fake_stripe, mailoutbox):
    fake_stripe.set_subscription("sub_1", metadata={"membership": str(pending.code)})

    deliver(event("evt_1", "customer.subscription.created", subscription_payload("sub_1", pending)))
    deliver(event("evt_2", "customer.subscription.updated", subscription_payload("sub_1", pending)))

    assert [m.subject for m in mailoutbox] == ["Welcome to Monthly Unlimited at Riverside"]


def test_a_bad_signature_is_400_and_nothing_is_stored(deliver, pending, fake_stripe):
    payload = event("evt_1", "customer.subscription.created", subscription_payload("sub_1", pending))

    wrong_secret = deliver(payload, sign(payload, secret="whsec_someone_else"))
    tampered = deliver(payload.replace("active", "canceled"), sign(payload))
    missing = deliver(payload, "")

    assert [wrong_secret.status_code, tampered.status_code, missing.status_code] == [400, 400, 400]
    assert not StripeEvent.objects.exists()
    assert fake_stripe.calls == []


def test_a_stale_timestamp_is_rejected(deliver, pending, fake_stripe):
    payload = event("evt_1", "customer.subscription.created", subscription_payload("sub_1", pending))

    response = deliver(payload, sign(payload, timestamp=int(time.time()) - 600))

    assert response.status_code == 400  # a correctly signed but ten-minute-old delivery is a replay
    assert not StripeEvent.objects.exists()


def test_unknown_event_types_are_ignored_with_200(deliver, fake_stripe):
    response = deliver(event("evt_1", "charge.dispute.created", {"id": "dp_1"}))

    assert response.status_code == 200
    assert not StripeEvent.objects.exists()
    assert fake_stripe.calls == []


def test_without_a_webhook_secret_nothing_is_accepted(deliver, settings, pending):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = event("evt_1", "customer.subscription.created", subscription_payload("sub_1", pending))

    assert deliver(payload).status_code == 400


def test_the_endpoint_accepts_only_post(client):
    assert client.get(WEBHOOK).status_code == 405


def test_out_of_order_delivery_ends_in_stripes_state(deliver, pending, fake_stripe):
    # Stripe's truth now: active, and set to cancel at the period end.
    fake_stripe.set_subscription(
        "sub_1", metadata={"membership": str(pending.code)}, cancel_at_period_end=True
    )
    newer = event(
        "evt_2",
        "customer.subscription.updated",
        subscription_payload("sub_1", pending, cancel_at_period_end=True),
        created=2000,
    )
    older = event(
        "evt_1",
        "customer.subscription.created",
        subscription_payload("sub_1", pending, status="incomplete"),
        created=1000,
    )

    deliver(newer)
    deliver(older)  # arrives last, says "incomplete"

    pending.refresh_from_db()
    assert pending.status == Membership.Status.ACTIVE
    assert pending.cancel_at_period_end is True


def test_checkout_completed_links_the_subscription_and_copies_the_card(deliver, pending, fake_stripe):
    fake_stripe.set_subscription("sub_1", metadata={"membership": str(pending.code)})
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(pending.code),
        "customer": "cus_fake",
        "subscription": "sub_1",
    }

    deliver(event("evt_1", "checkout.session.completed", session))

    pending.refresh_from_db()
    assert (pending.status, pending.subscription_reference) == ("active", "sub_1")
    assert (pending.card_brand, pending.card_last4) == ("Visa", "4242")


def test_a_payment_mode_checkout_is_not_ours_and_is_left_alone(deliver, pending, fake_stripe):
    session = {
        "id": "cs_2",
        "mode": "payment",
        "client_reference_id": str(pending.code),
        "subscription": None,
    }

    assert deliver(event("evt_1", "checkout.session.completed", session)).status_code == 200

    pending.refresh_from_db()
    assert pending.status == Membership.Status.PENDING


def test_a_payment_mode_checkout_goes_to_the_registered_handler(deliver, monkeypatch):
    seen = []
    monkeypatch.setitem(
        stripe_events._CHECKOUT_HANDLERS, "booking", lambda kind, session: seen.append((kind, session["id"]))
    )
    session = {"id": "cs_pay_1", "mode": "payment", "metadata": {"booking": "RYABC123"}}

    deliver(event("evt_1", "checkout.session.completed", session))
    deliver(event("evt_1", "checkout.session.completed", session))  # replayed: not handled again

    assert seen == [("checkout.session.completed", "cs_pay_1")]


def test_an_expired_checkout_means_the_membership_never_started(deliver, pending, fake_stripe):
    session = {"id": "cs_test_1", "mode": "subscription", "client_reference_id": str(pending.code)}

    deliver(event("evt_1", "checkout.session.expired", session))

    pending.refresh_from_db()
    assert pending.status == Membership.Status.INCOMPLETE_EXPIRED


def test_a_paid_invoice_is_recorded_even_before_checkout_completed_arrives(deliver, pending, fake_stripe):
    fake_stripe.set_subscription("sub_fake", metadata={"membership": str(pending.code)})
    fake_stripe.set_invoice("in_1", subscription_reference="sub_fake")

    deliver(event("evt_1", "invoice.paid", {"id": "in_1", "object": "invoice", "status": "paid"}))

    invoice = MembershipInvoice.objects.get(reference="in_1")
    assert invoice.membership == pending and invoice.organiser == pending.organiser
    assert (invoice.number, invoice.status, invoice.amount_paid) == ("RY-0001", "paid", 3000)
    assert invoice.pdf_url == "https://pay.stripe.test/invoice/1/pdf"
    pending.refresh_from_db()
    assert pending.status == Membership.Status.ACTIVE


def test_an_invoice_follows_stripe_through_its_states(deliver, membership, fake_stripe):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", subscription_reference="sub_fake")
    fake_stripe.set_invoice("in_2", status="open", amount_paid=0)
    deliver(event("evt_1", "invoice.finalized", {"id": "in_2"}))
    fake_stripe.set_invoice("in_2", status="paid", amount_paid=3000)
    deliver(event("evt_2", "invoice.paid", {"id": "in_2"}))

    invoice = MembershipInvoice.objects.get(reference="in_2")
    assert (invoice.status, invoice.amount_paid) == ("paid", 3000)


def test_a_deleted_subscription_ends_the_membership(deliver, membership, fake_stripe):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", subscription_reference="sub_fake")
    fake_stripe.set_subscription("sub_fake", status="canceled", ended_at=fake_stripe.period[0])

    deliver(event("evt_1", "customer.subscription.deleted", {"id": "sub_fake"}))

    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELED
    assert membership.ended_at == fake_stripe.period[0]


def test_a_subscription_that_is_not_a_membership_is_ignored(deliver, fake_stripe):
    fake_stripe.set_subscription("sub_other", metadata={})

    response = deliver(event("evt_1", "customer.subscription.updated", {"id": "sub_other"}))

    assert response.status_code == 200
    assert StripeEvent.objects.get().processed_at is not None


def test_a_new_card_in_the_billing_portal_shows_on_the_membership(deliver, membership, fake_stripe):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", customer_reference="cus_fake")
    fake_stripe.card = fake_stripe.card.__class__(brand="Mastercard", last4="4444")

    deliver(event("evt_1", "customer.updated", {"id": "cus_fake", "object": "customer"}))

    membership.refresh_from_db()
    assert (membership.card_brand, membership.card_last4) == ("Mastercard", "4444")


def test_stripe_unreachable_leaves_the_event_to_be_retried(deliver, pending, monkeypatch):
    from portal.exceptions import PaymentError

    class Down:
        def get_subscription(self, reference):
            raise PaymentError()

    monkeypatch.setattr("memberships.services.get_gateway", lambda: Down())
    retried = []
    monkeypatch.setattr(
        "portal.tasks.stripe_event_process.retry",
        lambda exc, countdown: retried.append(countdown) or RuntimeError("retry"),
    )

    with pytest.raises(RuntimeError):
        deliver(event("evt_1", "customer.subscription.updated", {"id": "sub_1"}))

    (countdown,) = retried
    assert 0 <= countdown <= 10  # the first of a few backed-off, jittered retries
    assert StripeEvent.objects.get().processed_at is None


# End to end against localstripe ------------------------------------------------------------


@pytest.fixture
def real_stripe(localstripe_url, monkeypatch):
    gateway = StripeGateway("sk_test_localstripe", localstripe_url)
    monkeypatch.setattr("memberships.services.get_gateway", lambda: gateway)
    return gateway


def test_stale_events_end_in_localstripes_state(deliver, pending, real_stripe):
    from tests.memberships.test_stripe_gateway import subscribe

    _, reference = subscribe(real_stripe, metadata={"membership": str(pending.code)})
    created = subscription_payload(reference, pending, status="incomplete")
    real_stripe.cancel_subscription_at_period_end(reference=reference, idempotency_key=f"t-{reference}")
    [invoice] = real_stripe.list_invoices(subscription_reference=reference)

    deliver(event("evt_b", "customer.subscription.updated", subscription_payload(reference, pending)))
    deliver(event("evt_c", "invoice.paid", {"id": invoice.reference}))
    deliver(event("evt_a", "customer.subscription.created", created))  # the oldest, delivered last

    pending.refresh_from_db()
    assert pending.status == Membership.Status.ACTIVE
    assert pending.cancel_at_period_end is True
    assert pending.subscription_reference == reference
    assert pending.invoices.get().amount_paid == 3000
