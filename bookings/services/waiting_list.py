"""The waiting list of a full event: joining (confirmed by email), offers of freed places, asking
for fewer places, leaving, and the organiser's offer by hand.

An entry asks for one or more places, all together or as many as free up (`accepts_fewer`). The
rules say how freed places are offered (`waiting_list_offer_mode`: a timed offer to one entry at
a time, or a notice to everyone and the first to book wins) and whether an entry too big for the
free places blocks the queue (`waiting_list_order`). A timed offer holds its places on the
event's counter (`Event.seats_held`) from the moment it is made until it is booked, left or
expired; see `bookings.capacity` for how offers that run out of time give their places back.
Every change runs under the event's lock (`capacity.events_lock`), then the entry's row lock.

Ticket types: an event's places are one pool (`Event.capacity`, across its ticket types), so
every entry competes for the same places and the queue is the event's. An entry may name the
ticket type it waits for (`ticket_type`; None: any). That matters only for a type with its own
limit (`TicketType.capacity`): the entry is offered places only when the event has them *and*
the type has room within its limit (its tickets and the places held for offers naming it taken
off; the offer holds that room too). An entry blocked only by its type's limit is passed by
entries waiting for other tickets; under the strict rule it still holds back the entries behind
it that wait for the same type. Under either rule it keeps its turn.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookings import capacity
from bookings import rules as booking_rules
from bookings.exceptions import ERRORS, BookingError
from bookings.models import Event, TicketType, WaitingListEntry
from bookings.tasks import waiting_list_send_confirmation as waiting_list_send_confirmation_task
from bookings.tasks import waiting_list_send_offer as waiting_list_send_offer_task
from portal.locking import lock_timeout


@transaction.atomic
def waiting_list_join(
    *,
    event: Event,
    name: str,
    email: str,
    quantity: int = 1,
    accepts_fewer: bool = False,
    ticket_type: TicketType | None = None,
    user=None,
) -> WaitingListEntry | None:
    """Join the waiting list of a full event.

    A logged-in booker joining with one of their own verified emails has proved the mailbox: the
    place is theirs at once and returned (joining twice raises BookingError), and they are
    emailed that they are on the list, with the place's manage link. Any other address
    may be someone else's: it is emailed after commit and None is returned whatever happened, so
    the caller answers the same. The email holds a confirmation link for a new unconfirmed place
    (or for the one still waiting for its click, now with this name and places), or, when the
    address is already waiting, says so. Only confirmed places are offered seats.
    `ticket_type`: the ticket the places are wanted as (None: any; an event with one ticket type
    names it). A type with its own limit may be waited for when that limit is reached, even
    though the event has places for other tickets.
    Raises BookingError if the event is cancelled, started or not full (for that ticket type),
    or the ticket type is not the event's.
    """
    event = capacity.events_lock(event.pk)[event.pk]
    if event.is_cancelled or event.has_started:
        raise BookingError(ERRORS["cancelled" if event.is_cancelled else "started"])
    types = list(TicketType.objects.filter(event=event))
    if ticket_type is not None and ticket_type.pk not in {t.pk for t in types}:
        raise BookingError(ERRORS["waiting_ticket_type"])
    if ticket_type is None and len(types) == 1:
        ticket_type = types[0]
    free = capacity.seats_left(event)
    room = capacity.types_room(event, types)
    if ticket_type is not None and ticket_type.pk in room:
        free = min(free, room[ticket_type.pk])
    if free >= quantity:
        raise BookingError(ERRORS["waiting_not_full"])
    email = email.lower()
    entries = WaitingListEntry.objects.filter(event=event, email=email)
    is_open = entries.open()
    unconfirmed = entries.filter(status=WaitingListEntry.Status.UNCONFIRMED).order_by("pk").first()
    if (
        user is not None
        and EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()
    ):
        if is_open.exists():
            raise BookingError(ERRORS["waiting_duplicate"])
        entry = unconfirmed or WaitingListEntry(organiser_id=event.organiser_id, event=event, email=email)
        entry.user, entry.name, entry.quantity, entry.accepts_fewer = user, name, quantity, accepts_fewer
        entry.ticket_type = ticket_type
        entry.status, entry.confirmed_at = WaitingListEntry.Status.WAITING, timezone.now()
        entry.save()
        transaction.on_commit(partial(waiting_list_send_confirmation_task.delay, entry.pk, joined=True))
        return entry
    entry = is_open.first()
    if entry is None:
        entry = unconfirmed or WaitingListEntry(organiser_id=event.organiser_id, event=event, email=email)
        entry.name, entry.quantity, entry.accepts_fewer = name, quantity, accepts_fewer
        entry.ticket_type = ticket_type
        entry.save()
    transaction.on_commit(partial(waiting_list_send_confirmation_task.delay, entry.pk))
    return None


@transaction.atomic
def waiting_list_confirm(*, entry: WaitingListEntry) -> WaitingListEntry:
    """The address's owner confirmed their place (the emailed link): it joins the queue behind
    everyone who confirmed before, and is offered a free seat at once if there is one.
    Confirming twice, or an address already waiting, changes nothing.
    Raises BookingError if the event is cancelled or has started."""
    event = capacity.events_lock(entry.event_id)[entry.event_id]
    with lock_timeout():
        entry = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != WaitingListEntry.Status.UNCONFIRMED:
        return entry
    if event.is_cancelled or event.has_started:
        raise BookingError(ERRORS["cancelled" if event.is_cancelled else "started"])
    waiting = WaitingListEntry.objects.filter(event=event, email=entry.email).open().first()
    if waiting is not None:
        return waiting
    entry.status, entry.confirmed_at = WaitingListEntry.Status.WAITING, timezone.now()
    entry.save(update_fields=["status", "confirmed_at", "updated_at"])
    waiting_list_offer_places(event=event)
    return entry


def waiting_list_offer_places(*, event: Event) -> list[WaitingListEntry]:
    """Offer the places now free on `event` to the people waiting longest. Call inside the
    transaction, with the event locked by `capacity.events_lock` (which has expired the offers
    past their time, so their places pass to the next people).

    Each new offer holds its places (on the event's counter) for the rules'
    waiting_list_offer_hours and is emailed after commit. The queue runs in the order the places
    were confirmed. An entry is offered all the places it asked for, or, when it `accepts_fewer`,
    the places free if fewer. An entry needing more places than are free stops the queue under
    the organiser's STRICT rule (nobody passes it; the places wait for it); under FILL, the
    entries behind it that fit are offered the places it cannot use, and it stays at the front.
    An entry waiting for a ticket type with its own limit is offered at most the room left
    within it; one that the limit blocks holds back (STRICT) only the entries behind it waiting
    for the same type (see the module's docstring).

    Under a NOTIFY_ALL rule nothing is held: see `_waiting_list_notify_all`.
    """
    now = timezone.now()
    if event.is_cancelled or event.starts_at <= now:
        return []
    free = capacity.seats_left(event)
    if not free:
        return []
    rules = booking_rules.rules_for_event(event=event)
    if rules.waiting_list_offer_mode == rules.WaitingListOfferMode.NOTIFY_ALL:
        return _waiting_list_notify_all(event=event, free=free, hours=rules.waiting_list_offer_hours)
    strict = rules.waiting_list_order == rules.WaitingListOrder.STRICT
    room = capacity.types_room(event)
    held_back = set()  # ticket types whose front entry their limit blocks (STRICT)
    offered = []
    for entry in (
        WaitingListEntry.objects.filter(event=event)
        .waiting()
        .select_for_update()
        .order_by("confirmed_at", "pk")
    ):
        if not _fits(entry, free):
            if strict:
                break  # every entry needs the event's places: nobody passes it
            continue
        limited = entry.ticket_type_id in room
        if limited and (entry.ticket_type_id in held_back or not _fits(entry, room[entry.ticket_type_id])):
            if strict:
                held_back.add(entry.ticket_type_id)
            continue
        entry.quantity = min(entry.quantity, free, room[entry.ticket_type_id] if limited else free)
        entry.status = WaitingListEntry.Status.OFFERED
        entry.offer_expires_at = now + timedelta(hours=rules.waiting_list_offer_hours)
        entry.offer_sent_at = None  # a notice under a notify-everyone rule may have been sent
        entry.save(update_fields=["quantity", "status", "offer_expires_at", "offer_sent_at", "updated_at"])
        free -= entry.quantity
        if limited:
            room[entry.ticket_type_id] -= entry.quantity
        offered.append(entry)
        if not free:
            break
    capacity.seats_count(event, held=sum(entry.quantity for entry in offered))
    for entry in offered:
        transaction.on_commit(partial(waiting_list_send_offer_task.delay, entry.pk))
    return offered


def _fits(entry: WaitingListEntry, free: int) -> bool:
    """`free` places are enough for `entry`: all it asked for, or at least one if it takes fewer."""
    return entry.quantity <= free or (entry.accepts_fewer and free > 0)


@transaction.atomic
def waiting_list_offer_by_hand(*, entry: WaitingListEntry) -> WaitingListEntry:
    """The organiser offers places to this entry now, out of turn (their call, whatever the
    queue or the offer mode): a timed offer of the places it asked for (or of the places free,
    if fewer and it takes fewer), held and emailed like any offer.
    Raises BookingError when the entry is not waiting (unconfirmed, already offered or closed),
    when no places are free, or too few for an entry that needs them all together."""
    event = capacity.events_lock(entry.event_id)[entry.event_id]
    with lock_timeout():
        entry = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != WaitingListEntry.Status.WAITING:
        raise BookingError(
            ERRORS["waiting_not_waiting"] % {"name": entry.name, "status": entry.get_status_display()}
        )
    if event.is_cancelled or event.has_started:
        raise BookingError(ERRORS["cancelled" if event.is_cancelled else "started"])
    free = capacity.seats_left(event)
    if not free:
        raise BookingError(ERRORS["waiting_no_free_places"] % {"event": event.title})
    if not _fits(entry, free):
        raise BookingError(
            ERRORS["waiting_too_few_places"] % {"name": entry.name, "needed": entry.quantity, "free": free}
        )
    room = capacity.types_room(event)
    if entry.ticket_type_id in room:
        if not _fits(entry, room[entry.ticket_type_id]):
            raise BookingError(
                ERRORS["waiting_type_full"]
                % {
                    "name": entry.name,
                    "ticket": entry.ticket_type.name,
                    "free": room[entry.ticket_type_id],
                    "needed": entry.quantity,
                }
            )
        free = min(free, room[entry.ticket_type_id])
    hours = booking_rules.rules_for_event(event=event).waiting_list_offer_hours
    entry.quantity = min(entry.quantity, free)
    entry.status = WaitingListEntry.Status.OFFERED
    entry.offer_expires_at = timezone.now() + timedelta(hours=hours)
    entry.offer_sent_at = None
    entry.save(update_fields=["quantity", "status", "offer_expires_at", "offer_sent_at", "updated_at"])
    capacity.seats_count(event, held=entry.quantity)
    transaction.on_commit(partial(waiting_list_send_offer_task.delay, entry.pk))
    return entry


def _waiting_list_notify_all(*, event: Event, free: int, hours: int) -> list[WaitingListEntry]:
    """Tell everyone waiting whose request fits the `free` places (or who takes fewer), and the
    room left within their ticket type's own limit if it has one, that places are free; nothing is held, and whoever books first gets them (their link books at
    most their request). Someone told stays in line, and is told again only once the rule's
    hours have passed, if places are still free then."""
    now = timezone.now()
    room = capacity.types_room(event)
    notified = []
    for entry in (
        WaitingListEntry.objects.filter(event=event)
        .waiting()
        .filter(Q(notified_at__isnull=True) | Q(notified_at__lte=now - timedelta(hours=hours)))
        .select_for_update()
        .order_by("confirmed_at", "pk")
    ):
        if not _fits(entry, free) or (
            entry.ticket_type_id in room and not _fits(entry, room[entry.ticket_type_id])
        ):
            continue
        entry.notified_at, entry.offer_sent_at = now, None
        entry.save(update_fields=["notified_at", "offer_sent_at", "updated_at"])
        notified.append(entry)
        transaction.on_commit(partial(waiting_list_send_offer_task.delay, entry.pk))
    return notified


def waiting_list_offer_due() -> int:
    """For the periodic task: move on expired offers and offer places freed by a raised
    capacity, for every upcoming event with people waiting or places held. Returns how many
    offers were made."""
    made = 0
    event_ids = (
        WaitingListEntry.objects.filter(
            status__in=[WaitingListEntry.Status.WAITING, WaitingListEntry.Status.OFFERED],
            event__status=Event.Status.SCHEDULED,
            event__starts_at__gt=timezone.now(),
        )
        .values_list("event_id", flat=True)
        .distinct()
    )
    for event_id in list(event_ids):
        made += len(waiting_list_offer_places_now(event=Event(pk=event_id)))
    return made


@transaction.atomic
def waiting_list_offer_places_now(*, event: Event) -> list[WaitingListEntry]:
    """`waiting_list_offer_places` in a transaction of its own, e.g. after a capacity change."""
    event = capacity.events_lock(event.pk)[event.pk]
    return waiting_list_offer_places(event=event)


@transaction.atomic
def waiting_list_change_quantity(*, entry: WaitingListEntry, quantity: int) -> WaitingListEntry:
    """The booker asks for fewer places (at least one) on a place not yet offered. It keeps its
    turn in the queue, and the places free now are offered again at once: it may now fit, or no
    longer block the entries behind it. Asking for the same number changes nothing.
    Raises BookingError when asking for more (that would jump the queue: leave and join again),
    for none, when the places are already held for an offer, or when the place is closed."""
    event = capacity.events_lock(entry.event_id)[entry.event_id]
    with lock_timeout():
        entry = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status == WaitingListEntry.Status.OFFERED:
        raise BookingError(ERRORS["waiting_offer_held"])
    if entry.status not in (WaitingListEntry.Status.WAITING, WaitingListEntry.Status.UNCONFIRMED):
        raise BookingError(ERRORS["waiting_closed"])
    if not 1 <= quantity <= entry.quantity:
        raise BookingError(ERRORS["waiting_fewer_only"])
    if quantity == entry.quantity:
        return entry
    entry.quantity = quantity
    entry.save(update_fields=["quantity", "updated_at"])
    waiting_list_offer_places(event=event)
    entry.refresh_from_db()
    return entry


@transaction.atomic
def waiting_list_leave(*, entry: WaitingListEntry) -> WaitingListEntry:
    """The booker leaves the waiting list (or withdraws a place not confirmed yet: its
    confirmation link stops working). A place held for them passes to the next person.
    Leaving twice changes nothing."""
    event = capacity.events_lock(entry.event_id)[entry.event_id]
    with lock_timeout():
        entry = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
    if not entry.is_on_the_list:
        return entry
    was_offered = entry.status == WaitingListEntry.Status.OFFERED
    entry.status = WaitingListEntry.Status.LEFT
    entry.save(update_fields=["status", "updated_at"])
    if was_offered:
        capacity.seats_count(event, held=-entry.quantity)
        waiting_list_offer_places(event=event)
    return entry


@transaction.atomic
def waiting_list_entries_close(*, entry_ids, delete: bool = False) -> int:
    """End these waiting-list places at once (the booker's account is deleted, or the organiser
    deletes them): each leaves the list (or, with `delete`, is deleted), and the places held for
    an offer go back to the event, to be offered by the periodic task. Returns how many."""
    entries = WaitingListEntry.objects.filter(pk__in=list(entry_ids))
    events = capacity.events_lock(*set(entries.values_list("event_id", flat=True)))
    with lock_timeout():
        locked = list(entries.select_for_update().order_by("pk"))
    for entry in locked:
        if entry.status == WaitingListEntry.Status.OFFERED and entry.event_id in events:
            capacity.seats_count(events[entry.event_id], held=-entry.quantity)
    if delete:
        WaitingListEntry.objects.filter(pk__in=[entry.pk for entry in locked]).delete()
    else:
        WaitingListEntry.objects.filter(
            pk__in=[e.pk for e in locked if e.is_open or e.status == WaitingListEntry.Status.UNCONFIRMED]
        ).update(status=WaitingListEntry.Status.LEFT, offer_expires_at=None, updated_at=timezone.now())
    return len(locked)
