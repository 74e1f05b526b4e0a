"""Emails to bookers, each sent once however often its task runs (`portal.emails.send_once`)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bookings import links
from bookings.models import Attendee, Booking, Event, Refund, TicketType, Transfer, WaitingListEntry
from portal.emails import send_once, send_templated_email
from portal.models import Organiser
from portal.money import format_money
from portal.sql import Columns, fetch, split


def booking_send_confirmation(*, booking_id: int) -> bool:
    """Send the confirmation with a View booking link, once per booking (see `send_once`)."""

    def send(confirmation: tuple[Booking, list[Attendee]]) -> None:
        booking, attendees = confirmation
        send_templated_email(
            template_prefix="bookings/email/booking_confirmation",
            to=[booking.booker_email],
            reply_to=[booking.organiser.contact_email] if booking.organiser.contact_email else None,
            context={
                "booking": booking,
                "event": booking.event,
                "organiser": booking.organiser,
                "attendees": attendees,
                "view_url": links.view_booking_url(booking),
            },
        )

    return send_once(
        model=Booking, pk=booking_id, sent_field="confirmation_sent_at", load=_unsent_confirmation, send=send
    )


# Only what the confirmation shows, in one hand-written query (`portal.sql`): a burst of
# confirmations spent most of its time compiling the ORM's queries for these rows (issue 12).
# tests/bookings/test_confirmation_email.py holds the email to its queries and checks each field.
_BOOKING = Columns(
    Booking,
    "b",
    *("id", "event", "organiser", "reference", "status", "booker_name", "booker_email", "link_secret"),
    *("total", "discount", "discount_reason", "currency"),
)
_EVENT = Columns(Event, "e", "id", "title", "venue", "starts_at", "ends_at")
_ORGANISER = Columns(
    Organiser,
    "o",
    *("id", "name", "time_zone", "contact_email", "contact_phone"),
    *("logo", "logo_width", "logo_height", "accent_colour"),  # the email carries their branding
)
_ATTENDEE = Columns(Attendee, "a", "id", "booking", "ticket_type", "name", "is_child", "price")
_TICKET_TYPE = Columns(TicketType, "t", "id", "name")


def _unsent_confirmation(booking_id: int) -> tuple[Booking, list[Attendee]] | None:
    """The confirmed booking with its event, organiser and attendees (in booking order, with their
    ticket types), unless its confirmation went out already."""
    rows = fetch(
        f"SELECT {_BOOKING}, {_EVENT}, {_ORGANISER}, {_ATTENDEE}, {_TICKET_TYPE}"
        f" FROM {_BOOKING.table}"
        f" JOIN {_EVENT.table} ON e.id = b.event_id"
        f" JOIN {_ORGANISER.table} ON o.id = b.organiser_id"
        f" LEFT JOIN {_ATTENDEE.table} ON a.booking_id = b.id"
        f" LEFT JOIN {_TICKET_TYPE.table} ON t.id = a.ticket_type_id"
        " WHERE b.id = %s AND b.status = %s AND b.confirmation_sent_at IS NULL"
        " ORDER BY a.id",
        [booking_id, Booking.Status.CONFIRMED],
    )
    if not rows:
        return None
    booking, event, organiser = split(rows[0], _BOOKING, _EVENT, _ORGANISER)
    booking.event, booking.organiser = event, organiser
    attendees = []
    for row in rows:
        attendee, ticket_type = split(row[-len(_ATTENDEE) - len(_TICKET_TYPE) :], _ATTENDEE, _TICKET_TYPE)
        if attendee is not None:
            attendee.booking, attendee.ticket_type = booking, ticket_type
            attendees.append(attendee)
    return booking, attendees


def booking_send_new_links(*, email: str) -> int:
    """Email fresh View booking links for every current booking made with this address. Every
    link sent before stops working, and so does every session one opened: a leaked link is
    revoked by asking for a new one. A retried send rotates again and sends the newest."""
    bookings = list(
        Booking.objects.filter(
            booker_email__iexact=email, event__ends_at__gt=timezone.now() - links.LINK_LIFETIME_AFTER_EVENT
        )
        .exclude(status=Booking.Status.PENDING)
        .select_related("event", "organiser")
        .order_by("event__starts_at")
    )
    if bookings:
        with transaction.atomic():
            for booking in bookings:
                links.revoke_links(booking)
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


def waiting_list_send_confirmation(*, entry_id: int) -> bool:
    """Ask an address's owner to confirm a waiting-list place asked for in their name, or, when
    they are already waiting, tell them so. Sent for every request (rate limited by the caller)."""
    from bookings.services import waiting_confirm_url

    entry = WaitingListEntry.objects.select_related("event__organiser").filter(pk=entry_id).first()
    if entry is None or not (entry.is_open or entry.status == entry.Status.UNCONFIRMED):
        return False  # gone meanwhile (left, booked, expired): nothing to confirm
    organiser = entry.event.organiser
    send_templated_email(
        template_prefix="bookings/email/waiting_confirm",
        to=[entry.email],
        reply_to=[organiser.contact_email] if organiser.contact_email else None,
        context={
            "entry": entry,
            "event": entry.event,
            "organiser": organiser,
            "confirm_url": waiting_confirm_url(entry) if entry.status == entry.Status.UNCONFIRMED else "",
        },
    )
    return True
