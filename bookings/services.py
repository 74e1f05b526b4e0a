"""Booking: the writes. Each public function is one business operation in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from bookings.exceptions import ERRORS, BookingError, EventFull
from bookings.models import (
    Attendee,
    Booking,
    BookingFormField,
    BookingFormResponse,
    Event,
    TicketType,
    WaitingListEntry,
)
from memberships.services import membership_discount_for
from portal.locking import lock_timeout
from portal.payments import get_gateway


@dataclass(frozen=True)
class TicketRequest:
    ticket_type: TicketType
    attendee_name: str
    is_child: bool = False


# Pending bookings hold their seats while the payment is under way.
_HOLDING = [Booking.Status.CONFIRMED, Booking.Status.PENDING]


def seats_taken(event: Event) -> int:
    return Attendee.objects.filter(booking__event=event, booking__status__in=_HOLDING).count()


def seats_left(event: Event) -> int:
    return max(event.capacity - seats_taken(event), 0)


def _check_capacity(event: Event, tickets: list[TicketRequest]) -> None:
    """Raise EventFull unless every ticket fits. Call with the event row locked."""
    if len(tickets) > seats_left(event):
        raise EventFull()
    wanted = Counter(t.ticket_type.pk for t in tickets)
    limited = {tt.pk: tt for tt in event.ticket_types.filter(pk__in=wanted, capacity__isnull=False)}
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


@transaction.atomic
def booking_create(
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
) -> Booking:
    """Reserve seats and record the booking.

    The event row is locked while seats are counted, so two bookers racing for the last seat
    never both get it. A paid booking starts PENDING (its seats held) until
    `booking_confirm_payment`; a free one is confirmed at once. Posting the same form twice
    (same idempotency key) returns the first booking.

    Raises BookingError (event cancelled or started, no tickets) or EventFull.
    """
    if not tickets:
        raise BookingError(ERRORS["no_tickets"])
    with lock_timeout():
        event = Event.objects.select_for_update().get(pk=event.pk)
    # Checked under the lock, so a double submit racing itself waits and then finds the first.
    existing = Booking.objects.for_organiser(event.organiser).filter(idempotency_key=idempotency_key).first()
    if existing:
        return existing
    if event.is_cancelled:
        raise BookingError(ERRORS["cancelled"])
    if event.has_started:
        raise BookingError(ERRORS["started"])
    _check_capacity(event, tickets)

    subtotal = sum(t.ticket_type.price for t in tickets)
    discount, discount_reason = _member_discount(user=user, organiser=event.organiser, subtotal=subtotal)
    total = subtotal - discount
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
    booking.full_clean(exclude=["user"])
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
    if booking.status == Booking.Status.CONFIRMED:
        _send_confirmation_on_commit(booking)
    return booking


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
    that moves it from PENDING sends the confirmation."""
    moved = Booking.objects.filter(pk=booking.pk, status=Booking.Status.PENDING).update(
        status=Booking.Status.CONFIRMED, payment_reference=payment_reference, updated_at=timezone.now()
    )
    if moved:
        booking.refresh_from_db()
        _send_confirmation_on_commit(booking)
    return bool(moved)


def _send_confirmation_on_commit(booking: Booking) -> None:
    from bookings.tasks import booking_send_confirmation

    transaction.on_commit(partial(booking_send_confirmation.delay, booking.pk))


@transaction.atomic
def waiting_list_join(
    *, event: Event, name: str, email: str, quantity: int = 1, user=None
) -> WaitingListEntry:
    """Join the waiting list of a full event. Raises BookingError if already waiting or
    if the event still has places."""
    with lock_timeout():
        event = Event.objects.select_for_update().get(pk=event.pk)
    if event.is_cancelled or event.has_started:
        raise BookingError(ERRORS["cancelled" if event.is_cancelled else "started"])
    if seats_left(event) >= quantity:
        raise BookingError(ERRORS["waiting_not_full"])
    email = email.lower()
    if WaitingListEntry.objects.filter(event=event, email=email).waiting().exists():
        raise BookingError(ERRORS["waiting_duplicate"])
    return WaitingListEntry.objects.create(
        organiser=event.organiser, event=event, user=user, name=name, email=email, quantity=quantity
    )


@transaction.atomic
def bookings_claim_for_verified_email(*, user, email: str) -> int:
    """Give a user the bookings and waiting-list places made with an email they have just
    proved is theirs (verification or password reset). Never call it on an unverified claim."""
    claimed = Booking.objects.filter(user__isnull=True, booker_email__iexact=email).update(user=user)
    WaitingListEntry.objects.filter(user__isnull=True, email__iexact=email).update(user=user)
    return claimed


@transaction.atomic
def booking_place(*, new_account_password: str | None = None, **booking_fields) -> Booking:
    """A booking as the public page makes it: when the booker ticked "Create an account", the
    account and the booking are made together, or neither is."""
    if new_account_password:
        from accounts.services import booker_create

        booking_fields["user"] = booker_create(
            email=booking_fields["booker_email"],
            password=new_account_password,
            name=booking_fields["booker_name"],
        )
    return booking_create(**booking_fields)


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
