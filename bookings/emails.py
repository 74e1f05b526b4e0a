"""Emails to bookers. Each send is claimed first so a retried or duplicated task sends once."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bookings import links
from bookings.models import Booking, Refund, Transfer, WaitingListEntry
from portal.emails import send_templated_email
from portal.money import format_money


def booking_send_confirmation(*, booking_id: int) -> bool:
    """Send the confirmation with a View booking link, at most once per booking.

    The claim (confirmation_sent_at) is a conditional update: a second task finds it taken and
    stops. If sending fails the claim is released so the task's retry can send it.
    """
    now = timezone.now()
    claimed = Booking.objects.filter(
        pk=booking_id, status=Booking.Status.CONFIRMED, confirmation_sent_at__isnull=True
    ).update(confirmation_sent_at=now)
    if not claimed:
        return False
    booking = (
        Booking.objects.select_related("event", "organiser")
        .prefetch_related("attendees__ticket_type")
        .get(pk=booking_id)
    )
    try:
        send_templated_email(
            template_prefix="bookings/email/booking_confirmation",
            to=[booking.booker_email],
            reply_to=[booking.organiser.contact_email] if booking.organiser.contact_email else None,
            context={
                "booking": booking,
                "event": booking.event,
                "organiser": booking.organiser,
                "attendees": booking.attendees.all(),
                "view_url": links.view_booking_url(booking),
            },
        )
    except Exception:
        with transaction.atomic():
            Booking.objects.filter(pk=booking_id, confirmation_sent_at=now).update(confirmation_sent_at=None)
        raise
    return True


def booking_send_new_links(*, email: str) -> int:
    """Email fresh View booking links for every current booking made with this address."""
    bookings = list(
        Booking.objects.filter(
            booker_email__iexact=email, event__ends_at__gt=timezone.now() - links.LINK_LIFETIME_AFTER_EVENT
        )
        .exclude(status=Booking.Status.PENDING)
        .select_related("event", "organiser")
        .order_by("event__starts_at")
    )
    if bookings:
        send_templated_email(
            template_prefix="bookings/email/booking_links",
            to=[email],
            context={"bookings": [(b, links.view_booking_url(b)) for b in bookings]},
        )
    return len(bookings)


def transfer_send_confirmation(*, transfer_id: int) -> bool:
    """Tell the booker their booking moved, with a fresh View booking link. Once per transfer,
    claimed like the confirmation; a failed transfer is not announced (the booker saw why)."""
    now = timezone.now()
    claimed = Transfer.objects.filter(
        pk=transfer_id, status=Transfer.Status.COMPLETED, email_sent_at__isnull=True
    ).update(email_sent_at=now)
    if not claimed:
        return False
    transfer = Transfer.objects.select_related(
        "booking__organiser", "booking__event", "from_event", "to_event", "to_ticket_type"
    ).get(pk=transfer_id)
    booking = transfer.booking
    refund = Refund.objects.filter(transfer=transfer).first()
    try:
        send_templated_email(
            template_prefix="bookings/email/booking_transferred",
            to=[booking.booker_email],
            reply_to=[booking.organiser.contact_email] if booking.organiser.contact_email else None,
            context={
                "booking": booking,
                "transfer": transfer,
                "organiser": booking.organiser,
                "attendees": list(booking.attendees.all()),
                "refund": refund,
                "refund_amount": format_money(refund.amount, refund.currency) if refund else "",
                "view_url": links.view_booking_url(booking),
            },
        )
    except Exception:
        with transaction.atomic():
            Transfer.objects.filter(pk=transfer_id, email_sent_at=now).update(email_sent_at=None)
        raise
    return True


def waiting_list_send_offer(*, entry_id: int) -> bool:
    """Email a waiting-list offer's signed booking link, once per offer."""
    from bookings.services import offer_url

    now = timezone.now()
    claimed = WaitingListEntry.objects.filter(
        pk=entry_id, status=WaitingListEntry.Status.OFFERED, offer_sent_at__isnull=True
    ).update(offer_sent_at=now)
    if not claimed:
        return False
    entry = WaitingListEntry.objects.select_related("event__organiser").get(pk=entry_id)
    organiser = entry.event.organiser
    try:
        send_templated_email(
            template_prefix="bookings/email/waiting_offer",
            to=[entry.email],
            reply_to=[organiser.contact_email] if organiser.contact_email else None,
            context={
                "entry": entry,
                "event": entry.event,
                "organiser": organiser,
                "offer_url": offer_url(entry),
            },
        )
    except Exception:
        with transaction.atomic():
            WaitingListEntry.objects.filter(pk=entry_id, offer_sent_at=now).update(offer_sent_at=None)
        raise
    return True
