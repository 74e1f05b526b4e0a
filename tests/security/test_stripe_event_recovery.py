"""A Stripe event we acknowledged with a 200 is applied in the end, even when applying it fails
at first: its task retries on transient errors (a row lock busy past its timeout, the database
restarting or failing over, Stripe unreachable), and a beat sweep applies again every stored
event still unapplied after its task gave up (or was never queued)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking as booking_services
from portal import tasks
from portal.celery import app as celery_app
from portal.exceptions import Busy, PaymentError
from portal.models import StripeEvent
from tests.factories import AttendeeFactory
from tests.stripe_helpers import event

TRANSIENT = [
    Busy(),
    OperationalError("server closed the connection unexpectedly"),
    InterfaceError("connection already closed"),
    PaymentError(),
    stripe.APIConnectionError("Network error"),
]


@pytest.fixture
def pending(organiser):
    return AttendeeFactory(
        booking__organiser=organiser,
        booking__status=Booking.Status.PENDING,
        booking__total=2500,
        booking__booker_email="paid@example.com",
    ).booking


def paid_checkout(booking):
    return {
        "id": "cs_pay_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": "pi_paid_1",
        "metadata": {"booking": booking.reference},
    }


@pytest.fixture
def retries_run_at_once(monkeypatch):
    """Eager Celery runs a task's retry at once, in-process, as a worker would after the countdown;
    it only does so when eager tasks don't re-raise (the project's setting, for every other test)."""
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)


def failing_once(monkeypatch, error):
    """booking_confirm_payment fails once with `error`, then works; returns the list of calls."""
    real, calls = booking_services.booking_confirm_payment, []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(booking_services, "booking_confirm_payment", flaky)
    return calls


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda error: type(error).__name__)
@pytest.mark.django_db
def test_a_transient_error_while_applying_a_paid_checkout_is_retried_until_the_booking_is_confirmed(
    deliver, pending, mailoutbox, monkeypatch, retries_run_at_once, error
):
    calls = failing_once(monkeypatch, error)

    response = deliver(event("evt_paid", "checkout.session.completed", paid_checkout(pending)))

    assert response.status_code == 200
    assert len(calls) == 2  # the first attempt failed, the task's retry applied it
    pending.refresh_from_db()
    assert (pending.status, pending.payment_reference) == (Booking.Status.CONFIRMED, "pi_paid_1")
    assert StripeEvent.objects.get(event_id="evt_paid").processed_at is not None
    assert [m.to for m in mailoutbox] == [["paid@example.com"]]


def test_event_retries_back_off_and_stop():
    task = tasks.stripe_event_process
    assert {Busy, PaymentError, OperationalError, InterfaceError} <= set(task.autoretry_for)
    assert task.retry_backoff and task.retry_jitter and 3 <= task.max_retries <= 10


def stored(booking, *, event_id="evt_lost", received_minutes_ago=20):
    stripe_event = StripeEvent.objects.create(
        event_id=event_id,
        type="checkout.session.completed",
        created=timezone.now(),
        data=paid_checkout(booking),
    )
    received = timezone.now() - timedelta(minutes=received_minutes_ago)
    StripeEvent.objects.filter(pk=stripe_event.pk).update(created_at=received)
    return stripe_event


@pytest.mark.django_db
def test_the_sweep_applies_an_event_whose_task_gave_up_and_only_once(
    pending, mailoutbox, django_capture_on_commit_callbacks
):
    lost = stored(pending)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.stripe_event_sweep() == 1
        assert tasks.stripe_event_sweep() == 0  # processed now: the store says so

    pending.refresh_from_db()
    assert pending.status == Booking.Status.CONFIRMED
    lost.refresh_from_db()
    assert lost.processed_at is not None
    assert [m.to for m in mailoutbox] == [["paid@example.com"]]


@pytest.mark.django_db
def test_the_sweep_leaves_a_just_received_event_to_its_own_task(pending):
    just_received = stored(pending, received_minutes_ago=1)

    assert tasks.stripe_event_sweep() == 0

    just_received.refresh_from_db()
    assert just_received.processed_at is None
    pending.refresh_from_db()
    assert pending.status == Booking.Status.PENDING


@pytest.mark.django_db
def test_one_event_that_still_fails_does_not_hold_up_the_others(organiser, pending, monkeypatch):
    other = AttendeeFactory(booking__organiser=organiser, booking__status=Booking.Status.PENDING).booking
    stored(pending, event_id="evt_older", received_minutes_ago=30)  # swept first, and fails
    later = stored(other, event_id="evt_later", received_minutes_ago=20)
    real = booking_services.booking_confirm_payment

    def failing_for_the_first(**kwargs):
        if kwargs["booking"].pk == pending.pk:
            raise Busy()
        return real(**kwargs)

    monkeypatch.setattr(booking_services, "booking_confirm_payment", failing_for_the_first)

    assert tasks.stripe_event_sweep() == 1

    later.refresh_from_db()
    assert later.processed_at is not None
    assert StripeEvent.objects.get(event_id="evt_older").processed_at is None  # the next sweep tries again


def test_beat_sweeps_unprocessed_stripe_events_every_five_minutes():
    entry = celery_app.conf.beat_schedule["stripe-event-sweep"]

    assert entry["task"] == tasks.stripe_event_sweep.name
    assert entry["schedule"] == 300.0
