"""What bookings adds to the portal's shell (portal.navigation, registered in
BookingsConfig.ready): a reason to show the paid sections, and the upcoming events on an
organiser's public page."""

from __future__ import annotations

from bookings.models import Booking
from bookings.selectors import event_list_public, seats_left_by_event
from portal.models import PAID_PLANS


def booking_list_with_paid_organisers(*, user):
    """The booker's bookings with organisers on a paid plan: reason enough to show them the
    Passes and Vouchers sections."""
    return Booking.objects.filter(user=user, organiser__plan__in=PAID_PLANS)


# The public page counts the places left only when they are few: "3 places left" is news, "27" noise.
FEW_PLACES = 5


def organiser_page_events(*, request, organiser) -> dict:
    events = list(event_list_public(organiser=organiser))
    left = seats_left_by_event(events)
    for event in events:
        event.places_left = left[event.pk]
    return {"events": events, "few_places": FEW_PLACES}
