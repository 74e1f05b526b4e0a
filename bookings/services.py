"""Booking: the writes. Each public function is one business operation in one transaction."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from allauth.account.models import EmailAddress
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from bookings import links, organiser_services
from bookings import rules as booking_rules
from bookings.exceptions import ERRORS, BookingError, EventFull, FormAlreadyUsed
from bookings.models import (
    Attendee,
    Booking,
    BookingFormField,
    BookingFormResponse,
    BookingRules,
    Event,
    Refund,
    TicketType,
    Transfer,
    WaitingListEntry,
)
from memberships.services import membership_discount_for
from passes.services import pass_redeem
from portal.locking import lock_timeout
from portal.models import Organiser
from portal.money import MAX_AMOUNT
from portal.payments import get_gateway
from portal.sql import Columns, fetch, split
from vouchers.services import voucher_redeem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketRequest:
    ticket_type: TicketType
    attendee_name: str
    is_child: bool = False


# Pending bookings hold their seats while the payment is under way.
_HOLDING = [Booking.Status.CONFIRMED, Booking.Status.PENDING]


def seats_taken(event: Event) -> int:
    return Attendee.objects.filter(booking__event=event, booking__status__in=_HOLDING).count()


def seats_held_for_offers(event: Event, *, except_offer: WaitingListEntry | None = None) -> int:
    """Places kept for people on the waiting list whose offer is still open."""
    offers = WaitingListEntry.objects.filter(
        event=event, status=WaitingListEntry.Status.OFFERED, offer_expires_at__gt=timezone.now()
    )
    if except_offer is not None:
        offers = offers.exclude(pk=except_offer.pk)
    return offers.aggregate(n=Sum("quantity"))["n"] or 0


# seats_left in one statement: booking asks it three times per POST (the form, the quick check,
# the check under the lock), and building two ORM aggregates each time was a quarter of a booking's
# CPU. Same rules as seats_taken and seats_held_for_offers, which the tests hold it to.
_SEATS_LEFT_SQL = f"""
SELECT e.capacity
    - (SELECT COUNT(*) FROM {Attendee._meta.db_table} a JOIN {Booking._meta.db_table} b ON b.id = a.booking_id
       WHERE b.event_id = e.id AND b.status IN (%s, %s))
    - COALESCE((SELECT SUM(w.quantity) FROM {WaitingListEntry._meta.db_table} w
       WHERE w.event_id = e.id AND w.status = %s AND w.offer_expires_at > %s AND w.id <> %s), 0)
FROM {Event._meta.db_table} e WHERE e.id = %s
"""


def seats_left(event: Event, *, offer: WaitingListEntry | None = None) -> int:
    """Places anyone may book now; with `offer`, the places its holder may book."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SEATS_LEFT_SQL,
            [*_HOLDING, WaitingListEntry.Status.OFFERED, timezone.now(), offer.pk if offer else -1, event.pk],
        )
        (left,) = cursor.fetchone()
    return max(left, 0)


def seats_left_by_event(events) -> dict[int, int]:
    """`seats_left` for many events in two queries (lists of events, not one per row)."""
    events = list(events)
    ids = [event.pk for event in events]
    taken = dict(
        Attendee.objects.filter(booking__event_id__in=ids, booking__status__in=_HOLDING)
        .values_list("booking__event_id")
        .annotate(n=Count("pk"))
    )
    held = dict(
        WaitingListEntry.objects.filter(
            event_id__in=ids, status=WaitingListEntry.Status.OFFERED, offer_expires_at__gt=timezone.now()
        )
        .values_list("event_id")
        .annotate(n=Sum("quantity"))
    )
    return {
        event.pk: max(event.capacity - taken.get(event.pk, 0) - held.get(event.pk, 0), 0) for event in events
    }


def _check_capacity(
    event: Event, tickets: list[TicketRequest], offer: WaitingListEntry | None = None
) -> None:
    """Raise EventFull unless every ticket fits. Call with the event row locked."""
    if len(tickets) > seats_left(event, offer=offer):
        raise EventFull()
    if any(t.ticket_type.event_id != event.pk for t in tickets):
        raise BookingError(ERRORS["no_tickets"])
    wanted = Counter(t.ticket_type.pk for t in tickets)
    limited = {t.ticket_type.pk: t.ticket_type for t in tickets if t.ticket_type.capacity is not None}
    if not limited:
        return
    taken = dict(
        Attendee.objects.filter(ticket_type__in=limited, booking__status__in=_HOLDING)
        .values_list("ticket_type")
        .annotate(n=Count("pk"))
    )
    for pk, ticket_type in limited.items():
        left = ticket_type.capacity - taken.get(pk, 0)
        if wanted[pk] > left:
            raise EventFull(ERRORS["ticket_full"] % {"left": max(left, 0), "ticket": ticket_type.name})


def _member_discount(*, user, organiser, subtotal: int) -> tuple[int, str]:
    """A member's percentage off, rounded down to the minor unit, and how the booker sees it."""
    if user is None or not subtotal:
        return 0, ""
    percent, membership = membership_discount_for(user=user, organiser=organiser)
    if not percent:
        return 0, ""
    return subtotal * percent // 100, f"{membership.plan.name} member discount ({percent}%)"


def booking_create(**booking_fields) -> Booking:
    """`booking_submit`, for callers that need only the booking."""
    return booking_submit(**booking_fields).booking


@dataclass(frozen=True)
class Submitted:
    booking: Booking
    replayed: bool  # an earlier submit of the same form made it


@transaction.atomic
def booking_submit(
    *,
    event: Event,
    booker_name: str,
    booker_email: str,
    booker_phone: str = "",
    user=None,
    tickets: list[TicketRequest],
    answers: dict[BookingFormField, str] | None = None,
    idempotency_key: str,
    booked_from: str = "",
    waiting_offer: WaitingListEntry | None = None,
    pass_=None,
    voucher_code: str = "",
    seats_left_seen: int | None = None,
    may_replay: bool = True,
) -> Submitted:
    """Reserve seats and record the booking.

    The event row is locked while seats are counted, so two bookers racing for the last seat
    never both get it. A paid booking starts PENDING (its seats held) until
    `booking_confirm_payment`; a free one is confirmed at once. Posting the same form twice
    (same idempotency key) returns the first booking, marked `replayed`, but only to the same
    booker (same email, and the same account when one is given) and only when the caller says
    the key is the requester's own (`may_replay`: the page checks it was issued to the browser
    session); otherwise FormAlreadyUsed, and nothing of that booking is handed back. With
    `waiting_offer` the booker may also
    take the places held for that offer, which is then used up. A paid booking can be paid
    with uses of `pass_` (one per ticket) or, in part or in full, from the voucher with
    `voucher_code`, in this transaction: the pass or voucher row is locked after the event row.

    `seats_left_seen` is what the caller counted moments ago (the booking page counts, to check
    its form), spared a second count before the lock; the count under the lock decides.

    Raises BookingError (event cancelled or started, no tickets), FormAlreadyUsed, EventFull,
    PassError or VoucherError.
    """
    if not tickets:
        raise BookingError(ERRORS["no_tickets"])
    if pass_ is not None and voucher_code:
        raise BookingError(ERRORS["pass_and_voucher"])
    # Already sold out? Say so at once rather than queue for the event lock behind the bookers
    # who got the seats (when a popular class opens, most requests end here). Checked again below.
    # (A waiting-list offer's holder always goes on, to be told exactly what is wrong with it.)
    if seats_left_seen is None:
        seats_left_seen = seats_left(event)
    if (
        waiting_offer is None
        and len(tickets) > seats_left_seen
        and not _booking_with_key(event.organiser_id, idempotency_key)
    ):
        raise EventFull()
    event = _lock_events(event.pk, organiser=event.organiser)[event.pk]
    # Checked under the lock, so a double submit racing itself waits and then finds the first.
    existing = _booking_with_key(event.organiser_id, idempotency_key)
    if existing:
        if (
            not may_replay
            or existing.booker_email != booker_email.lower()
            or (user is not None and existing.user_id != user.pk)
        ):
            raise FormAlreadyUsed()
        return Submitted(booking=existing, replayed=True)
    if event.is_cancelled:
        raise BookingError(ERRORS["cancelled"])
    if event.has_started:
        raise BookingError(ERRORS["started"])
    offer = _lock_live_offer(waiting_offer, event) if waiting_offer else None
    if offer and len(tickets) > offer.quantity:
        raise BookingError(ERRORS["offer_too_many"] % {"quantity": offer.quantity})
    _check_capacity(event, tickets, offer=offer)
    if offer:
        WaitingListEntry.objects.filter(pk=offer.pk).update(
            status=WaitingListEntry.Status.BOOKED, updated_at=timezone.now()
        )

    subtotal = sum(t.ticket_type.price for t in tickets)
    discount, discount_reason = _member_discount(user=user, organiser=event.organiser, subtotal=subtotal)
    total = subtotal - discount
    if total > MAX_AMOUNT:
        raise BookingError(ERRORS["too_expensive"])
    booking = Booking(
        organiser=event.organiser,
        event=event,
        user=user,
        booker_name=booker_name,
        booker_email=booker_email.lower(),
        booker_phone=booker_phone,
        status=Booking.Status.PENDING if total else Booking.Status.CONFIRMED,
        total=total,
        discount=discount,
        discount_reason=discount_reason,
        currency=event.organiser.currency,
        payment_method=Booking.PaymentMethod.CARD if total else Booking.PaymentMethod.FREE,
        booked_from=booked_from,
        idempotency_key=idempotency_key,
    )
    # Field checks only: the foreign keys were just loaded, and uniqueness is the database's job
    # (checking it here would cost four queries per booking under the event lock).
    booking.full_clean(
        exclude=["user", "organiser", "event"], validate_unique=False, validate_constraints=False
    )
    booking.save()
    Attendee.objects.bulk_create(
        Attendee(
            organiser=event.organiser,
            booking=booking,
            ticket_type=t.ticket_type,
            name=t.attendee_name,
            is_child=t.is_child,
            price=t.ticket_type.price,
        )
        for t in tickets
    )
    BookingFormResponse.objects.bulk_create(
        BookingFormResponse(
            organiser=event.organiser, booking=booking, field=field, label=field.label, answer=answer
        )
        for field, answer in (answers or {}).items()
    )
    if booking.total and pass_ is not None:
        pass_redeem(pass_=pass_, booking=booking)
        booking.refresh_from_db()
    elif booking.total and voucher_code:
        voucher_redeem(code=voucher_code, booking=booking, amount=booking.total)
        booking.refresh_from_db()
    if booking.status == Booking.Status.CONFIRMED:
        _send_confirmation_on_commit(booking)
    return Submitted(booking=booking, replayed=False)


def booking_start_payment(*, booking: Booking, success_url: str, cancel_url: str):
    """Ask the payment gateway for the money. Runs outside any transaction (Stripe is slow).

    The offline gateway pays at once and the booking is confirmed here; Stripe returns a
    Checkout page to send the booker to. Raises PaymentError.
    """
    checkout = get_gateway().start_checkout(
        amount=booking.total,
        currency=booking.currency,
        description=f"{booking.event.title} ({booking.reference})",
        customer_email=booking.booker_email,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"booking-{booking.pk}-payment",
        metadata={"booking": booking.reference, "organiser": booking.organiser.slug},
    )
    if checkout.paid:
        booking_confirm_payment(booking=booking, payment_reference=checkout.payment_reference)
    return checkout


@transaction.atomic
def booking_confirm_payment(*, booking: Booking, payment_reference: str) -> bool:
    """Confirm a pending booking once its payment is in. Safe to call twice: only the call
    that moves it from PENDING sends the confirmation.

    A payment for a booking the organiser cancelled while the booker was paying (they cancelled
    the event) is given back in full instead: the booking stays cancelled, a refund to that
    payment is recorded, and after commit the cancellation's task pays it and emails the booker.
    Returns whether the booking was confirmed; `booking` is updated either way."""
    moved = Booking.objects.filter(pk=booking.pk, status=Booking.Status.PENDING).update(
        status=Booking.Status.CONFIRMED, payment_reference=payment_reference, updated_at=timezone.now()
    )
    if moved:
        booking.refresh_from_db()
        _send_confirmation_on_commit(booking)
        return True
    locked = _lock_booking(booking)
    if locked.is_cancelled and not locked.payment_reference and locked.total and payment_reference:
        _refund_payment_after_cancellation(locked, payment_reference)
    booking.status, booking.payment_reference = locked.status, locked.payment_reference
    return False


def _refund_payment_after_cancellation(booking: Booking, payment_reference: str) -> None:
    """The money for a cancelled booking came in after it was cancelled (an unknown payment: a
    known one is refunded by the cancellation's own rules). Call with the booking locked."""
    if booking.cancelled_by != Booking.CancelledBy.ORGANISER:
        # Only the organiser cancels an unpaid booking, and an expired Checkout cannot be paid.
        logger.error("bookings.payment.after_cancellation %s %s", booking.reference, payment_reference)
        return
    booking.payment_reference = payment_reference
    booking.save(update_fields=["payment_reference", "updated_at"])
    # The organiser's rules (fee, credit, no refund) are for bookings that were taken; this one
    # never was, so all of it goes back to the payment it came from.
    refund, _ = Refund.objects.get_or_create(
        booking=booking,
        reason=Refund.Reason.EVENT_CANCELLED,
        transfer=None,
        defaults={
            "organiser_id": booking.organiser_id,
            "method": BookingRules.RefundMethod.ORIGINAL,
            "amount": booking.total,
            "currency": booking.currency,
        },
    )
    organiser_services.give_back_pass_and_voucher(booking=booking, refund=refund, fee_left=0)
    from bookings.tasks import booking_settle_cancellation

    transaction.on_commit(partial(booking_settle_cancellation.delay, booking.pk))


def _send_confirmation_on_commit(booking: Booking) -> None:
    from bookings.tasks import booking_send_confirmation

    transaction.on_commit(partial(booking_send_confirmation.delay, booking.pk))


@transaction.atomic
def waiting_list_join(
    *, event: Event, name: str, email: str, quantity: int = 1, user=None
) -> WaitingListEntry | None:
    """Join the waiting list of a full event.

    A logged-in booker joining with one of their own verified emails has proved the mailbox: the
    place is theirs at once and returned (joining twice raises BookingError). Any other address
    may be someone else's: it is emailed after commit and None is returned whatever happened, so
    the caller answers the same. The email holds a confirmation link for a new unconfirmed place
    (or for the one still waiting for its click, now with this name and quantity), or, when the
    address is already waiting, says so. Only confirmed places are offered seats.
    Raises BookingError if the event is cancelled, started or not full.
    """
    event = _lock_events(event.pk)[event.pk]
    if event.is_cancelled or event.has_started:
        raise BookingError(ERRORS["cancelled" if event.is_cancelled else "started"])
    if seats_left(event) >= quantity:
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
        entry = unconfirmed or WaitingListEntry(organiser=event.organiser, event=event, email=email)
        entry.user, entry.name, entry.quantity = user, name, quantity
        entry.status, entry.confirmed_at = WaitingListEntry.Status.WAITING, timezone.now()
        entry.save()
        return entry
    entry = is_open.first()
    if entry is None:
        entry = unconfirmed or WaitingListEntry(organiser=event.organiser, event=event, email=email)
        entry.name, entry.quantity = name, quantity
        entry.save()
    from bookings.tasks import waiting_list_send_confirmation

    transaction.on_commit(partial(waiting_list_send_confirmation.delay, entry.pk))
    return None


@transaction.atomic
def bookings_claim_for_verified_email(*, user, email: str) -> int:
    """Give a user the bookings and waiting-list places made with an email they have proved is
    theirs. Only accounts.services.email_proved and claim_attach call it (through
    accounts.claims), which decide when a proof is enough."""
    claimed = Booking.objects.filter(user__isnull=True, booker_email__iexact=email).update(
        user=user, updated_at=timezone.now()
    )
    claimed += WaitingListEntry.objects.filter(user__isnull=True, email__iexact=email).update(
        user=user, updated_at=timezone.now()
    )
    return claimed


def bookings_found_for_email(*, user, email: str) -> list:
    """What `bookings_claim_for_verified_email` would attach, for the owner to look at first."""
    from accounts.claims import Found

    found = [
        Found(
            kind="Booking",
            description=f"{b.event.title}, {timezone.localtime(b.event.starts_at, b.organiser.tzinfo):%a %d %b %Y} "
            f"with {b.organiser.name} (ref. {b.reference})",
        )
        for b in Booking.objects.filter(user__isnull=True, booker_email__iexact=email)
        .select_related("event", "organiser")
        .order_by("event__starts_at")
    ]
    found += [
        Found(
            kind="Waiting list",
            description=f"{w.event.title} with {w.organiser.name} ({w.quantity} place(s))",
        )
        for w in WaitingListEntry.objects.filter(user__isnull=True, email__iexact=email)
        .select_related("event", "organiser")
        .order_by("created_at")
    ]
    return found


@dataclass(frozen=True)
class PlacedBooking:
    booking: Booking
    replayed: bool
    new_account: object | None = None  # the account this very submit made, to log in
    account_exists: bool = False  # an account was asked for an address that already has one


def booking_place(*, new_account_password: str | None = None, **booking_fields) -> PlacedBooking:
    """A booking as the public page makes it: when the booker ticked "Create an account", the
    account and the booking are made together, or neither is. A replayed form makes no account
    (`booking_submit` refuses the key, or returns the booking an earlier submit made).

    An account asked for an address that already has one is not made and not refused (that would
    tell a stranger the address has an account): the booking is a guest's, `account_exists` says
    so, and the page emails the address's owner instead."""
    from accounts.models import User
    from accounts.services import booker_create

    email = booking_fields["booker_email"]
    if not new_account_password or User.objects.filter(email__iexact=email).exists():
        submitted = booking_submit(**booking_fields)  # one transaction, not a savepoint inside one
        return PlacedBooking(
            booking=submitted.booking, replayed=submitted.replayed, account_exists=bool(new_account_password)
        )
    try:
        with transaction.atomic():
            user = booker_create(
                email=email, password=new_account_password, name=booking_fields["booker_name"]
            )
            submitted = booking_submit(**{**booking_fields, "user": user})
            if submitted.replayed:  # never here: the key's booking has another user, so it is refused
                raise FormAlreadyUsed()
            return PlacedBooking(booking=submitted.booking, replayed=False, new_account=user)
    except IntegrityError:
        if not User.objects.filter(email__iexact=email).exists():
            raise
        # The same address signed up a moment ago: as above, a guest's booking.
        submitted = booking_submit(**booking_fields)
        return PlacedBooking(booking=submitted.booking, replayed=submitted.replayed, account_exists=True)


def booking_checkout_event(event_type: str, session: dict) -> None:
    """Stripe told us about a booking's Checkout Session (payment mode). Paid: confirm the
    booking. Expired unpaid: release its seats. Both are no-ops the second time."""
    reference = (session.get("metadata") or {}).get("booking")
    booking = Booking.objects.filter(reference=reference).first() if reference else None
    if booking is None:
        return
    if event_type == "checkout.session.completed" and session.get("payment_status") == "paid":
        booking_confirm_payment(
            booking=booking, payment_reference=session.get("payment_intent") or session["id"]
        )
    elif event_type == "checkout.session.expired":
        Booking.objects.filter(pk=booking.pk, status=Booking.Status.PENDING).update(
            status=Booking.Status.CANCELLED, cancelled_at=timezone.now(), updated_at=timezone.now()
        )


# The booker's own changes: cancel, transfer, leave the waiting list ----------------------------
#
# Lock order, everywhere: event rows (ascending pk), then the booking or waiting-list row. Two
# opposite transfers, or a transfer racing a cancel, therefore queue instead of deadlocking.


_BOOKING = Columns(Booking, "b")


def _booking_with_key(organiser_id: int, idempotency_key: str) -> Booking | None:
    """The booking an earlier post of the same form made (the key is unique per organiser).
    Hand-written, as `_lock_events` below: the booking POST asks it under the event lock."""
    rows = fetch(
        f"SELECT {_BOOKING} FROM {_BOOKING.table} WHERE b.organiser_id = %s AND b.idempotency_key = %s",
        [organiser_id, idempotency_key],
    )
    return _BOOKING.instance(rows[0]) if rows else None


_LOCKED_EVENT = Columns(Event, "e")
_ITS_ORGANISER = Columns(Organiser, "o")


def _lock_events(*event_ids: int, organiser=None) -> dict[int, Event]:
    """Lock the events' rows (ascending pk, the lock order) and read them afresh, with their
    organisers. Pass the `organiser` they belong to when the caller has it loaded: the lock then
    reads only the event rows. Hand-written (`portal.sql`): every booking, cancel and transfer
    takes this lock, and compiling the ORM's query cost more than running it (issue 12)."""
    ids = sorted(set(event_ids))
    parts = [_LOCKED_EVENT] if organiser is not None else [_LOCKED_EVENT, _ITS_ORGANISER]
    sql = f"SELECT {', '.join(map(str, parts))} FROM {_LOCKED_EVENT.table}"
    if organiser is None:
        sql += f" JOIN {_ITS_ORGANISER.table} ON o.id = e.organiser_id"
    sql += f" WHERE e.id IN ({', '.join(['%s'] * len(ids))}) ORDER BY e.id"
    if connection.features.has_select_for_update:  # not SQLite, which locks the whole database
        sql += " " + connection.ops.for_update_sql(of=("e",) if organiser is None else ())
    with lock_timeout():
        rows = fetch(sql, ids)
    locked = {}
    for row in rows:
        event, *found = split(row, *parts)
        found_organiser = found[0] if found else organiser
        if found_organiser.pk == event.organiser_id:
            event.organiser = found_organiser
        locked[event.pk] = event
    return locked


def _lock_booking(booking: Booking) -> Booking:
    with lock_timeout():
        return (
            Booking.objects.select_for_update(of=("self",))
            .select_related("event", "organiser")
            .get(pk=booking.pk)
        )


@transaction.atomic
def cancel_booking(*, booking: Booking) -> Booking:
    """The booker cancels their booking, as the organiser's rules allow it now.

    In one transaction: the refund is recorded by the rules (amount, method, fee), the booking
    is cancelled, its places go back to the event and are offered to the waiting list. After
    commit a task pays the refund and emails the booker. Posting it again (a double click, a
    replay) finds it cancelled and changes nothing. Raises BookingError with the reason the
    rules refuse, or Busy."""
    events = _lock_events(booking.event_id)
    booking = _lock_booking(booking)
    if booking.is_cancelled and booking.cancelled_by == Booking.CancelledBy.BOOKER:
        return booking
    if booking.event_id not in events:
        raise BookingError(ERRORS["booking_changed"])
    rules = booking_rules.rules_for_event(event=booking.event)
    if reason := booking_rules.cancel_blocked_reason(booking=booking, rules=rules):
        raise BookingError(reason)
    refund = organiser_services.refund_record(
        booking=booking, reason=Refund.Reason.BOOKER_CANCELLED, keep_fee=True, rules=rules
    )
    organiser_services.give_back_pass_and_voucher(
        booking=booking, refund=refund, fee_left=rules.cancellation_fee - refund.fee_kept
    )
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_by = Booking.CancelledBy.BOOKER
    booking.cancelled_at = timezone.now()
    booking.save(update_fields=["status", "cancelled_by", "cancelled_at", "updated_at"])
    waiting_list_offer_places(event=booking.event)
    from bookings.tasks import booking_settle_cancellation

    transaction.on_commit(partial(booking_settle_cancellation.delay, booking.pk))
    return booking


@dataclass(frozen=True)
class CancelQuote:
    """What cancelling now gives back: the card refund (an unsaved Refund: amount, method, fee
    kept), the pass uses and the gift-voucher money that go back."""

    refund: Refund
    pass_uses_back: int = 0
    voucher_back: int = 0


def cancel_quote(*, booking: Booking) -> CancelQuote:
    rules = booking_rules.rules_for_event(event=booking.event)
    amount, fee = booking_rules.refund_amounts(rules=rules, total=booking.total, keep_fee=True)
    method = organiser_services.refund_method_for(booking=booking, method=rules.refund_method, amount=amount)
    refund = Refund(booking=booking, method=method, amount=amount, fee_kept=fee, currency=booking.currency)
    if method == BookingRules.RefundMethod.NONE:
        return CancelQuote(refund=refund)
    spent_pass = getattr(booking, "pass_redemption", None)
    spent_voucher = getattr(booking, "voucher_redemption", None)
    fee_left = rules.cancellation_fee - fee
    return CancelQuote(
        refund=refund,
        pass_uses_back=spent_pass.uses if spent_pass and not spent_pass.returned_at else 0,
        voucher_back=max(spent_voucher.amount - fee_left, 0)
        if spent_voucher and not spent_voucher.returned_at
        else 0,
    )


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
    the organiser's rules refuse it. Seats are checked again, under lock, by `transfer_booking`."""
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
    subtotal = ticket_type.price * len(attendees)
    discount, discount_reason = _member_discount(
        user=booking.user, organiser=booking.organiser, subtotal=subtotal
    )
    new_total = subtotal - discount
    if new_total > MAX_AMOUNT:
        raise BookingError(ERRORS["too_expensive"])
    difference = new_total - booking.total
    if reason := booking_rules.price_difference_block(rules=rules, difference=difference):
        raise BookingError(reason)
    refund_amount, refund_method = 0, BookingRules.RefundMethod.NONE
    if difference < 0 and rules.price_difference == BookingRules.PriceDifference.SETTLE:
        refund_method = organiser_services.refund_method_for(
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
    )


def transfer_ticket_choices(*, booking: Booking, target: Event, rules: BookingRules):
    """Step 2 of a move: each ticket type of `target` with its quote for this booking, or the
    booker-readable reason it can't be had (the rules, or too few places left)."""
    seats = len(booking.attendees.all())
    left = seats_left(target) if target.pk != booking.event_id else seats
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


def _check_room_for_move(booking: Booking, ticket_type: TicketType, seats: int) -> None:
    """Raise EventFull unless the booking's tickets fit `ticket_type`. Call with the events locked."""
    if ticket_type.event_id != booking.event_id:
        _check_capacity(ticket_type.event, [TicketRequest(ticket_type, "")] * seats)
        return
    if ticket_type.capacity is None:
        return  # same event, same seats: only a ticket type's own limit can stand in the way
    taken = (
        Attendee.objects.filter(ticket_type=ticket_type, booking__status__in=_HOLDING)
        .exclude(booking=booking)
        .count()
    )
    if taken + seats > ticket_type.capacity:
        left = max(ticket_type.capacity - taken, 0)
        raise EventFull(ERRORS["ticket_full"] % {"left": left, "ticket": ticket_type.name})


@transaction.atomic
def transfer_booking(
    *, booking: Booking, ticket_type: TicketType, idempotency_key: str, from_event: Event | None = None
) -> Transfer:
    """The booker moves their booking (every ticket of it) to `ticket_type`, as the rules allow.

    Both events are locked (ascending pk) and then the booking, so seats are counted once and
    two moves of the same booking queue. `from_event` is the event the booker saw: if the booking
    has moved since, nothing happens (BookingError). A move that costs the same or less completes
    here (a cheaper one records its refund; a task pays it and emails the booker after commit);
    a dearer one is returned PENDING for `transfer_start_payment`. The same idempotency key
    returns the first transfer. Raises BookingError, EventFull or Busy.
    """
    replay = Transfer.objects.filter(booking=booking, idempotency_key=idempotency_key).first()
    if replay:
        return replay
    from_event_id = from_event.pk if from_event else booking.event_id
    events = _lock_events(from_event_id, ticket_type.event_id)
    booking = _lock_booking(booking)
    replay = Transfer.objects.filter(booking=booking, idempotency_key=idempotency_key).first()
    if replay:
        return replay
    if booking.event_id != from_event_id:
        raise BookingError(ERRORS["booking_changed"])
    ticket_type = TicketType.objects.get(pk=ticket_type.pk)
    ticket_type.event = events[ticket_type.event_id]
    quote = transfer_quote(booking=booking, ticket_type=ticket_type)
    _check_room_for_move(booking, ticket_type, quote.seats)
    transfer = Transfer.objects.create(
        organiser_id=booking.organiser_id,
        booking=booking,
        from_event_id=booking.event_id,
        to_event=ticket_type.event,
        to_ticket_type=ticket_type,
        old_total=booking.total,
        new_total=quote.new_total,
        new_discount=quote.new_discount,
        new_discount_reason=quote.new_discount_reason,
        idempotency_key=idempotency_key,
    )
    if quote.to_pay == 0:
        _transfer_apply(transfer, booking, quote)
    return transfer


def _transfer_apply(transfer: Transfer, booking: Booking, quote: TransferQuote) -> None:
    """Move the booking. Call with both events and the booking locked, inside the transaction."""
    now = timezone.now()
    from_event = booking.event
    booking.attendees.update(
        ticket_type=quote.ticket_type,
        price=quote.ticket_type.price,
        attendance=Attendee.Attendance.UNMARKED,
        updated_at=now,
    )
    booking.event = quote.to_event
    booking.total = booking.total + quote.to_pay - quote.refund_amount
    booking.discount = quote.new_discount
    booking.discount_reason = quote.new_discount_reason
    # Links sent before the move stop working; the email about it carries a fresh one.
    booking.link_secret = links.secret_after_transfer(booking.link_secret, transfer.pk)
    booking.save(update_fields=["event", "total", "discount", "discount_reason", "link_secret", "updated_at"])
    transfer.status = Transfer.Status.COMPLETED
    transfer.completed_at = now
    transfer.save(update_fields=["status", "completed_at", "updated_at"])
    if quote.refund_amount:
        Refund.objects.create(
            organiser_id=booking.organiser_id,
            booking=booking,
            transfer=transfer,
            reason=Refund.Reason.TRANSFER,
            method=quote.refund_method,
            amount=quote.refund_amount,
            currency=booking.currency,
        )
    if from_event.pk != booking.event_id:
        waiting_list_offer_places(event=from_event)
    from bookings.tasks import transfer_settle

    transaction.on_commit(partial(transfer_settle.delay, transfer.pk))


def transfer_start_payment(*, transfer: Transfer, success_url: str, cancel_url: str):
    """Take the price difference of a dearer move. Runs outside any transaction (Stripe is
    slow); the offline gateway pays at once and the move completes here, Stripe's Checkout
    completes it through its webhook. Raises PaymentError."""
    booking = transfer.booking
    checkout = get_gateway().start_checkout(
        amount=transfer.difference,
        currency=booking.currency,
        description=f"Move {booking.reference} to {transfer.to_event.title}",
        customer_email=booking.booker_email,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"transfer-{transfer.pk}-payment",
        metadata={"transfer": str(transfer.pk), "organiser": booking.organiser.slug},
    )
    if checkout.paid:
        transfer_complete_payment(transfer=transfer, payment_reference=checkout.payment_reference)
    return checkout


@transaction.atomic
def transfer_complete_payment(*, transfer: Transfer, payment_reference: str) -> Transfer:
    """The extra payment for a dearer move is in: make the move. If the booking or the seats
    changed meanwhile the transfer FAILS and the payment is refunded. Safe to call twice."""
    transfer = Transfer.objects.get(pk=transfer.pk)
    events = _lock_events(transfer.from_event_id, transfer.to_event_id)
    booking = _lock_booking(transfer.booking)
    transfer = (
        Transfer.objects.select_for_update(of=("self",)).select_related("to_ticket_type").get(pk=transfer.pk)
    )
    if transfer.status != Transfer.Status.PENDING:
        return transfer
    transfer.payment_reference = payment_reference
    ticket_type = transfer.to_ticket_type
    ticket_type.event = events[transfer.to_event_id]
    try:
        if booking.event_id != transfer.from_event_id or booking.total != transfer.old_total:
            raise BookingError(ERRORS["booking_changed"])
        quote = transfer_quote(booking=booking, ticket_type=ticket_type)
        _check_room_for_move(booking, ticket_type, quote.seats)
    except EventFull:
        _transfer_fail(transfer, str(ERRORS["transfer_seats_gone"]))
        return transfer
    except BookingError as exc:
        _transfer_fail(transfer, str(exc.message))
        return transfer
    transfer.save(update_fields=["payment_reference", "updated_at"])
    _transfer_apply(transfer, booking, quote)
    return transfer


def _transfer_fail(transfer: Transfer, why: str) -> None:
    transfer.status = Transfer.Status.FAILED
    transfer.failure = why[:300]
    transfer.save(update_fields=["status", "failure", "payment_reference", "updated_at"])
    Refund.objects.create(
        organiser_id=transfer.organiser_id,
        booking_id=transfer.booking_id,
        transfer=transfer,
        reason=Refund.Reason.TRANSFER,
        method=BookingRules.RefundMethod.ORIGINAL,
        amount=transfer.difference,
        currency=transfer.booking.currency,
    )
    from bookings.tasks import transfer_settle

    transaction.on_commit(partial(transfer_settle.delay, transfer.pk))


def transfer_checkout_event(event_type: str, session: dict) -> None:
    """Stripe told us about a dearer move's Checkout Session. Paid: complete the move. Expired:
    the transfer simply stays unpaid (nothing was held). Idempotent."""
    transfer_id = (session.get("metadata") or {}).get("transfer")
    if not transfer_id or not str(transfer_id).isdigit():
        return
    transfer = Transfer.objects.filter(pk=int(transfer_id)).first()
    if transfer and event_type == "checkout.session.completed" and session.get("payment_status") == "paid":
        transfer_complete_payment(
            transfer=transfer, payment_reference=session.get("payment_intent") or session["id"]
        )


# The waiting list -------------------------------------------------------------------------------

OFFER_SALT = "bookings.waiting-list-offer"


def offer_token(entry: WaitingListEntry) -> str:
    return signing.dumps(str(entry.code), salt=OFFER_SALT)


def offer_url(entry: WaitingListEntry) -> str:
    from django.conf import settings

    path = reverse("event_book", args=[entry.event.organiser.slug, entry.event.code])
    return f"{settings.SITE_URL}{path}?offer={offer_token(entry)}"


def offer_for_token(*, event: Event, token: str) -> WaitingListEntry | None:
    """The live offer a signed link names for `event`, or None (tampered, used, expired)."""
    try:
        code = signing.loads(token, salt=OFFER_SALT)
    except signing.BadSignature:
        return None
    entry = WaitingListEntry.objects.filter(code=code, event=event).first()
    return entry if entry is not None and entry.offer_is_live else None


CONFIRM_SALT = "bookings.waiting-list-confirm"
CONFIRM_LINK_LIFETIME = timedelta(days=7)


def waiting_confirm_url(entry: WaitingListEntry) -> str:
    from django.conf import settings

    token = signing.dumps(str(entry.code), salt=CONFIRM_SALT)
    return settings.SITE_URL + reverse("bookings:waiting_confirm", args=[token])


def waiting_entry_for_confirm_token(token: str) -> WaitingListEntry | None:
    """The place a confirmation link names, or None (tampered, older than a week, or the place
    is closed: left, booked, expired)."""
    try:
        code = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_LINK_LIFETIME)
    except signing.BadSignature:
        return None
    entry = WaitingListEntry.objects.select_related("event", "organiser").filter(code=code).first()
    if entry is None or not (entry.is_open or entry.status == WaitingListEntry.Status.UNCONFIRMED):
        return None
    return entry


@transaction.atomic
def waiting_list_confirm(*, entry: WaitingListEntry) -> WaitingListEntry:
    """The address's owner confirmed their place (the emailed link): it joins the queue behind
    everyone who confirmed before, and is offered a free seat at once if there is one.
    Confirming twice, or an address already waiting, changes nothing.
    Raises BookingError if the event is cancelled or has started."""
    event = _lock_events(entry.event_id)[entry.event_id]
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


def _lock_live_offer(entry: WaitingListEntry, event: Event) -> WaitingListEntry:
    with lock_timeout():
        entry = WaitingListEntry.objects.select_for_update().filter(pk=entry.pk, event=event).first()
    if entry is None or not entry.offer_is_live:
        raise BookingError(ERRORS["offer_invalid"])
    return entry


def waiting_list_offer_places(*, event: Event) -> list[WaitingListEntry]:
    """Offer the places now free on `event` to the people waiting longest. Call inside the
    transaction, with the event row locked.

    Offers past their time are closed first, so their places pass to the next people. Each new
    offer holds its places for the rules' waiting_list_offer_hours and is emailed after commit.
    Strictly first come, first served: a party too big for the places left waits at the front.
    """
    now = timezone.now()
    WaitingListEntry.objects.filter(
        event=event, status=WaitingListEntry.Status.OFFERED, offer_expires_at__lte=now
    ).update(status=WaitingListEntry.Status.EXPIRED, updated_at=now)
    if event.is_cancelled or event.starts_at <= now:
        return []
    free = seats_left(event)
    if not free:
        return []
    hours = booking_rules.rules_for_event(event=event).waiting_list_offer_hours
    offered = []
    for entry in (
        WaitingListEntry.objects.filter(event=event)
        .waiting()
        .select_for_update()
        .order_by("confirmed_at", "pk")
    ):
        if entry.quantity > free:
            break
        entry.status = WaitingListEntry.Status.OFFERED
        entry.offer_expires_at = now + timedelta(hours=hours)
        entry.save(update_fields=["status", "offer_expires_at", "updated_at"])
        free -= entry.quantity
        offered.append(entry)
    from bookings.tasks import waiting_list_send_offer

    for entry in offered:
        transaction.on_commit(partial(waiting_list_send_offer.delay, entry.pk))
    return offered


def waiting_list_offer_due() -> int:
    """For the periodic task: move on expired offers and offer places freed by a raised
    capacity, for every upcoming event with people waiting. Returns how many offers were made."""
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
    event = _lock_events(event.pk)[event.pk]
    return waiting_list_offer_places(event=event)


@transaction.atomic
def leave_waiting_list(*, entry: WaitingListEntry) -> WaitingListEntry:
    """The booker leaves the waiting list. A place held for them passes to the next person.
    Leaving twice changes nothing."""
    event = _lock_events(entry.event_id)[entry.event_id]
    with lock_timeout():
        entry = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
    if not entry.is_open:
        return entry
    was_offered = entry.status == WaitingListEntry.Status.OFFERED
    entry.status = WaitingListEntry.Status.LEFT
    entry.save(update_fields=["status", "updated_at"])
    if was_offered:
        waiting_list_offer_places(event=event)
    return entry
