"""Making a booking: the request, the seats, the payment, and Stripe's word on it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import booker_create
from bookings import capacity, pricing
from bookings.exceptions import ERRORS, BookingError, EventFull, FormAlreadyUsed, PriceChanged
from bookings.models import (
    Attendee,
    Booking,
    BookingFormField,
    BookingFormResponse,
    Event,
    TicketType,
    WaitingListEntry,
)
from bookings.services import refunds
from bookings.tasks import booking_send_confirmation as booking_send_confirmation_task
from passes.services import pass_redeem
from portal.locking import lock_timeout
from portal.money import MAX_AMOUNT, format_money
from portal.payments import get_gateway
from portal.sql import Prepared
from vouchers.selectors import voucher_balance_for_booking
from vouchers.services import voucher_redeem, voucher_return

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketRequest:
    ticket_type: TicketType
    attendee_name: str
    is_child: bool = False


@dataclass(frozen=True)
class Booker:
    """Who books: their details as typed, and their account when they are logged in."""

    name: str
    email: str
    phone: str = ""
    user: object | None = None


@dataclass(frozen=True)
class BookingRequest:
    """One submit of the booking form. A paid booking may be paid with uses of `pass_` (one per
    ticket) or from the voucher with `voucher_code`, not both. With `waiting_offer` the booker
    may also take the places held for that offer."""

    event: Event
    booker: Booker
    tickets: list[TicketRequest]
    idempotency_key: str
    answers: dict[BookingFormField, str] = field(default_factory=dict)
    booked_from: str = ""
    waiting_offer: WaitingListEntry | None = None
    pass_: object | None = None
    voucher_code: str = ""
    # Spend the booker's included bookings (a member's allowance) on this booking, if they have
    # any left; False to pay instead.
    use_included: bool = True
    # The amount the pay button showed: when given and the booking costs another amount now,
    # PriceChanged and nothing is booked.
    expected_to_pay: int | None = None


@dataclass(frozen=True)
class Submitted:
    booking: Booking
    replayed: bool  # an earlier submit of the same form made it


@dataclass(frozen=True)
class PlacedBooking:
    booking: Booking
    replayed: bool
    new_account: object | None = None  # the account this very submit made, to log in
    account_exists: bool = False  # an account was asked for an address that already has one


def booking_create(*, request: BookingRequest) -> Booking:
    """`booking_submit`, for callers that need only the booking."""
    return booking_submit(request=request).booking


# The booking an earlier post of the same form made (the key is unique per organiser): asked
# under the event lock on every booking.
_WITH_KEY = Prepared(
    lambda organiser, key: Booking.objects.for_organiser(organiser).filter(idempotency_key=key),
    organiser=-920_000_001,
    key="\x00idempotency-key\x00",
)


def _booking_with_key(organiser_id: int, idempotency_key: str) -> Booking | None:
    found = _WITH_KEY.fetch(organiser=organiser_id, key=idempotency_key)
    return found[0][0] if found else None


@transaction.atomic
def booking_submit(*, request: BookingRequest, may_replay: bool = True) -> Submitted:
    """Reserve seats and record the booking.

    The event row is locked while its seat counters are read and written, so two bookers racing
    for the last seat never both get it. A paid booking starts PENDING (its seats held) until
    `booking_confirm_payment`; a free one is confirmed at once. Posting the same form twice
    (same idempotency key) returns the first booking, marked `replayed`, but only to the same
    booker (same email, and the same account when one is given) and only when the caller says
    the key is the requester's own (`may_replay`: the page checks it was issued to the browser
    session); otherwise FormAlreadyUsed, and nothing of that booking is handed back. A waiting-list
    offer used to book is used up. A pass or voucher pays in this transaction: its row is locked
    after the event row.

    Raises BookingError (event cancelled or started, no tickets), FormAlreadyUsed, EventFull,
    PassError or VoucherError.
    """
    tickets, booker = request.tickets, request.booker
    if not tickets:
        raise BookingError(ERRORS["no_tickets"])
    if request.pass_ is not None and request.voucher_code:
        raise BookingError(ERRORS["pass_and_voucher"])
    event = request.event
    # Already sold out as the caller read the event? Say so at once rather than queue for the
    # lock behind the bookers who got the seats (when a popular class opens, most requests end
    # here). Held places are left out: some may have run out; the lock's count decides.
    if (
        request.waiting_offer is None
        and len(tickets) > capacity.seats_left(event, held=0)
        and not _booking_with_key(event.organiser_id, request.idempotency_key)
    ):
        raise EventFull()
    organiser = event.organiser
    event = capacity.events_lock(event.pk)[event.pk]
    event.organiser = organiser
    # Checked under the lock, so a double submit racing itself waits and then finds the first.
    existing = _booking_with_key(event.organiser_id, request.idempotency_key)
    if existing:
        if (
            not may_replay
            or existing.booker_email != booker.email.lower()
            or (booker.user is not None and existing.user_id != booker.user.pk)
        ):
            raise FormAlreadyUsed()
        return Submitted(booking=existing, replayed=True)
    if event.is_cancelled:
        raise BookingError(ERRORS["cancelled"])
    if event.has_started:
        raise BookingError(ERRORS["started"])
    offer = _lock_live_offer(request.waiting_offer, event) if request.waiting_offer else None
    if offer and len(tickets) > offer.quantity:
        raise BookingError(ERRORS["offer_too_many"] % {"quantity": offer.quantity})
    capacity.seats_check(event, [t.ticket_type for t in tickets], offer=offer)

    included = None
    if request.use_included and request.pass_ is None:
        # Locks the row that holds the allowance (after the event row) until commit.
        included = pricing.included_offer(user=booker.user, organiser=organiser, lock=True)
    price = _price(request, organiser, included)
    total = price.total
    if total > MAX_AMOUNT:
        raise BookingError(ERRORS["too_expensive"])
    if request.expected_to_pay is not None and request.expected_to_pay != price.to_pay:
        raise PriceChanged(
            ERRORS["price_changed"] % {"amount": format_money(price.to_pay, organiser.currency)}
        )
    if offer:
        WaitingListEntry.objects.filter(pk=offer.pk).update(
            status=WaitingListEntry.Status.BOOKED, updated_at=timezone.now()
        )
    held = offer.quantity if offer and offer.status == WaitingListEntry.Status.OFFERED else 0
    capacity.seats_count(event, taken=len(tickets), held=-held)
    booking = Booking(
        organiser=organiser,
        event=event,
        user=booker.user,
        booker_name=booker.name,
        booker_email=booker.email.lower(),
        booker_phone=booker.phone,
        status=Booking.Status.PENDING if total else Booking.Status.CONFIRMED,
        total=total,
        discount=price.discount,
        discount_reason=price.discount_reason,
        included_amount=price.included_amount,
        included_reason=price.included_reason,
        currency=organiser.currency,
        payment_method=_payment_method(price),
        booked_from=request.booked_from,
        idempotency_key=request.idempotency_key,
    )
    # Field checks only: the foreign keys were just loaded, and uniqueness is the database's job
    # (checking it here would cost four queries per booking under the event lock).
    booking.full_clean(
        exclude=["user", "organiser", "event"], validate_unique=False, validate_constraints=False
    )
    booking.save()
    included_ones = pricing.included_tickets(
        [t.ticket_type.price for t in tickets], used=price.included_tickets
    )
    Attendee.objects.bulk_create(
        Attendee(
            organiser=organiser,
            booking=booking,
            ticket_type=t.ticket_type,
            name=t.attendee_name,
            is_child=t.is_child,
            price=t.ticket_type.price,
            included=n in included_ones,
        )
        for n, t in enumerate(tickets)
    )
    BookingFormResponse.objects.bulk_create(
        BookingFormResponse(
            organiser=organiser, booking=booking, field=field, label=field.label, answer=answer
        )
        for field, answer in request.answers.items()
    )
    if price.included_tickets:
        pricing.included_spend(offer=included, booking=booking, tickets=price.included_tickets)
    if booking.total and request.pass_ is not None:
        pass_redeem(pass_=request.pass_, booking=booking)
        booking.refresh_from_db()
    elif booking.total and request.voucher_code:
        voucher_redeem(code=request.voucher_code, booking=booking, amount=booking.total)
        booking.refresh_from_db()
    if booking.status == Booking.Status.CONFIRMED:
        _send_confirmation_on_commit(booking)
    return Submitted(booking=booking, replayed=False)


def _price(request: BookingRequest, organiser, included: pricing.IncludedOffer | None) -> pricing.Price:
    """What the booking costs and what pays for it (`pricing.booking_price`, the arithmetic the
    booking page shows on its pay button). Call under the event lock."""
    user = request.booker.user
    voucher_balance = 0
    if request.voucher_code and request.pass_ is None:
        voucher_balance = voucher_balance_for_booking(code=request.voucher_code, organiser=organiser) or 0
    return pricing.booking_price(
        prices=[t.ticket_type.price for t in request.tickets],
        user=user,
        organiser=organiser,
        included=included,
        pays_with_pass=request.pass_ is not None,
        voucher_balance=voucher_balance,
    )


def _payment_method(price: pricing.Price) -> str:
    if price.total:
        return Booking.PaymentMethod.CARD
    return Booking.PaymentMethod.MEMBERSHIP if price.included_amount else Booking.PaymentMethod.FREE


def _lock_live_offer(entry: WaitingListEntry, event: Event) -> WaitingListEntry:
    with lock_timeout():
        entry = WaitingListEntry.objects.select_for_update().filter(pk=entry.pk, event=event).first()
    if entry is None or not entry.may_claim:  # a live offer, or a notice (nothing held)
        raise BookingError(ERRORS["offer_invalid"])
    return entry


def booking_place(
    *, request: BookingRequest, new_account_password: str | None = None, may_replay: bool = True
) -> PlacedBooking:
    """A booking as the public page makes it: when the booker ticked "Create an account", the
    account and the booking are made together, or neither is. A replayed form makes no account
    (`booking_submit` refuses the key, or returns the booking an earlier submit made).

    An account asked for an address that already has one is not made and not refused (that would
    tell a stranger the address has an account): the booking is a guest's, `account_exists` says
    so, and the page emails the address's owner instead."""
    email = request.booker.email
    if not new_account_password or User.objects.filter(email__iexact=email).exists():
        submitted = booking_submit(request=request, may_replay=may_replay)  # one transaction, no savepoint
        return PlacedBooking(
            booking=submitted.booking, replayed=submitted.replayed, account_exists=bool(new_account_password)
        )
    try:
        with transaction.atomic():
            user = booker_create(email=email, password=new_account_password, name=request.booker.name)
            with_account = replace(request, booker=replace(request.booker, user=user))
            submitted = booking_submit(request=with_account, may_replay=may_replay)
            if submitted.replayed:  # never here: the key's booking has another user, so it is refused
                raise FormAlreadyUsed()
            return PlacedBooking(booking=submitted.booking, replayed=False, new_account=user)
    except IntegrityError:
        if not User.objects.filter(email__iexact=email).exists():
            raise
        # The same address signed up a moment ago: as above, a guest's booking.
        submitted = booking_submit(request=request, may_replay=may_replay)
        return PlacedBooking(booking=submitted.booking, replayed=submitted.replayed, account_exists=True)


def _send_confirmation_on_commit(booking: Booking) -> None:
    transaction.on_commit(partial(booking_send_confirmation_task.delay, booking.pk))


# Payment ----------------------------------------------------------------------------------------


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
    locked = booking_lock(booking)
    if locked.is_cancelled and not locked.payment_reference and locked.total and payment_reference:
        refunds.refund_payment_after_cancellation(booking=locked, payment_reference=payment_reference)
    booking.status, booking.payment_reference = locked.status, locked.payment_reference
    return False


def booking_lock(booking: Booking) -> Booking:
    """Lock the booking row and read it afresh, with its event and organiser. Where the event is
    locked too, its lock comes first (`capacity.events_lock`): the lock order everywhere."""
    with lock_timeout():
        return (
            Booking.objects.select_for_update(of=("self",))
            .select_related("event", "organiser")
            .get(pk=booking.pk)
        )


@transaction.atomic
def booking_expire(*, booking: Booking) -> Booking:
    """A pending booking's payment never came (its Checkout expired): it is cancelled, its seats
    go back to the event, and what a voucher paid of it goes back on the voucher. Nothing happens
    to a booking that is no longer pending, except that a voucher part still spent on a cancelled
    one goes back. Safe to call twice."""
    events = capacity.events_lock(booking.event_id)
    booking = booking_lock(booking)
    if booking.status == Booking.Status.PENDING and booking.event_id in events:
        now = timezone.now()
        booking.status, booking.cancelled_at = Booking.Status.CANCELLED, now
        booking.save(update_fields=["status", "cancelled_at", "updated_at"])
        capacity.seats_count(events[booking.event_id], taken=-booking.attendees.count())
    if booking.is_cancelled:
        voucher_return(booking=booking)
        pricing.included_give_back(booking=booking)
    return booking


def booking_checkout_event(event_type: str, session: dict) -> None:
    """Stripe told us about a booking's Checkout Session (payment mode). Paid: confirm the
    booking. Expired unpaid: release its seats and any voucher part (`booking_expire`). Both are
    no-ops the second time."""
    reference = (session.get("metadata") or {}).get("booking")
    booking = Booking.objects.filter(reference=reference).first() if reference else None
    if booking is None:
        return
    if event_type == "checkout.session.completed" and session.get("payment_status") == "paid":
        booking_confirm_payment(
            booking=booking, payment_reference=session.get("payment_intent") or session["id"]
        )
    elif event_type == "checkout.session.expired":
        booking_expire(booking=booking)
