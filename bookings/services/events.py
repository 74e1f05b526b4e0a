"""The organiser's changes to an event: cancelling it, changing its capacity, marking attendance.

The admin's actions and forms call these; they never set status fields or counters themselves.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookings import capacity
from bookings import rules as booking_rules
from bookings.exceptions import ORGANISER_ERRORS as ERRORS
from bookings.exceptions import OrganiserError
from bookings.models import Attendee, Booking, BookingRules, Event, Refund
from bookings.services import refunds
from bookings.tasks import booking_settle_cancellation as booking_settle_cancellation_task
from portal.locking import lock_timeout
from portal.models import Organiser

CANCELLATION_MESSAGE_MAX = 1000


def event_cancel(*, event: Event, message: str = "", offer_rebooking: bool = False) -> list[int]:
    """Cancel `event` and every booking of it; refund and email each paid-up booker once.

    Every confirmed booking is cancelled by the organiser (bookers find it in their Cancelled
    tab) and refunded in full to how it was paid, whatever the rules say for the booker's own
    cancellations: the law entitles bookers to their money back when the trader cancels. Card
    payments go back to the card (held for a week while the booker may take credit instead, when
    the rules prefer credit), pass uses to the pass, gift-voucher money to the voucher. After
    commit one task per booking pays the refund and sends the email, which carries the
    organiser's `message` and, with `offer_rebooking`, a link to book another date. Bookings
    still awaiting payment are cancelled without either, as no money was taken. Every seat goes
    back (the event's counter of taken seats is 0 afterwards).

    Safe to run twice: a cancelled event changes nothing, and the settling tasks of its bookings
    are queued again only while a refund is unpaid or an email unsent (so a second run retries
    a failed refund). Returns the ids of the bookings whose settling was queued.
    Raises OrganiserError if the event has already ended, Busy if the event is locked too long.
    """
    message = message.strip()
    if len(message) > CANCELLATION_MESSAGE_MAX:
        raise OrganiserError(ERRORS["message_too_long"] % {"max": CANCELLATION_MESSAGE_MAX})
    now = timezone.now()
    with transaction.atomic():
        # Lock the event first, as booking does, so no booking slips in while we cancel.
        event = capacity.events_lock(event.pk)[event.pk]
        if not event.is_cancelled:
            if event.ends_at <= now:
                raise OrganiserError(ERRORS["event_ended"] % {"event": event.title})
            event.status = Event.Status.CANCELLED
            event.cancelled_at = now
            event.cancellation_message = message
            event.cancellation_offers_rebooking = offer_rebooking
            event.save(
                update_fields=[
                    "status",
                    "cancelled_at",
                    "cancellation_message",
                    "cancellation_offers_rebooking",
                    "updated_at",
                ]
            )

        bookings = Booking.objects.for_organiser(event.organiser_id).filter(event=event)
        with lock_timeout():
            open_bookings = list(
                bookings.filter(status__in=capacity.HOLDING).select_for_update().order_by("pk")
            )
        rules = booking_rules.rules_for_event(event=event)
        for booking in open_bookings:
            was_confirmed = booking.status == Booking.Status.CONFIRMED
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_by = Booking.CancelledBy.ORGANISER
            booking.cancelled_at = now
            booking.save(update_fields=["status", "cancelled_by", "cancelled_at", "updated_at"])
            if was_confirmed:
                refund = refunds.refund_record(
                    booking=booking,
                    reason=Refund.Reason.EVENT_CANCELLED,
                    keep_fee=False,
                    rules=rules,
                    method=BookingRules.RefundMethod.ORIGINAL,
                )
                refunds.refund_give_back_pass_and_voucher(booking=booking, refund=refund, fee_left=0)
                if rules.refund_method == BookingRules.RefundMethod.CREDIT:
                    refunds.refund_credit_offer(refund=refund)
        # No booking of the event holds a seat any more.
        capacity.seats_count(event, taken=-event.seats_taken)

        unsettled = list(
            Refund.objects.for_organiser(event.organiser_id)
            .filter(booking__event=event, reason=Refund.Reason.EVENT_CANCELLED)
            .filter(Q(status=Refund.Status.PENDING) | Q(booking__cancellation_sent_at__isnull=True))
            .order_by("booking_id")
            .values_list("booking_id", flat=True)
        )
        for booking_id in unsettled:
            transaction.on_commit(partial(booking_settle_cancellation_task.delay, booking_id))
    return unsettled


def event_capacity_check(*, event: Event, capacity_wanted: int) -> Event:
    """Lock `event` and refuse a capacity below the places it has booked and held (OrganiserError
    saying how many). Call in the transaction that then saves the new capacity (the admin's form
    does, in the admin's transaction), so that no booking takes a place in between; places a
    raised capacity frees are then offered with `waiting_list_offer_places_now`. Returns the
    locked event."""
    locked = capacity.events_lock(event.pk)[event.pk]
    if capacity_wanted < locked.seats_taken + locked.seats_held:
        key = "capacity_below_held" if locked.seats_held else "capacity_below_taken"
        raise OrganiserError(ERRORS[key] % {"taken": locked.seats_taken, "held": locked.seats_held})
    return locked


def attendance_mark(*, organiser: Organiser, attendee_ids, attendance: str) -> int:
    """Mark attendees of `organiser` as attended, absent (did not attend) or unmarked.

    Only that organiser's attendees of confirmed bookings at events that have started are
    changed; other ids are ignored, never an error. Returns how many were changed.
    Raises OrganiserError when the organiser has no attendance tracking."""
    if not organiser.attendance_tracking:
        raise OrganiserError(ERRORS["no_tracking"] % {"organiser": organiser.name})
    if attendance not in Attendee.Attendance.values:
        raise OrganiserError(ERRORS["bad_attendance"])
    now = timezone.now()
    with transaction.atomic():
        return (
            Attendee.objects.for_organiser(organiser)
            .filter(
                pk__in=list(attendee_ids),
                booking__status=Booking.Status.CONFIRMED,
                booking__event__starts_at__lte=now,
            )
            .update(attendance=attendance, updated_at=now)
        )
