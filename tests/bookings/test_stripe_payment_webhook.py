"""Stripe's webhook confirms a booking paid through Checkout, or releases its seats."""

from __future__ import annotations

import pytest

from bookings.models import Booking
from bookings.selectors import seats_left
from tests.factories import AttendeeFactory
from tests.stripe_helpers import event


@pytest.fixture
def pending(organiser):
    return AttendeeFactory(
        booking__organiser=organiser, booking__status="pending", booking__total=1000
    ).booking


def session(booking, **extra):
    return {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": "pi_test_1",
        "metadata": {"booking": booking.reference},
        **extra,
    }


@pytest.mark.django_db
def test_a_paid_checkout_confirms_the_booking_and_sends_one_confirmation(deliver, pending, mailoutbox):
    payload = event("evt_paid", "checkout.session.completed", session(pending))

    assert deliver(payload).status_code == 200
    assert deliver(payload).status_code == 200  # Stripe retries; nothing happens twice

    pending.refresh_from_db()
    assert (pending.status, pending.payment_reference) == ("confirmed", "pi_test_1")
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_an_expired_checkout_releases_the_seats(deliver, pending):
    before = seats_left(pending.event)

    deliver(event("evt_expired", "checkout.session.expired", session(pending, payment_status="unpaid")))

    pending.refresh_from_db()
    assert pending.status == Booking.Status.CANCELLED
    assert seats_left(pending.event) == before + 1


@pytest.mark.django_db
def test_an_unpaid_completed_checkout_confirms_nothing(deliver, pending, mailoutbox):
    deliver(event("evt_unpaid", "checkout.session.completed", session(pending, payment_status="unpaid")))
    pending.refresh_from_db()
    assert pending.status == "pending" and mailoutbox == []
