"""What bookings adds to the portal's shell (portal.navigation, registered in
BookingsConfig.ready): a reason to show the paid sections, and the upcoming events on an
organiser's public page."""

from __future__ import annotations

from bookings.models import Booking
from bookings.selectors import event_list_public
from portal.models import PAID_PLANS


def booking_list_with_paid_organisers(*, user):
    """The booker's bookings with organisers on a paid plan: reason enough to show them the
    Passes and Vouchers sections."""
    return Booking.objects.filter(user=user, organiser__plan__in=PAID_PLANS)


def organiser_page_events(*, request, organiser) -> dict:
    return {"events": event_list_public(organiser=organiser)}
