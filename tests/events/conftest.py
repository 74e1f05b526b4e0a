"""Shared set-up for the Events section's service tests: paid bookings, rules, and running a
service so that what it leaves for after the commit (refunds, emails) really happens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from tests.factories import (
    AttendeeFactory,
    BookingFactory,
    BookingRulesFactory,
    EventFactory,
    TicketTypeFactory,
)


def paid_booking(ticket, *, seats: int = 1, **extra) -> Booking:
    """A confirmed booking of `seats` tickets of `ticket`, paid by card (so refundable to it)."""
    fields = {
        "event": ticket.event,
        "total": ticket.price * seats,
        "payment_method": Booking.PaymentMethod.CARD,
        "payment_reference": "pi_original",
        **extra,
    }
    booking = BookingFactory(**fields)
    for _ in range(seats):
        AttendeeFactory(booking=booking, ticket_type=ticket)
    return booking


def rules(event, **fields):
    """The event's own rules: transfers and cancellations allowed unless said otherwise."""
    return BookingRulesFactory(organiser=event.organiser, event=event, **fields)


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def event(organiser):
    return EventFactory(organiser=organiser, title="Pottery for beginners", capacity=10)


@pytest.fixture
def ticket(event):
    return TicketTypeFactory(event=event, name="Standard", price=2000)


@pytest.fixture
def other_event(organiser):
    return EventFactory(organiser=organiser, title="Pottery: the wheel", capacity=10, starts_at=in_days(14))


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Run a service and then what it queued for after the commit (eager Celery tasks)."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run
