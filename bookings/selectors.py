"""Reads of events and bookings: the pages' queries, places left, prices and quotes."""

from __future__ import annotations

import copy
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from bookings import capacity, links, pricing
from bookings import rules as booking_rules
from bookings.exceptions import ERRORS, BookingError
from bookings.models import (
    Attendee,
    Booking,
    BookingFormField,
    BookingRules,
    CancelledTicket,
    Event,
    Refund,
    TicketCancellation,
    TicketGift,
    TicketType,
    Transfer,
    WaitingListEntry,
)
from portal.models import Organiser
from portal.money import MAX_AMOUNT
from portal.sql import Prepared

TAB_PAGE_SIZE = 20


def event_list_public(*, organiser):
    """Upcoming scheduled events on an organiser's public page, with their ticket types."""
    return (
        Event.objects.for_organiser(organiser)
        .upcoming()
        .prefetch_related(Prefetch("ticket_types", queryset=TicketType.objects.order_by("position", "pk")))
    )


# The booking page's reads: every booking POST makes them, and compiling their querysets cost
# more than running them (bench/RESULTS.md, 2026-11-30), so they are compiled once (`Prepared`).
_EVENT_PUBLIC = Prepared(
    lambda slug, code: Event.objects.filter(organiser__slug=slug, code=code),
    parts={
        "organiser": (
            Organiser,
            "organiser",
            [f.name for f in Organiser._meta.concrete_fields],
        )
    },
    slug="\x00organiser-slug\x00",
    code=uuid.UUID(int=940_000_001),
)
_TICKET_TYPES = Prepared(
    lambda organiser, event: (
        TicketType.objects.for_organiser(organiser).filter(event=event).order_by("position", "pk")
    ),
    organiser=-940_000_002,
    event=-940_000_003,
)
_FORM_FIELDS = Prepared(
    lambda organiser, event: (
        BookingFormField.objects.for_organiser(organiser)
        .filter(Q(event=event) | Q(event__isnull=True))
        .order_by("position", "pk")
    ),
    organiser=-940_000_004,
    event=-940_000_005,
)


def event_get_public(*, org_slug: str, code) -> Event:
    """An organiser's event by the organiser's slug and the event's public code, with its
    organiser; another organiser's event (or an unknown slug, or a code that is no UUID) is a 404."""
    try:
        code = uuid.UUID(str(code))
    except ValueError:
        raise Http404 from None
    found = _EVENT_PUBLIC.fetch(slug=org_slug, code=code)
    if not found:
        raise Http404
    ((event, organiser),) = found
    event.organiser = organiser
    return event


def ticket_type_list_for_event(*, event: Event) -> list[TicketType]:
    """The event's ticket types in their order, each knowing its event."""
    ticket_types = [
        ticket_type for (ticket_type,) in _TICKET_TYPES.fetch(organiser=event.organiser_id, event=event.pk)
    ]
    for ticket_type in ticket_types:
        ticket_type.event = event
    return ticket_types


def booking_form_field_list_for_event(*, event: Event) -> list[BookingFormField]:
    """The questions the booking form asks for `event`: its own fields if it has any, else the
    organiser's defaults (an event's fields replace the defaults; they are not added to them)."""
    fields = [field for (field,) in _FORM_FIELDS.fetch(organiser=event.organiser_id, event=event.pk)]
    own = [field for field in fields if field.event_id]
    return own or fields


# Places -----------------------------------------------------------------------------------------


def seats_left(event: Event, *, offer: WaitingListEntry | None = None, loaded: bool = False) -> int:
    """The places anyone may book on `event` now; with a live `offer`, the places its holder may
    book (`capacity.seats_left`, the rule). The event's counters are read again, unless the caller
    says the event was `loaded` moments ago (the booking page, which just read it)."""
    if not loaded:
        event = Event.objects.only("capacity", "seats_taken", "seats_held").get(pk=event.pk)
    return capacity.seats_left(event, offer=offer, held=capacity.held_live(event))


def ticket_types_sold_out(event: Event, ticket_types: list[TicketType]) -> list[TicketType]:
    """Of `event`'s `ticket_types` (loaded), those whose own limit is reached (booked, or held for
    waiting-list offers waiting for them): the booking page offers their waiting list. No query
    when none has a limit of its own."""
    room = capacity.types_room(event, ticket_types)
    return [t for t in ticket_types if t.pk in room and room[t.pk] <= 0]


def seats_left_by_event(events) -> dict[int, int]:
    """`seats_left` for events just loaded (a list of them): one query at most, for the places
    held for offers."""
    events = list(events)
    holding = [event.pk for event in events if event.seats_held]
    held = {}
    if holding:
        held = dict(
            WaitingListEntry.objects.filter(
                event_id__in=holding,
                status=WaitingListEntry.Status.OFFERED,
                offer_expires_at__gt=timezone.now(),
            )
            .values_list("event_id")
            .annotate(n=Sum("quantity"))
        )
    return {event.pk: capacity.seats_left(event, held=held.get(event.pk, 0)) for event in events}


def booking_get_for_viewer(*, request, reference, with_history: bool = False):
    """The one ownership check: the logged-in booker's own booking, or the one booking this
    session was granted by a signed link. Anything else is a 404. `with_history` also fetches
    the form responses, refunds and transfers (the Options page shows them; dialogs don't)."""
    extra = (
        [
            "responses",
            "refunds",
            Prefetch("transfers", queryset=Transfer.objects.select_related("from_event", "to_event")),
            _ticket_cancellations(),
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


def gift_list_for_booking(*, booking: Booking) -> list[TicketGift]:
    """The offers to give away tickets of `booking`, newest first."""
    return list(booking.gifts.select_related("new_booking").order_by("-created_at"))


def _ticket_cancellations():
    return Prefetch(
        "ticket_cancellations",
        queryset=TicketCancellation.objects.prefetch_related(
            Prefetch("tickets", queryset=CancelledTicket.objects.select_related("ticket_type"))
        ),
    )


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
    and, only when the cards must be drawn, the page's bookings and their attendees (loading them
    is most of what a page costs, so a page whose cards are cached skips it)."""
    now = timezone.now()
    if tab == "waiting":
        rows = WaitingListEntry.objects.filter(
            user=user,
            status__in=[WaitingListEntry.Status.WAITING, WaitingListEntry.Status.OFFERED],
            event__status=Event.Status.SCHEDULED,
            event__ends_at__gt=now,
        ).select_related("event", "organiser", "ticket_type")
        if organiser is not None:
            rows = rows.filter(organiser=organiser)
        rows = rows.annotate(
            position=Case(
                When(
                    status=WaitingListEntry.Status.WAITING, then=Coalesce(Subquery(_waiting_ahead()), 0) + 1
                ),
                default=None,
                output_field=IntegerField(),
            ),
            type_position=Case(
                When(
                    status=WaitingListEntry.Status.WAITING,
                    ticket_type__isnull=False,
                    then=Coalesce(Subquery(_waiting_ahead(for_its_ticket_type=True)), 0) + 1,
                ),
                default=None,
                output_field=IntegerField(),
            ),
        )
        entries = Paginator(rows.order_by("event__starts_at", "pk"), TAB_PAGE_SIZE).get_page(page)
        return EventsTab(page=entries, cards=entries, freshness=None)
    rows = Booking.objects.filter(user=user)
    if tab == "cancelled":
        # Bookings the booker or the organiser cancelled, and bookings some of whose tickets the
        # booker cancelled; not abandoned, never-paid checkouts. Latest cancellation first.
        partly = TicketCancellation.objects.filter(booking=OuterRef("pk"))
        rows = rows.filter(
            (Q(status=Booking.Status.CANCELLED) & ~Q(cancelled_by="")) | Q(Exists(partly))
        ).annotate(
            last_cancelled=Coalesce(
                "cancelled_at", Subquery(partly.order_by("-created_at").values("created_at")[:1])
            )
        )
        order = [F("last_cancelled").desc(nulls_last=True), "-pk"]
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
    if tab == "cancelled":
        bookings = bookings.prefetch_related(_ticket_cancellations())
    by_id = {booking.pk: booking for booking in bookings}
    cards = [by_id[pk] for pk in ids if pk in by_id]
    if tab == "past":
        for booking in cards:
            for attendee in booking.attendees.all():
                attendee.status_label = attendance_label(attendee, booking.organiser)
    return cards


def organiser_list_for_booker(*, user):
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


def _waiting_ahead(*, for_its_ticket_type: bool = False):
    """How many people wait ahead of the outer entry in its event's queue (confirmed earlier,
    or at the same moment with a lower id: the order offers follow); `for_its_ticket_type`:
    only those who could take a place of the ticket type it waits for (that type, or any)."""
    ahead = WaitingListEntry.objects.filter(
        event=OuterRef("event"), status=WaitingListEntry.Status.WAITING
    ).filter(
        Q(confirmed_at__lt=OuterRef("confirmed_at"))
        | Q(confirmed_at=OuterRef("confirmed_at"), pk__lt=OuterRef("pk"))
    )
    if for_its_ticket_type:
        ahead = ahead.filter(Q(ticket_type=OuterRef("ticket_type")) | Q(ticket_type__isnull=True))
    return ahead.order_by().values("event").annotate(n=Count("pk")).values("n")


def waiting_list_position(*, entry: WaitingListEntry) -> int | None:
    """Where `entry` stands in its event's queue (1 is next), or None when it is not waiting in
    line (not confirmed yet, offered, or closed). Only the count: nobody learns who is ahead."""
    if entry.status != WaitingListEntry.Status.WAITING:
        return None
    return _waiting_ahead_of(entry).count() + 1


def waiting_list_type_position(*, entry: WaitingListEntry) -> int | None:
    """For an entry waiting for one ticket type: where it stands among the entries needing
    places of that type (waiting for it, or for any ticket), the order in which room freed
    within the type's own limit is offered. None for an entry waiting for any ticket, or not
    waiting in line. The event's position still holds: its places are one pool."""
    if entry.status != WaitingListEntry.Status.WAITING or entry.ticket_type_id is None:
        return None
    ahead = _waiting_ahead_of(entry).filter(
        Q(ticket_type_id=entry.ticket_type_id) | Q(ticket_type__isnull=True)
    )
    return ahead.count() + 1


def _waiting_ahead_of(entry: WaitingListEntry):
    return WaitingListEntry.objects.filter(
        event_id=entry.event_id, status=WaitingListEntry.Status.WAITING
    ).filter(Q(confirmed_at__lt=entry.confirmed_at) | Q(confirmed_at=entry.confirmed_at, pk__lt=entry.pk))


def waiting_list_entry_get_for_viewer(*, request, code) -> WaitingListEntry:
    """The one ownership check for a waiting-list place: the logged-in booker's own, or the one
    place this session was granted by its signed manage link. Anything else is a 404."""
    entry = get_object_or_404(WaitingListEntry.objects.select_related("event", "organiser"), code=code)
    user = request.user
    if user.is_authenticated and entry.user_id == user.pk:
        return entry
    if links.waiting_list_is_granted(request.session, entry):
        return entry
    raise Http404


# Prices and quotes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelQuote:
    """What cancelling now gives back: the card refund (an unsaved Refund: amount, method, fee
    kept), the pass uses, the gift-voucher money and the included bookings that go back.

    For some of the tickets (`whole` False), `tickets` are those attendees, each with its `share`
    of what the booking paid (card and voucher); `card_share`, `discount_share`, `voucher_share`
    and `uses` are the parts of the booking's total, discount, voucher money and pass uses that
    leave with them."""

    refund: Refund
    pass_uses_back: int = 0
    voucher_back: int = 0
    tickets: tuple = ()
    whole: bool = True
    card_share: int = 0
    discount_share: int = 0
    voucher_share: int = 0
    uses: int = 0
    included_back: int = 0  # a member's included bookings


def ticket_shares(amount: int, attendees: Sequence[Attendee]) -> dict[int, int]:
    """`amount` split over a booking's tickets by their prices (equally when all were free): the
    running total is rounded down, so the shares add up to `amount` exactly, and the same ticket
    always gets the same share whichever others are cancelled with it."""
    weights = [attendee.price for attendee in attendees]
    if not any(weights):
        weights = [1] * len(weights)
    whole, running, before, shares = sum(weights), 0, 0, {}
    for attendee, weight in zip(attendees, weights, strict=True):
        running += weight
        upto = amount * running // whole
        shares[attendee.pk] = upto - before
        before = upto
    return shares


def cancel_quote(
    *, booking: Booking, ticket_ids: Sequence[int] | None = None, rules: BookingRules | None = None
) -> CancelQuote:
    """What cancelling the tickets `ticket_ids` (all of them when None) gives back now.

    Each ticket's share of the card payment, voucher money and pass uses is `ticket_shares` of
    the booking's; the cancellation fee is kept once per cancellation, from the card refund first
    and then from the voucher money (never per ticket). Ids not on the booking are ignored."""
    rules = rules or booking_rules.rules_for_event(event=booking.event)
    held = sorted(booking.attendees.all(), key=lambda attendee: attendee.pk)
    chosen = held if ticket_ids is None else [a for a in held if a.pk in set(ticket_ids)]
    whole = len(chosen) == len(held)
    spent_pass = getattr(booking, "pass_redemption", None)
    spent_voucher = getattr(booking, "voucher_redemption", None)
    uses = spent_pass.uses if spent_pass and not spent_pass.returned_at else 0
    voucher = spent_voucher.amount if spent_voucher and not spent_voucher.returned_at else 0
    # Tickets a member's included bookings paid for took no money: the rest share it.
    paying = [a for a in held if not a.included] or held
    card = ticket_shares(booking.total, paying)
    from_voucher = ticket_shares(voucher, paying)
    discount = ticket_shares(booking.discount, paying)
    for attendee in chosen:
        attendee.share = card.get(attendee.pk, 0) + from_voucher.get(attendee.pk, 0)
    parts = {
        "tickets": tuple(chosen),
        "whole": whole,
        "card_share": sum(card.get(a.pk, 0) for a in chosen),
        "discount_share": sum(discount.get(a.pk, 0) for a in chosen),
        "voucher_share": sum(from_voucher.get(a.pk, 0) for a in chosen),
        "uses": uses if whole else min(len(chosen), uses),  # one use per ticket
    }
    amount, fee = booking_rules.refund_amounts(rules=rules, total=parts["card_share"], keep_fee=True)
    method = booking_rules.refund_method_for(booking=booking, method=rules.refund_method, amount=amount)
    refund = Refund(booking=booking, method=method, amount=amount, fee_kept=fee, currency=booking.currency)
    if method == BookingRules.RefundMethod.NONE:
        return CancelQuote(refund=refund, **parts)
    fee_left = rules.cancellation_fee - fee
    return CancelQuote(
        refund=refund,
        pass_uses_back=parts["uses"],
        voucher_back=max(parts["voucher_share"] - fee_left, 0) if parts["voucher_share"] else 0,
        included_back=_included_back(booking, chosen, whole),
        **parts,
    )


def _included_back(booking: Booking, chosen: Sequence[Attendee], whole: bool) -> int:
    """The included bookings that go back with `chosen`: all the booking spent, or one for
    each chosen ticket they paid for."""
    if not booking.included_amount:
        return 0
    spent = pricing.included_spent_on(booking=booking)
    return spent if whole else min(spent, sum(1 for attendee in chosen if attendee.included))


@dataclass(frozen=True)
class TransferQuote:
    """A move priced by the rules: what the booking will cost, and how the difference is settled."""

    booking: Booking
    ticket_type: TicketType
    seats: int
    new_discount: int
    new_discount_reason: str
    new_total: int
    refund_amount: int
    refund_method: str
    # The included bookings the booking spent pay for the new tickets too (0 when they are free:
    # the included bookings then go back).
    new_included_amount: int = 0
    new_included_reason: str = ""

    @property
    def to_event(self) -> Event:
        return self.ticket_type.event

    @property
    def difference(self) -> int:
        return self.new_total - self.booking.total

    @property
    def to_pay(self) -> int:
        return max(self.difference, 0)


def transfer_quote(
    *, booking: Booking, ticket_type: TicketType, rules: BookingRules | None = None
) -> TransferQuote:
    """Price moving `booking` to `ticket_type` (all its tickets), or raise BookingError saying why
    the organiser's rules refuse it. Seats are checked again, under lock, by `transfer_create`."""
    rules = rules or booking_rules.rules_for_event(event=booking.event)
    if reason := booking_rules.transfer_blocked_reason(booking=booking, rules=rules):
        raise BookingError(reason)
    targets = booking_rules.transfer_targets_for_event(event=booking.event, rules=rules)
    if not targets.filter(pk=ticket_type.event_id).exists():
        raise BookingError(ERRORS["target_not_allowed"])
    attendees = list(booking.attendees.all())
    if ticket_type.event_id == booking.event_id and all(
        a.ticket_type_id == ticket_type.pk for a in attendees
    ):
        raise BookingError(ERRORS["same_ticket"])
    # A member's included bookings spent on the booking stay with it and pay for the same number
    # of the new tickets, priced with the booking page's arithmetic.
    kept = (
        min(pricing.included_spent_on(booking=booking), sum(1 for a in attendees if a.included))
        if booking.included_amount
        else 0
    )
    price = pricing.booking_price(
        prices=[ticket_type.price] * len(attendees),
        user=booking.user,
        organiser=booking.organiser,
        included=pricing.IncludedOffer(source="", key=None, left=kept, name="", period="") if kept else None,
    )
    discount, discount_reason = price.discount, price.discount_reason
    new_total = price.total
    if new_total > MAX_AMOUNT:
        raise BookingError(ERRORS["too_expensive"])
    difference = new_total - booking.total
    if reason := booking_rules.price_difference_block(rules=rules, difference=difference):
        raise BookingError(reason)
    refund_amount, refund_method = 0, BookingRules.RefundMethod.NONE
    if difference < 0 and rules.price_difference == BookingRules.PriceDifference.SETTLE:
        refund_method = booking_rules.refund_method_for(
            booking=booking, method=rules.refund_method, amount=-difference
        )
        refund_amount = 0 if refund_method == BookingRules.RefundMethod.NONE else -difference
    return TransferQuote(
        booking=booking,
        ticket_type=ticket_type,
        seats=len(attendees),
        new_discount=discount,
        new_discount_reason=discount_reason,
        new_total=new_total,
        refund_amount=refund_amount,
        refund_method=refund_method,
        new_included_amount=price.included_amount,
        new_included_reason=booking.included_reason if price.included_amount else "",
    )


def booking_part(*, booking: Booking, ticket_ids: Sequence[int] | None) -> Booking:
    """`booking` as if it held only the tickets `ticket_ids` (all of them when None): an unsaved
    stand-in with those attendees and their share of the total and discount, for quoting a move
    of some tickets before they are split off (`services.transfer_create` quotes the real split
    again under lock). Ids not on the booking are left out."""
    held = sorted(booking.attendees.all(), key=lambda attendee: attendee.pk)
    if ticket_ids is None or {a.pk for a in held} <= set(ticket_ids):
        return booking
    chosen = [attendee.pk for attendee in held if attendee.pk in set(ticket_ids)]
    paying = [a for a in held if not a.included] or held
    total = ticket_shares(booking.total, paying)
    discount = ticket_shares(booking.discount, paying)
    part = copy.copy(booking)
    part.total = sum(total.get(pk, 0) for pk in chosen)
    part.discount = sum(discount.get(pk, 0) for pk in chosen)
    part.included_amount = sum(a.price for a in held if a.pk in set(chosen) and a.included)
    part.included_reason = booking.included_reason if part.included_amount else ""
    attendees = booking.attendees.filter(pk__in=chosen).select_related("ticket_type").order_by("pk")
    list(attendees)  # evaluated now: the stand-in's attendees are these rows
    part._prefetched_objects_cache = {"attendees": attendees}
    return part


def transfer_ticket_choices(*, booking: Booking, target: Event, rules: BookingRules):
    """Step 2 of a move: each ticket type of `target` with its quote for this booking, or the
    booker-readable reason it can't be had (the rules, or too few places left)."""
    seats = len(booking.attendees.all())
    left = seats_left(target, loaded=True) if target.pk != booking.event_id else seats
    choices = []
    for ticket_type in target.ticket_types.order_by("position", "pk"):
        ticket_type.event = target
        try:
            quote = transfer_quote(booking=booking, ticket_type=ticket_type, rules=rules)
        except BookingError as error:
            choices.append((ticket_type, None, error.message))
            continue
        full = (
            "" if left >= seats else str(ERRORS["ticket_full"] % {"left": left, "ticket": ticket_type.name})
        )
        choices.append((ticket_type, quote, full))
    return choices
