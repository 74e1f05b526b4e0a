"""Plain helpers shared by test modules (fixtures live in the conftest files): times relative to
now, and the paid bookings and event rules the Events section's tests start from."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from bookings.models import Booking
from tests.factories import AttendeeFactory, BookingFactory, BookingRulesFactory


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


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
