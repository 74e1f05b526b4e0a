"""Bookings made with an address before its owner had an account (accounts.claims, registered in
BookingsConfig.ready with the finder and the attacher in bookings.services)."""

from __future__ import annotations

from bookings.models import Booking


def bookings_waiting_for_email(*, email: str) -> bool:
    """A guest booked with this address: a password reset asked for it makes the account that
    the reset then proves (and the bookings join it)."""
    return Booking.objects.filter(booker_email__iexact=email, user__isnull=True).exists()
