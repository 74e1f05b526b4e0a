"""A booker giving a ticket to someone else: the offer, its withdrawal, and its acceptance,
which makes the ticket the recipient's own booking. No money moves: the ticket takes its share
of what the booking paid with it (a later refund of it goes to the payment it was bought with)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from bookings import capacity, pricing, selectors
from bookings import rules as booking_rules
from bookings.exceptions import ERRORS, BookingError
from bookings.models import Attendee, Booking, TicketGift
from bookings.services.booking import booking_lock
from bookings.tasks import booking_send_confirmation as booking_send_confirmation_task
from bookings.tasks import ticket_gift_send_accepted as ticket_gift_send_accepted_task
from bookings.tasks import ticket_gift_send_expired as ticket_gift_send_expired_task
from bookings.tasks import ticket_gift_send_offer as ticket_gift_send_offer_task
from portal.locking import lock_timeout

GIFT_LIFETIME = timedelta(days=7)


@transaction.atomic
def ticket_gift_create(
    *, booking: Booking, attendee_id: int, recipient_name: str, recipient_email: str, idempotency_key: str
) -> TicketGift:
    """Offer one ticket of `booking` to `recipient_email`, as the organiser's rules allow now
    (`rules.gift_blocked_reason`). The offer is emailed after commit with a signed accept link;
    it runs out after GIFT_LIFETIME or at the rules' cut-off, whichever is first. One open offer
    per ticket. The same key again returns the first offer. Raises BookingError."""
    capacity.events_lock(booking.event_id)
    booking = booking_lock(booking)
    replay = booking.gifts.filter(idempotency_key=idempotency_key).first()
    if replay is not None:
        return replay
    rules = booking_rules.rules_for_event(event=booking.event)
    if reason := booking_rules.gift_blocked_reason(booking=booking, rules=rules):
        raise BookingError(reason)
    attendee = booking.attendees.select_related("ticket_type").filter(pk=attendee_id).first()
    if attendee is None:
        raise BookingError(ERRORS["tickets_changed"])
    if attendee.included:  # the member's own allowance paid for it: not theirs to give
        raise BookingError(ERRORS["gift_included"] % {"organiser": booking.organiser.name})
    if recipient_email.lower() == booking.booker_email.lower():
        raise BookingError(ERRORS["gift_to_self"])
    now = timezone.now()
    TicketGift.objects.filter(
        attendee=attendee, status=TicketGift.Status.PENDING, expires_at__lte=now
    ).update(status=TicketGift.Status.EXPIRED, updated_at=now)
    pending = TicketGift.objects.filter(attendee=attendee, status=TicketGift.Status.PENDING).first()
    if pending is not None:
        raise BookingError(ERRORS["gift_pending"] % {"name": pending.recipient_name})
    gift = TicketGift.objects.create(
        organiser_id=booking.organiser_id,
        booking=booking,
        attendee=attendee,
        ticket_label=f"{attendee.name} ({attendee.ticket_type.name})",
        recipient_name=recipient_name,
        recipient_email=recipient_email.lower(),
        expires_at=min(
            now + GIFT_LIFETIME, booking.event.starts_at - timedelta(hours=rules.gift_cutoff_hours)
        ),
        idempotency_key=idempotency_key,
    )
    transaction.on_commit(partial(ticket_gift_send_offer_task.delay, gift.pk))
    return gift


@transaction.atomic
def ticket_gift_withdraw(*, gift: TicketGift) -> TicketGift:
    """The giver takes an offer back, until it is accepted. Withdrawing twice changes nothing.
    Raises BookingError once the recipient has accepted."""
    gift = _lock_gift(gift)
    if gift.status == TicketGift.Status.ACCEPTED:
        raise BookingError(ERRORS["gift_accepted"] % {"name": gift.recipient_name})
    if gift.status == TicketGift.Status.PENDING:
        gift.status = TicketGift.Status.WITHDRAWN
        gift.save(update_fields=["status", "updated_at"])
    return gift


@transaction.atomic
def ticket_gift_accept(*, gift: TicketGift) -> TicketGift:
    """The recipient accepts: the ticket leaves the giver's booking and becomes a new confirmed
    booking in the recipient's name and email (its own reference and View booking link, emailed
    after commit; it joins an account once that account proves the address, as any booking
    made with it). The ticket's share of the booking's total and discount goes with it. A giver
    left without tickets has their booking closed as "given away" (nothing to refund). The giver
    is emailed that it was accepted, after commit.

    Locks the event, then the giver's booking, then the offer: a cancel or transfer of the ticket
    racing the accept either withdraws the offer first or finds the ticket gone. Accepting twice
    returns the first acceptance. Raises BookingError when the offer is no longer open."""
    gift = _lock_gift(gift)
    if gift.status == TicketGift.Status.ACCEPTED:
        return gift
    booking = gift.booking
    attendee = booking.attendees.filter(pk=gift.attendee_id).first() if gift.attendee_id else None
    if (
        not gift.is_open
        or attendee is None
        or attendee.included
        # The rules as they stand (gifts switched off since, the booking paid otherwise now), with
        # the time check left to the offer's own expiry, which the cut-off set.
        or booking_rules.gift_blocked_reason(
            booking=booking, rules=booking_rules.rules_for_event(event=booking.event), now=gift.created_at
        )
        or booking.event.is_cancelled
        or booking.event.has_started
        or booking.status != Booking.Status.CONFIRMED
    ):
        raise BookingError(ERRORS["gift_closed"])
    new = booking_split_off(
        booking=booking, attendees=[attendee], name=gift.recipient_name, email=gift.recipient_email
    )
    Attendee.objects.filter(pk=attendee.pk).update(name=gift.recipient_name, updated_at=timezone.now())
    gift.status, gift.accepted_at, gift.new_booking = TicketGift.Status.ACCEPTED, timezone.now(), new
    gift.save(update_fields=["status", "accepted_at", "new_booking", "updated_at"])
    if not booking.attendees.exists():
        booking.status, booking.cancelled_by = Booking.Status.CANCELLED, Booking.CancelledBy.GIVEN
        booking.cancelled_at = timezone.now()
        booking.save(update_fields=["status", "cancelled_by", "cancelled_at", "updated_at"])
    transaction.on_commit(partial(booking_send_confirmation_task.delay, new.pk))
    transaction.on_commit(partial(ticket_gift_send_accepted_task.delay, gift.pk))  # the giver
    return gift


def ticket_gifts_expire_due(*, batch: int = 500) -> int:
    """Offers still open past their expiry are closed (EXPIRED) and each giver is emailed after
    commit that the ticket stays theirs. The status changes only while it is still PENDING, so
    an accept or a withdrawal that got there first stands (an accept checks the expiry under
    its lock). Returns how many were closed."""
    now = timezone.now()
    due = TicketGift.objects.filter(status=TicketGift.Status.PENDING, expires_at__lte=now)
    closed = 0
    for pk in list(due.order_by("pk").values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            if TicketGift.objects.filter(pk=pk, status=TicketGift.Status.PENDING, expires_at__lte=now).update(
                status=TicketGift.Status.EXPIRED, updated_at=now
            ):
                closed += 1
                transaction.on_commit(partial(ticket_gift_send_expired_task.delay, pk))
    return closed


def booking_split_off(
    *,
    booking: Booking,
    attendees: list[Attendee],
    name: str,
    email: str,
    user=None,
    idempotency_key: str | None = None,
) -> Booking:
    """A new confirmed booking at the same event holding `attendees`, for `name` and `email`
    (and `user`), with their share of what `booking` paid (`selectors.ticket_shares`: card money
    and discount); `booking` keeps the rest. The seats stay taken (the tickets stay at the
    event). Call with the event and `booking` locked."""
    quote = selectors.cancel_quote(booking=booking, ticket_ids=[attendee.pk for attendee in attendees])
    included = [attendee for attendee in attendees if attendee.included]
    included_amount = sum(attendee.price for attendee in included)
    new = Booking.objects.create(
        organiser_id=booking.organiser_id,
        event_id=booking.event_id,
        user=user,
        booker_name=name,
        booker_email=email.lower(),
        booker_phone=booking.booker_phone if user is not None and user.pk == booking.user_id else "",
        idempotency_key=idempotency_key,
        status=Booking.Status.CONFIRMED,
        total=quote.card_share,
        discount=quote.discount_share,
        discount_reason=booking.discount_reason if quote.discount_share else "",
        included_amount=included_amount,
        included_reason=booking.included_reason if included_amount else "",
        currency=booking.currency,
        payment_method=booking.payment_method
        if quote.card_share
        else (Booking.PaymentMethod.MEMBERSHIP if included_amount else Booking.PaymentMethod.FREE),
        payment_reference=booking.payment_reference if quote.card_share else "",
        booked_from=booking.booked_from,
    )
    Attendee.objects.filter(pk__in=[attendee.pk for attendee in attendees]).update(
        booking=new, updated_at=timezone.now()
    )
    if included:  # the membership's included bookings they took go with them, still spent
        pricing.included_hand_over(booking=booking, to_reference=new.reference, tickets=len(included))
        new.included_reason = pricing.included_reason(booking=new, tickets=len(included))
        new.save(update_fields=["included_reason", "updated_at"])
        staying = booking.attendees.filter(included=True).count()  # the moved ones have left
        booking.included_reason = pricing.included_reason(booking=booking, tickets=staying)
    booking.total -= quote.card_share
    booking.discount -= quote.discount_share
    booking.included_amount -= included_amount
    if not booking.included_amount:
        booking.included_reason = ""
    booking.save(update_fields=["total", "discount", "included_amount", "included_reason", "updated_at"])
    return new


def _lock_gift(gift: TicketGift) -> TicketGift:
    """Lock the giver's event, then their booking, then the offer (the lock order everywhere);
    the offer comes back afresh with the locked booking and event."""
    gift = TicketGift.objects.select_related("booking").get(pk=gift.pk)
    events = capacity.events_lock(gift.booking.event_id)
    booking = booking_lock(gift.booking)
    if booking.event_id in events:
        booking.event = events[booking.event_id]
        booking.event.organiser = booking.organiser
    with lock_timeout():
        gift = TicketGift.objects.select_for_update().get(pk=gift.pk)
    gift.booking = booking
    return gift
