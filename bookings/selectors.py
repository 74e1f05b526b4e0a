"""Reads of events and bookings that span relations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from bookings import links
from bookings.models import Attendee, Booking, Event, TicketType, Transfer, WaitingListEntry
from portal.models import Organiser
from portal.sql import Columns, fetch, param, split

TAB_PAGE_SIZE = 20


def event_list_public(*, organiser):
    """Upcoming scheduled events on an organiser's public page, with their ticket types."""
    return (
        Event.objects.for_organiser(organiser)
        .upcoming()
        .prefetch_related(Prefetch("ticket_types", queryset=TicketType.objects.order_by("position", "pk")))
    )


# The booking page's reads, hand-written (`portal.sql`): on the booking POST, compiling the ORM's
# queries for these rows cost three times what running them did (issue 12's contention benchmark).
_EVENT = Columns(Event, "e")
_ORGANISER = Columns(Organiser, "o")
_TICKET_TYPE = Columns(TicketType, "t")


def event_get_public(*, org_slug: str, code):
    """An organiser's event by the organiser's slug and the event's public code, with its organiser,
    in one lookup; another organiser's event (or an unknown slug) is a 404."""
    rows = fetch(
        f"SELECT {_EVENT}, {_ORGANISER} FROM {_EVENT.table} JOIN {_ORGANISER.table} ON o.id = e.organiser_id"
        " WHERE o.slug = %s AND e.code = %s",
        [org_slug, param(Event, "code", code)],
    )
    if not rows:
        raise Http404
    event, organiser = split(rows[0], _EVENT, _ORGANISER)
    event.organiser = organiser
    return event


def ticket_types_for_event(event: Event) -> list[TicketType]:
    """The event's ticket types in their order, each knowing its event."""
    rows = fetch(
        f"SELECT {_TICKET_TYPE} FROM {_TICKET_TYPE.table} WHERE t.event_id = %s ORDER BY t.position, t.id",
        [event.pk],
    )
    ticket_types = [_TICKET_TYPE.instance(row) for row in rows]
    for ticket_type in ticket_types:
        ticket_type.event = event
    return ticket_types


def booking_get_for_viewer(*, request, reference, with_history: bool = False):
    """The one ownership check: the logged-in booker's own booking, or the one booking this
    session was granted by a signed link. Anything else is a 404. `with_history` also fetches
    the form responses, refunds and transfers (the Options page shows them; dialogs don't)."""
    extra = (
        [
            "responses",
            "refunds",
            Prefetch("transfers", queryset=Transfer.objects.select_related("from_event", "to_event")),
        ]
        if with_history
        else []
    )
    booking = (
        Booking.objects.select_related(
            "event",
            "organiser",
            "voucher_redemption__voucher",
            "pass_redemption__booker_pass__pass_type",
        )
        .prefetch_related(
            Prefetch("attendees", queryset=Attendee.objects.select_related("ticket_type")), *extra
        )
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


def _attendees():
    return Prefetch("attendees", queryset=Attendee.objects.select_related("ticket_type").order_by("pk"))


@dataclass
class EventsTab:
    """One page of a booker's Events tab. `page` paginates; `cards` is what the cards show (for
    bookings, loaded only when iterated: when the cached cards are stale or missing); `freshness`
    names every row the cards show with its `updated_at`, for the cache key (None for the waiting
    list, whose cards show a live offer window and are never cached)."""

    page: Page
    cards: Sequence
    freshness: list[str] | None


def booking_tab_for_booker(
    *, user, tab: str, organiser: Organiser | None = None, page: str | int = 1
) -> EventsTab:
    """One page of a booker's Events tab: upcoming, cancelled or past bookings (past attendees
    carry their `status_label`), or waiting-list places. A fixed number of queries whatever the
    booker holds. For bookings: one count, the page's ids and `updated_at`s with their attendees',
    and, only when the cards must be drawn, the page's bookings and their attendees (issue 12:
    loading 20 bookings with events, organisers and attendees was most of a cached page's cost)."""
    now = timezone.now()
    if tab == "waiting":
        rows = WaitingListEntry.objects.filter(
            user=user,
            status__in=[WaitingListEntry.Status.WAITING, WaitingListEntry.Status.OFFERED],
            event__status=Event.Status.SCHEDULED,
            event__ends_at__gt=now,
        ).select_related("event", "organiser")
        if organiser is not None:
            rows = rows.filter(organiser=organiser)
        entries = Paginator(rows.order_by("event__starts_at", "pk"), TAB_PAGE_SIZE).get_page(page)
        return EventsTab(page=entries, cards=entries, freshness=None)
    rows = Booking.objects.filter(user=user)
    if tab == "cancelled":
        # Bookings the booker or the organiser cancelled; not abandoned, never-paid checkouts.
        rows = rows.filter(status=Booking.Status.CANCELLED).exclude(cancelled_by="")
        order = ["-cancelled_at", "-pk"]
    elif tab == "past":
        rows = rows.filter(event__ends_at__lte=now).filter(
            Q(status=Booking.Status.CONFIRMED) | Q(cancelled_by=Booking.CancelledBy.ORGANISER)
        )
        order = ["-event__starts_at", "-pk"]
    else:
        rows = rows.filter(
            status__in=[Booking.Status.CONFIRMED, Booking.Status.PENDING],
            event__status=Event.Status.SCHEDULED,
            event__ends_at__gt=now,
        )
        order = ["event__starts_at", "pk"]
    if organiser is not None:
        rows = rows.filter(organiser=organiser)
    keys = rows.order_by(*order).values_list("pk", "updated_at", "event__updated_at", "organiser__updated_at")
    page = Paginator(keys, TAB_PAGE_SIZE).get_page(page)
    ids = [pk for pk, *_ in page]
    attendees = defaultdict(list)
    for booking_id, *attendee in (
        Attendee.objects.filter(booking_id__in=ids)
        .order_by("pk")
        .values_list("booking_id", "pk", "updated_at", "ticket_type__updated_at")
    ):
        attendees[booking_id].append(_freshness(attendee))
    freshness = ["|".join([_freshness(booking), *attendees[booking[0]]]) for booking in page]
    return EventsTab(page=page, cards=SimpleLazyObject(lambda: _booking_cards(ids, tab)), freshness=freshness)


def _freshness(row) -> str:
    """A row's id and `updated_at`s as one part of the cards' cache key."""
    return ".".join(str(value.timestamp()) if hasattr(value, "timestamp") else str(value) for value in row)


def _booking_cards(ids: list[int], tab: str) -> list[Booking]:
    """The bookings `ids`, in that order, with what their cards show."""
    bookings = (
        Booking.objects.filter(pk__in=ids).select_related("event", "organiser").prefetch_related(_attendees())
    )
    by_id = {booking.pk: booking for booking in bookings}
    cards = [by_id[pk] for pk in ids if pk in by_id]
    if tab == "past":
        for booking in cards:
            for attendee in booking.attendees.all():
                attendee.status_label = attendance_label(attendee, booking.organiser)
    return cards


def organisers_of_booker(*, user):
    """Organisers the booker has bookings or waiting-list places with, for the filter."""
    return Organiser.objects.filter(
        Q(pk__in=Booking.objects.filter(user=user).values("organiser_id"))
        | Q(pk__in=WaitingListEntry.objects.filter(user=user).values("organiser_id"))
    ).order_by("name")


def attendance_label(attendee: Attendee, organiser: Organiser) -> str:
    """What the Past tab says about one attendee (DESIGN: an unmarked past attendee attended)."""
    if not organiser.attendance_tracking:
        return "Booked"
    if attendee.attendance == Attendee.Attendance.ABSENT:
        return "Did not attend"
    return "Attended"


def waiting_entry_for_booker(*, user, code) -> WaitingListEntry:
    """A booker's own waiting-list place; anyone else's is a 404."""
    return get_object_or_404(
        WaitingListEntry.objects.select_related("event", "organiser").filter(user=user), code=code
    )
