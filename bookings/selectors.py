"""Reads of events and bookings that span relations."""

from __future__ import annotations

from django.db.models import Prefetch

from bookings.models import Event, TicketType


def event_list_public(*, organiser):
    """Upcoming scheduled events on an organiser's public page, with their ticket types."""
    return (
        Event.objects.for_organiser(organiser)
        .upcoming()
        .prefetch_related(Prefetch("ticket_types", queryset=TicketType.objects.order_by("position", "pk")))
    )
