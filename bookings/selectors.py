"""Reads of events and bookings that span relations."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404

from bookings import links
from bookings.models import Booking, Event, TicketType


def event_list_public(*, organiser):
    """Upcoming scheduled events on an organiser's public page, with their ticket types."""
    return (
        Event.objects.for_organiser(organiser)
        .upcoming()
        .prefetch_related(Prefetch("ticket_types", queryset=TicketType.objects.order_by("position", "pk")))
    )


def event_get_public(*, organiser, code):
    """An organiser's event by its public code, with ticket types; another organiser's is a 404."""
    return get_object_or_404(
        Event.objects.for_organiser(organiser).select_related("organiser").prefetch_related("ticket_types"),
        code=code,
    )


def booking_get_for_viewer(*, request, reference):
    """The one ownership check: the logged-in booker's own booking, or the one booking this
    session was granted by a signed link. Anything else is a 404."""
    booking = (
        Booking.objects.select_related("event", "organiser")
        .prefetch_related("attendees__ticket_type", "responses")
        .filter(reference=reference)
        .first()
    )
    if booking is None:
        raise Http404
    user = request.user
    if user.is_authenticated and booking.user_id == user.pk:
        return booking
    if links.is_granted(request.session, booking):
        return booking
    raise Http404
