"""Switching between a monthly and a yearly plan: a new billing period starts at the moment of the
switch and is invoiced at once, less the unused time of the old period (Stripe resets the billing
cycle anchor; the offline gateway does the same arithmetic). The booker sees it before Confirm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import stripe

from memberships import changes, services
from memberships.models import Membership, MembershipInvoice
from portal.payments import OfflineGateway, StripeGateway, add_interval
from tests.memberships.factories import MembershipPlanFactory
from tests.stripe_helpers import RecordingHTTPClient

pytestmark = pytest.mark.django_db

START = datetime(2030, 3, 1, tzinfo=UTC)


@pytest.fixture
def yearly(organiser):
    return MembershipPlanFactory(organiser=organiser, name="Yearly Unlimited", price=30000, interval="year")


def period(membership, start=START, days=30):
    Membership.objects.filter(pk=membership.pk).update(
        current_period_start=start, current_period_end=start + timedelta(days=days)
    )
    membership.refresh_from_db()


# Offline: the arithmetic, exactly -----------------------------------------------------------


def test_the_offline_preview_credits_the_unused_month_and_charges_a_whole_year_today(membership, yearly):
    period(membership)  # £30 a month, 30 days
    at = START + timedelta(days=20)  # a third of the month unused: £10.00 back

    preview = changes.membership_switch_preview(membership=membership, plan=yearly, now=at)

    assert preview.billed_now
    assert (preview.credit, preview.charge) == (1000, 30000)
    assert (preview.next_invoice_amount, preview.next_invoice_at) == (29000, at)


def test_the_credit_is_prorated_to_the_second_as_stripe_does(membership, yearly):
    period(membership)
    at = START + timedelta(days=10, hours=7, seconds=13)

    preview = changes.membership_switch_preview(membership=membership, plan=yearly, now=at)

    left = (START + timedelta(days=30) - at).total_seconds()
    assert preview.credit == round(3000 * left / (30 * 86400)) == 1971
    assert preview.next_invoice_amount == 30000 - 1971


def test_switching_to_yearly_offline_starts_a_year_today_and_invoices_it_now(membership, yearly, booker):
    period(membership)
    at = START + timedelta(days=20)

    switched = changes.membership_switch(membership=membership, plan=yearly, proration_date=at, now=at)

    assert switched.plan == yearly
    assert (switched.current_period_start, switched.current_period_end) == (at, add_interval(at, "year"))
    assert switched.current_period_end == datetime(2031, 3, 21, tzinfo=UTC)
    assert switched.proration_pending == 0
    invoice = MembershipInvoice.objects.get(membership=membership, period_start=at)
    assert (invoice.amount_paid, invoice.period_end) == (29000, switched.current_period_end)

    # The next renewal is the whole year's price, a year on.
    services.membership_advance_due(now=switched.current_period_end + timedelta(minutes=1))
    renewal = MembershipInvoice.objects.get(membership=membership, period_start=switched.current_period_end)
    assert (renewal.amount_paid, renewal.period_end) == (30000, datetime(2032, 3, 21, tzinfo=UTC))


def test_switching_from_yearly_to_monthly_carries_the_credit_beyond_the_first_month(
    organiser, booker, yearly
):
    from tests.memberships.factories import MembershipFactory

    monthly = MembershipPlanFactory(organiser=organiser, name="Monthly", price=3000)
    membership = MembershipFactory(plan=yearly, user=booker)
    period(membership, days=360)
    at = START + timedelta(days=90)  # 270 of 360 days unused: £225.00 back

    preview = changes.membership_switch_preview(membership=membership, plan=monthly, now=at)
    switched = changes.membership_switch(membership=membership, plan=monthly, proration_date=at, now=at)

    assert (preview.credit, preview.charge, preview.next_invoice_amount) == (22500, 3000, 0)
    assert switched.current_period_end == add_interval(at, "month")
    assert MembershipInvoice.objects.get(membership=membership, period_start=at).amount_paid == 0
    assert switched.proration_pending == -19500  # credit left after today's £30
    services.membership_advance_due(now=switched.current_period_end + timedelta(minutes=1))
    renewal = MembershipInvoice.objects.get(membership=membership, period_start=switched.current_period_end)
    assert renewal.amount_paid == 0
    assert Membership.objects.get(pk=membership.pk).proration_pending == -16500


def test_an_earlier_switchs_difference_is_on_todays_invoice(membership, yearly, organiser):
    period(membership)
    at = START + timedelta(days=15)
    dearer = MembershipPlanFactory(organiser=organiser, name="Unlimited Plus", price=6000)
    changes.membership_switch(membership=membership, plan=dearer, proration_date=at, now=at)  # +£15.00
    membership.refresh_from_db()

    preview = changes.membership_switch_preview(membership=membership, plan=yearly, now=at)
    switched = changes.membership_switch(membership=membership, plan=yearly, proration_date=at, now=at)

    # £300 a year, less half a month of Unlimited Plus (£30), plus the earlier £15 difference.
    assert (preview.credit, preview.next_invoice_amount) == (3000, 28500)
    assert MembershipInvoice.objects.get(membership=membership, period_start=at).amount_paid == 28500
    assert switched.proration_pending == 0


def test_confirming_the_same_interval_switch_twice_invoices_once(membership, yearly):
    period(membership)
    at = START + timedelta(days=20)

    changes.membership_switch(membership=membership, plan=yearly, proration_date=at, now=at)
    changes.membership_switch(membership=membership, plan=yearly, proration_date=at, now=at)

    assert MembershipInvoice.objects.filter(membership=membership, period_start=at).count() == 1


def test_the_offline_gateway_alone_does_the_same_arithmetic():
    preview = OfflineGateway().preview_switch(
        reference="offline_sub_1",
        old_amount=30000,
        new_amount=3000,
        currency="GBP",
        interval="month",
        period_start=datetime(2027, 1, 1, tzinfo=UTC),
        period_end=datetime(2027, 12, 27, tzinfo=UTC),  # 360 days
        proration_date=datetime(2027, 4, 1, tzinfo=UTC),  # 270 days left
        reset_billing_cycle=True,
    )

    assert (preview.credit, preview.charge, preview.next_invoice_amount) == (22500, 3000, 0)
    assert preview.net_credit == 19500 and preview.billed_now


# Stripe: at the SDK's HTTP boundary (localstripe has no price_data and no billing_cycle_anchor) --

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


def recording_gateway(responses):
    gateway = StripeGateway("sk_test_boundary")
    recorder = RecordingHTTPClient(responses)
    gateway.client = stripe.StripeClient("sk_test_boundary", http_client=recorder)
    return gateway, recorder


def test_the_stripe_preview_resets_the_anchor_and_is_todays_invoice():
    at = datetime(2027, 1, 16, tzinfo=UTC)
    preview = {
        "id": "upcoming_in_1",
        "object": "invoice",
        "amount_due": 29000,
        "lines": {
            "object": "list",
            "data": [
                {"id": "il_1", "amount": -1000, "parent": {"subscription_item_details": {"proration": True}}},
                {
                    "id": "il_2",
                    "amount": 30000,
                    "parent": {"subscription_item_details": {"proration": False}},
                },
            ],
        },
    }
    gateway, recorder = recording_gateway(
        {"/v1/subscriptions/sub_1": SUBSCRIPTION, "/v1/invoices/create_preview": preview}
    )

    result = gateway.preview_switch(
        reference="sub_1",
        old_amount=3000,
        new_amount=30000,
        currency="GBP",
        interval="year",
        period_start=at,
        period_end=at,
        proration_date=at,
        reset_billing_cycle=True,
    )

    assert result.billed_now
    assert (result.credit, result.charge, result.next_invoice_amount, result.next_invoice_at) == (
        1000,
        30000,
        29000,
        at,
    )
    form = RecordingHTTPClient.form(recorder.requests[-1]["body"])
    assert form["subscription_details[billing_cycle_anchor]"] == "now"
    assert form["subscription_details[items][0][price_data][recurring][interval]"] == "year"
    assert form["subscription_details[proration_behavior]"] == "create_prorations"
    assert form["subscription_details[proration_date]"] == str(int(at.timestamp()))


def test_the_stripe_switch_resets_the_anchor_at_the_previewed_moment():
    at = datetime(2027, 1, 16, tzinfo=UTC)
    switched = {**SUBSCRIPTION, "metadata": {"membership": "abc", "plan": "p-2"}}
    gateway, recorder = recording_gateway(
        {"/v1/subscriptions/sub_1": switched, "/v1/products": {"id": "prod_new", "object": "product"}}
    )

    gateway.switch_subscription(
        reference="sub_1",
        description="Yearly (Riverside)",
        new_amount=30000,
        currency="GBP",
        interval="year",
        proration_date=at,
        idempotency_key="membership-abc-switch-p-2-1",
        metadata={"membership": "abc", "plan": "p-2"},
        reset_billing_cycle=True,
    )

    form = RecordingHTTPClient.form(recorder.requests[-1]["body"])
    assert form["billing_cycle_anchor"] == "now"
    assert form["items[0][price_data][recurring][interval]"] == "year"
    assert form["proration_behavior"] == "create_prorations"
    assert form["proration_date"] == str(int(at.timestamp()))


def test_a_same_interval_switch_keeps_stripes_anchor(membership, organiser, fake_stripe):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", subscription_reference="sub_fake")
    membership.refresh_from_db()
    fake_stripe.set_subscription("sub_fake")
    dearer = MembershipPlanFactory(organiser=organiser, price=6000)
    yearly = MembershipPlanFactory(organiser=organiser, price=30000, interval="year")

    changes.membership_switch_preview(membership=membership, plan=dearer)
    changes.membership_switch_preview(membership=membership, plan=yearly)

    previews = [call for name, call in fake_stripe.calls if name == "preview_switch"]
    assert [p["reset_billing_cycle"] for p in previews] == [False, True]


def test_switching_with_stripe_to_yearly_asks_stripe_to_reset_and_follows_its_new_period(
    membership, yearly, fake_stripe
):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", subscription_reference="sub_fake")
    membership.refresh_from_db()
    now = fake_stripe.period[0]
    fake_stripe.set_subscription("sub_fake", current_period_end=add_interval(now, "year"))

    switched = changes.membership_switch(membership=membership, plan=yearly, proration_date=now)

    name, call = fake_stripe.calls[-1]
    assert name == "switch" and call["reset_billing_cycle"] is True and call["interval"] == "year"
    assert switched.plan == yearly and switched.current_period_end == add_interval(now, "year")
    assert switched.proration_pending == 0  # Stripe invoices it
