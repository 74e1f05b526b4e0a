"""What Stripe tells us about the Checkout Sessions bookings start, registered by kind with
portal.stripe_events (BookingsConfig.ready): "booking" for a booking's payment, "transfer" for the
difference a dearer move costs."""

from __future__ import annotations

from bookings.models import Booking
from bookings.services import booking_checkout_event
from vouchers.services import voucher_return


def booking_checkout_session(event_type: str, session: dict) -> None:
    """A booking's session. Paid: the booking is confirmed. Expired unpaid: its seats are
    released, and a voucher that paid part of it (the card was to pay the rest) gets its money
    back. Each step is a no-op the second time."""
    booking_checkout_event(event_type, session)
    if event_type != "checkout.session.expired":
        return
    reference = (session.get("metadata") or {}).get("booking")
    released = (
        Booking.objects.filter(reference=reference, status=Booking.Status.CANCELLED).first()
        if reference
        else None
    )
    if released is not None:
        voucher_return(booking=released)
