"""Emails to bookers, each sent once however often its task runs (`portal.emails.send_once`)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from bookings import links
from bookings.models import Attendee, Booking, Refund, Transfer, WaitingListEntry
from portal.emails import send_once, send_templated_email
from portal.money import format_money


def booking_send_confirmation(*, booking_id: int) -> bool:
    """Send the confirmation with a View booking link, once per booking (see `send_once`)."""

    def send(booking: Booking) -> None:
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

    return send_once(rows=_CONFIRMED, pk=booking_id, sent_field="confirmation_sent_at", send=send)


# Only what the confirmation shows: a burst of confirmations spends most of its time loading these
# rows (issue 12), and fewer columns cost less to select and to turn into objects.
# tests/bookings/test_confirmation_email.py holds the email to its queries: a field left out shows.
_CONFIRMED = (
    Booking.objects.filter(status=Booking.Status.CONFIRMED)
    .select_related("event", "organiser")
    .only(
        *("reference", "status", "booker_name", "booker_email", "link_secret", "confirmation_sent_at"),
        *("total", "discount", "discount_reason", "currency"),
        *("event__title", "event__venue", "event__starts_at", "event__ends_at"),
        *("organiser__name", "organiser__time_zone", "organiser__contact_email", "organiser__contact_phone"),
    )
    .prefetch_related(
        Prefetch(
            "attendees",
            queryset=Attendee.objects.select_related("ticket_type").only(
                "booking_id", "name", "is_child", "price", "ticket_type__name"
            ),
        )
    )
)


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
    """Tell the booker their booking moved, with a fresh View booking link; or, when the move
    failed after they paid for it (the seats went meanwhile), that the payment is coming back.
    Once per transfer."""

    def send(transfer: Transfer) -> None:
        booking = transfer.booking
        refund = Refund.objects.filter(transfer=transfer).first()
        moved = transfer.status == Transfer.Status.COMPLETED
        send_templated_email(
            template_prefix="bookings/email/booking_transferred"
            if moved
            else "bookings/email/transfer_failed",
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

    settled = Transfer.objects.filter(
        status__in=[Transfer.Status.COMPLETED, Transfer.Status.FAILED]
    ).select_related("booking__organiser", "booking__event", "from_event", "to_event", "to_ticket_type")
    return send_once(rows=settled, pk=transfer_id, sent_field="email_sent_at", send=send)


def waiting_list_send_offer(*, entry_id: int) -> bool:
    """Email a waiting-list offer's signed booking link, once per offer."""
    from bookings.services import offer_url

    def send(entry: WaitingListEntry) -> None:
        organiser = entry.event.organiser
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

    offered = WaitingListEntry.objects.filter(status=WaitingListEntry.Status.OFFERED).select_related(
        "event__organiser"
    )
    return send_once(rows=offered, pk=entry_id, sent_field="offer_sent_at", send=send)
