"""The capacity rule, and the seat counters on the event row it reads.

An event has `capacity` places. `Event.seats_taken` counts the tickets of its confirmed and
pending bookings (a pending booking holds its seats while its payment is under way);
`Event.seats_held` counts the places held for waiting-list offers (entries OFFERED). Places left
= capacity - taken - held, plus an offer's own places for its holder (`seats_left`); a ticket
type's own limit is checked against its tickets (`seats_check`). The database refuses a row
whose taken + held exceed its capacity.

Every change to the counters is made with the event row locked (`events_lock`), in the
transaction that takes or frees the places, by the service that does it:

| what happens                                  | seats_taken            | seats_held            |
|-----------------------------------------------|------------------------|-----------------------|
| a booking (`booking_submit`)                  | + its tickets          | - the offer it used   |
| the booker cancels (`booking_cancel`)         | - its tickets          |                       |
| a move to another event (`_transfer_apply`)   | - here, + there        |                       |
| a pending payment's Checkout expires          | - its tickets          |                       |
| the organiser cancels the event               | 0 (every booking ends) |                       |
| a waiting-list offer is made (or by hand)     |                        | + its places          |
| an offer is booked, left, expired, deleted    |                        | - its places          |
| the admin changes the capacity                | refused below taken + held                     |

Offers that run out of time: an offer's places stay in `seats_held` until it is marked EXPIRED.
That happens under the event lock, in `events_lock` itself, before any service reads the
counters (so every decision sees only live holds, and a booking never takes places an expired
offer still counts), and every ten minutes in the periodic task `waiting_list_offer_due`, which
also offers the places to the next people waiting. Readers that do not lock (the booking page,
the transfer choices) subtract only live holds: one small query, and only while the event holds
any places at all.

A ticket type's own limit (`TicketType.capacity`) is not a counter: `seats_check` counts its
tickets, and the places held for live offers to entries waiting for that type (`types_room`),
under the event lock; an offer's holder may use its own.

`seats_recount` (`manage.py seats_recount [--fix]`) counts the rows again and repairs counters
that disagree.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings.exceptions import ERRORS, BookingError, EventFull
from bookings.models import Attendee, Booking, Event, TicketType, WaitingListEntry
from portal.locking import lock_timeout
from portal.sql import Prepared

# Pending bookings hold their seats while the payment is under way.
HOLDING = (Booking.Status.CONFIRMED, Booking.Status.PENDING)

# The lock every booking, cancel, move and waiting-list change takes first: one event, or two
# (a move), in ascending pk. Made-up ids stand in for the real ones at compile time.
_LOCK_ONE = Prepared(lambda event: Event.objects.filter(pk=event).select_for_update(), event=-910_000_001)
_LOCK_TWO = Prepared(
    lambda first, second: Event.objects.filter(pk__in=[first, second]).order_by("pk").select_for_update(),
    first=-910_000_002,
    second=-910_000_003,
)


def events_lock(*event_ids: int) -> dict[int, Event]:
    """Lock the events' rows (ascending pk, the lock order everywhere) and read them afresh;
    offers on them that ran out of time are expired first, so their counters are exact.
    Call inside a transaction. Raises Busy when the rows stay locked too long."""
    ids = sorted(set(event_ids))
    with lock_timeout():
        if len(ids) == 1:
            locked = [event for (event,) in _LOCK_ONE.fetch(event=ids[0])]
        elif len(ids) == 2:
            locked = [event for (event,) in _LOCK_TWO.fetch(first=ids[0], second=ids[1])]
        else:
            locked = list(Event.objects.filter(pk__in=ids).order_by("pk").select_for_update())
        for event in locked:
            if event.seats_held:
                _holds_expire(event)
    return {event.pk: event for event in locked}


def _holds_expire(event: Event) -> None:
    """Mark the offers on `event` whose time ran out EXPIRED and give back their places. Call
    with the event row locked (`events_lock` does)."""
    now = timezone.now()
    expired = list(
        WaitingListEntry.objects.filter(
            event=event, status=WaitingListEntry.Status.OFFERED, offer_expires_at__lte=now
        )
        .select_for_update()
        .values_list("pk", "quantity")
    )
    if not expired:
        return
    WaitingListEntry.objects.filter(pk__in=[pk for pk, _ in expired]).update(
        status=WaitingListEntry.Status.EXPIRED, updated_at=now
    )
    seats_count(event, held=-sum(quantity for _, quantity in expired))


def seats_left(event: Event, *, offer: WaitingListEntry | None = None, held: int | None = None) -> int:
    """The capacity rule: the places anyone may book on `event`; with a live `offer`, the places
    its holder may book (their own held places too). `held` is the places held for live offers
    when the caller has counted them (a reader without the lock); by default the event's counter,
    exact once the event is locked."""
    held = event.seats_held if held is None else held
    own = offer.quantity if offer is not None and offer.offer_is_live else 0
    return max(event.capacity - event.seats_taken - held + own, 0)


def held_live(event: Event) -> int:
    """The places held for offers still open on `event`, for readers that do not lock: the
    counter also holds offers that ran out since the last expiry step."""
    if not event.seats_held:
        return 0
    return (
        WaitingListEntry.objects.filter(
            event=event, status=WaitingListEntry.Status.OFFERED, offer_expires_at__gt=timezone.now()
        ).aggregate(n=Sum("quantity"))["n"]
        or 0
    )


def seats_check(
    event: Event,
    ticket_types: Iterable[TicketType],
    *,
    offer: WaitingListEntry | None = None,
    moving: Booking | None = None,
) -> None:
    """Raise EventFull unless one ticket of each of `ticket_types` (repeated for several) fits on
    `event`, as the rule above and each ticket type's own limit allow. `moving` is a booking
    already on `event` changing ticket types: its seats are its own, only the limits apply.
    Call with the event locked (`events_lock`)."""
    ticket_types = list(ticket_types)
    if moving is None and len(ticket_types) > seats_left(event, offer=offer):
        raise EventFull()
    if any(ticket_type.event_id != event.pk for ticket_type in ticket_types):
        raise BookingError(ERRORS["no_tickets"])
    wanted = Counter(ticket_type.pk for ticket_type in ticket_types)
    limited = {t.pk: t for t in ticket_types if t.capacity is not None}
    if not limited:
        return
    tickets = Attendee.objects.filter(ticket_type__in=limited, booking__status__in=HOLDING)
    if moving is not None:
        tickets = tickets.exclude(booking=moving)
    taken = dict(tickets.values_list("ticket_type").annotate(n=Count("pk")))
    held = _type_holds(event, limited, offer=offer)
    for pk, ticket_type in limited.items():
        left = ticket_type.capacity - taken.get(pk, 0) - held.get(pk, 0)
        if wanted[pk] > left:
            raise EventFull(ERRORS["ticket_full"] % {"left": max(left, 0), "ticket": ticket_type.name})


def _type_holds(event: Event, ticket_type_ids, *, offer: WaitingListEntry | None = None) -> dict[int, int]:
    """The places held for live offers waiting for each of these (limited) ticket types, but for
    `offer`'s own: they count against the type's own limit as against the event's. No query
    while the event holds no places."""
    if not event.seats_held:
        return {}
    rows = WaitingListEntry.objects.filter(
        event=event,
        status=WaitingListEntry.Status.OFFERED,
        offer_expires_at__gt=timezone.now(),
        ticket_type__in=list(ticket_type_ids),
    )
    if offer is not None:
        rows = rows.exclude(pk=offer.pk)
    return dict(rows.order_by().values_list("ticket_type").annotate(n=Sum("quantity")))


def types_room(event: Event, ticket_types: Iterable[TicketType] | None = None) -> dict[int, int]:
    """The room left within each of `event`'s ticket types that have their own limit (its
    tickets booked and the places held for offers waiting for it taken off), by ticket type pk;
    types without a limit are not in it (only the event's places bound them). `ticket_types`:
    the event's, when the caller has them (no query then unless one has a limit). Call with the
    event locked for a decision."""
    if ticket_types is None:
        limited = dict(
            TicketType.objects.filter(event=event, capacity__isnull=False).values_list("pk", "capacity")
        )
    else:
        limited = {t.pk: t.capacity for t in ticket_types if t.capacity is not None}
    if not limited:
        return {}
    taken = dict(
        Attendee.objects.filter(ticket_type__in=limited, booking__status__in=HOLDING)
        .order_by()
        .values_list("ticket_type")
        .annotate(n=Count("pk"))
    )
    held = _type_holds(event, limited)
    return {pk: max(cap - taken.get(pk, 0) - held.get(pk, 0), 0) for pk, cap in limited.items()}


def seats_count(event: Event, *, taken: int = 0, held: int = 0) -> None:
    """Add to the event's counters (negative to free). Call with the event locked, in the
    transaction that takes or frees the places. The row's `updated_at` is left alone: nothing a
    booker's cached cards show depends on the counters."""
    if not taken and not held:
        return
    event.seats_taken += taken
    event.seats_held += held
    with connection.cursor() as cursor:
        cursor.execute(_counters_update(connection.vendor), [taken, held, event.pk])


@functools.cache
def _counters_update(vendor: str) -> str:
    """The counters' UPDATE, written once from the model's names: it runs under the event lock on
    every booking, where building it with the ORM cost more than running it (bench/RESULTS.md)."""
    quote = connection.ops.quote_name
    taken, held, pk = (
        quote(Event._meta.get_field(name).column) for name in ("seats_taken", "seats_held", "id")
    )
    return (
        f"UPDATE {quote(Event._meta.db_table)} SET {taken} = {taken} + %s, {held} = {held} + %s"
        f" WHERE {pk} = %s"
    )


# Recounting -----------------------------------------------------------------------------------


def _counted() -> dict:
    """What each event's counters should say, counted from its rows."""
    taken = (
        Attendee.objects.filter(booking__event=OuterRef("pk"), booking__status__in=HOLDING)
        .order_by()
        .values("booking__event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    held = (
        WaitingListEntry.objects.filter(event=OuterRef("pk"), status=WaitingListEntry.Status.OFFERED)
        .order_by()
        .values("event")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    return {"counted_taken": Coalesce(Subquery(taken), 0), "counted_held": Coalesce(Subquery(held), 0)}


@dataclass(frozen=True)
class Recount:
    event: Event
    seats_taken: int  # what the counter said
    counted_taken: int  # what the bookings say
    seats_held: int
    counted_held: int
    fixed: bool = False
    over_capacity: bool = False  # the rows hold more than the capacity: a person must decide


def seats_recount(*, events=None, fix: bool = False) -> list[Recount]:
    """The events (all, or the queryset `events`) whose counters disagree with their rows.

    With `fix`, each is locked and counted again under the lock (its expired offers expired
    first), and its counters set to what the rows say; an event whose rows hold more places than
    its capacity is reported and left alone (`over_capacity`): raising the capacity or cancelling
    bookings is the organiser's call."""
    events = Event.objects.all() if events is None else events
    wrong = (
        events.annotate(**_counted())
        .filter(~Q(seats_taken=F("counted_taken")) | ~Q(seats_held=F("counted_held")))
        .order_by("pk")
    )
    found = [
        Recount(
            event=event,
            seats_taken=event.seats_taken,
            counted_taken=event.counted_taken,
            seats_held=event.seats_held,
            counted_held=event.counted_held,
        )
        for event in wrong
    ]
    if not fix:
        return found
    return [_repair(recount.event) for recount in found]


@transaction.atomic
def _repair(event: Event) -> Recount:
    locked = events_lock(event.pk)[event.pk]
    counted = (
        Event.objects.filter(pk=event.pk).annotate(**_counted()).values("counted_taken", "counted_held").get()
    )
    result = Recount(
        event=locked,
        seats_taken=locked.seats_taken,
        counted_taken=counted["counted_taken"],
        seats_held=locked.seats_held,
        counted_held=counted["counted_held"],
    )
    if counted["counted_taken"] + counted["counted_held"] > locked.capacity:
        return replace(result, over_capacity=True)
    Event.objects.filter(pk=event.pk).update(
        seats_taken=counted["counted_taken"], seats_held=counted["counted_held"]
    )
    return replace(result, fixed=True)


def seats_recount_unlocked(events) -> int:
    """Set the counters of `events` (a queryset) from their rows in one UPDATE, without locks:
    only for rows written in bulk while nobody books (seeding). Returns how many events."""
    return events.update(seats_taken=_counted()["counted_taken"], seats_held=_counted()["counted_held"])
