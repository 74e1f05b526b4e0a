"""The nightly reconciliation compares Stripe memberships with Stripe (localstripe here), reports
each difference as a warning, and changes nothing unless asked to fix."""

from __future__ import annotations

import logging

import pytest

from memberships import tasks
from memberships.models import Membership
from memberships.reconcile import membership_reconcile
from portal.celery import app
from portal.payments import StripeGateway
from tests.memberships.factories import MembershipFactory
from tests.memberships.test_stripe_gateway import subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_gateway(localstripe_url, monkeypatch):
    gateway = StripeGateway("sk_test_localstripe", localstripe_url)
    monkeypatch.setattr("portal.payments._gateway", lambda *args: gateway)
    return gateway


@pytest.fixture
def in_step(stripe_gateway, plan, booker):
    """A membership that says exactly what its subscription at Stripe says."""
    _, reference = subscribe(stripe_gateway)
    state = stripe_gateway.get_subscription(reference)
    return MembershipFactory(
        plan=plan,
        user=booker,
        gateway="stripe",
        customer_reference=state.customer_reference,
        subscription_reference=reference,
        status=state.status,
        current_period_start=state.current_period_start,
        current_period_end=state.current_period_end,
        cancel_at_period_end=state.cancel_at_period_end,
    )


def test_memberships_that_match_stripe_report_nothing(in_step):
    assert in_step.status == Membership.Status.ACTIVE
    assert membership_reconcile() == []


def test_a_missed_cancellation_is_reported_and_nothing_is_changed(in_step, stripe_gateway, caplog):
    # Stripe was told (the Billing Portal, say); the webhook never reached us.
    stripe_gateway.cancel_subscription_at_period_end(
        reference=in_step.subscription_reference, idempotency_key="c"
    )

    with caplog.at_level(logging.WARNING, logger="memberships.reconcile"):
        (mismatch,) = membership_reconcile()

    assert (mismatch.membership, mismatch.field, mismatch.ours, mismatch.stripe) == (
        str(in_step.code),
        "cancel_at_period_end",
        "False",
        "True",
    )
    assert mismatch.subscription == in_step.subscription_reference and mismatch.organiser == "riverside"
    [record] = [r for r in caplog.records if "mismatch" in r.getMessage()]
    assert record.levelno == logging.WARNING and str(in_step.code) in record.getMessage()
    in_step.refresh_from_db()
    assert in_step.cancel_at_period_end is False  # reported, not repaired


def test_status_and_period_end_differences_are_each_reported(in_step):
    end = in_step.current_period_end
    Membership.objects.filter(pk=in_step.pk).update(
        status=Membership.Status.CANCELED, current_period_end=None
    )

    found = {m.field: (m.ours, m.stripe) for m in membership_reconcile()}

    assert found == {"status": ("canceled", "active"), "current_period_end": ("None", end.isoformat())}


def test_fix_syncs_the_mismatched_membership_from_stripe(in_step, stripe_gateway):
    stripe_gateway.cancel_subscription_at_period_end(
        reference=in_step.subscription_reference, idempotency_key="f"
    )

    assert len(membership_reconcile(fix=True)) == 1

    in_step.refresh_from_db()
    assert in_step.cancel_at_period_end is True
    assert membership_reconcile() == []


def test_a_subscription_stripe_does_not_know_is_reported(stripe_gateway, plan, booker):
    lost = MembershipFactory(plan=plan, user=booker, gateway="stripe", subscription_reference="sub_gone")

    (mismatch,) = membership_reconcile(fix=True)

    assert (mismatch.membership, mismatch.field) == (str(lost.code), "subscription")
    assert mismatch.stripe.startswith("unreadable")
    assert Membership.objects.get(pk=lost.pk).status == Membership.Status.ACTIVE


def test_offline_pending_and_long_ended_memberships_are_not_checked(
    stripe_gateway, plan, booker, other_booker
):
    from datetime import timedelta

    from django.utils import timezone

    MembershipFactory(plan=plan, user=booker)  # offline: we are the record
    MembershipFactory(
        plan=plan,
        user=other_booker,
        gateway="stripe",
        status=Membership.Status.PENDING,
        subscription_reference="",
    )
    MembershipFactory(
        plan=plan,
        gateway="stripe",
        subscription_reference="sub_old",
        status=Membership.Status.CANCELED,
        ended_at=timezone.now() - timedelta(days=90),
    )

    assert membership_reconcile() == []


def test_the_task_runs_nightly_and_returns_the_report(in_step, stripe_gateway):
    entry = app.conf.beat_schedule["memberships-reconcile"]
    assert entry["task"] == tasks.membership_reconcile.name
    schedule = entry["schedule"]
    assert (len(schedule.hour), len(schedule.minute), len(schedule.day_of_week)) == (1, 1, 7)  # once a day
    stripe_gateway.cancel_subscription_at_period_end(
        reference=in_step.subscription_reference, idempotency_key="t"
    )

    report = tasks.membership_reconcile.delay().get()

    assert [(r["membership"], r["field"]) for r in report] == [(str(in_step.code), "cancel_at_period_end")]
