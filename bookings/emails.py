"""Emails to bookers, each sent once however often its task runs (`portal.emails.send_once`)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from bookings import links
from bookings.models import (
    Attendee,
    Booking,
    DetailEdit,
    Event,
    Refund,
    TicketCancellation,
    TicketGift,
    TicketType,
    Transfer,
    WaitingListEntry,
)
from passes.models import Pass, PassRedemption, PassType
from portal.dates import reader_time_zone
from portal.emails import email_language, send_once, send_templated_email
from portal.models import Organiser
from portal.money import format_money_lazy
from portal.sql import Prepared
from vouchers.models import Voucher, VoucherRedemption


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


# What the confirmation shows, in one read: the fan-out after a burst of bookings runs it once per
# email (tests/bookings/test_confirmation_email.py holds the email to its queries and checks each
# field). One row per attendee.
_CONFIRMATION = Prepared(
    lambda booking: Event.objects.filter(
        bookings__pk=booking,
        bookings__status=Booking.Status.CONFIRMED,
        bookings__confirmation_sent_at__isnull=True,
    ).order_by("bookings__attendees__pk"),
    fields=("id", "title", "venue", "what_to_bring", "starts_at", "ends_at", "status", "updated_at"),
    parts={
        "booking": (
            Booking,
            "bookings",
            ("id", "event", "organiser", "user", "reference", "status", "booker_name", "booker_email")
            + ("link_secret", "total", "discount", "discount_reason", "included_amount", "included_reason")
            + ("currency", "created_at", "updated_at"),  # the calendar file's SEQUENCE
        ),
        "organiser": (
            Organiser,
            "bookings__organiser",
            ("id", "name", "time_zone", "contact_email", "contact_phone", "default_language")
            + ("logo", "logo_width", "logo_height", "accent_colour"),  # the email carries their branding
        ),
        "user": (User, "bookings__user", ("id", "language")),  # the email speaks their language
        "attendee": (
            Attendee,
            "bookings__attendees",
            ("id", "booking", "ticket_type", "name", "is_child", "price"),
        ),
        "ticket_type": (TicketType, "bookings__attendees__ticket_type", ("id", "name")),
        # What paid for it, named in the email: a pass (its uses left) or a voucher (its code's end).
        "pass_redemption": (PassRedemption, "bookings__pass_redemption", ("id", "uses", "booker_pass")),
        "booker_pass": (Pass, "bookings__pass_redemption__booker_pass", ("id", "pass_type", "uses_left")),
        "pass_type": (PassType, "bookings__pass_redemption__booker_pass__pass_type", ("id", "name")),
        "voucher_redemption": (
            VoucherRedemption,
            "bookings__voucher_redemption",
            ("id", "amount", "voucher"),
        ),
        "voucher": (Voucher, "bookings__voucher_redemption__voucher", ("id", "code", "balance")),
    },
    booking=-930_000_001,
)


def _unsent_confirmation(booking_id: int) -> tuple[Booking, list[Attendee]] | None:
    """The confirmed booking with its event, organiser and attendees (in booking order, with their
    ticket types), unless its confirmation went out already."""
    rows = _CONFIRMATION.fetch(booking=booking_id)
    if not rows:
        return None
    (
        event,
        booking,
        organiser,
        user,
        _attendee,
        _ticket_type,
        spent_pass,
        booker_pass,
        pass_type,
        spent,
        voucher,
    ) = rows[0]
    booking.event, booking.organiser = event, organiser
    if user is not None:
        booking.user = user
    if spent_pass is not None:
        booker_pass.pass_type = pass_type
        spent_pass.booker_pass = booker_pass
    booking.paid_with_pass = spent_pass
    if spent is not None:
        spent.voucher = voucher
    booking.paid_with_voucher = spent
    attendees = []
    for _event, _booking, _organiser, _user, attendee, ticket_type, *_ in rows:
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
        account = User.objects.filter(email__iexact=email).only("language").first()
        send_templated_email(
            template_prefix="bookings/email/booking_links",
            to=[email],
            context={"bookings": [(b, links.view_booking_url(b)) for b in bookings]},
            language=email_language({"organiser": bookings[0].organiser}, user=account),
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
                "refund_amount": format_money_lazy(refund.amount, refund.currency) if refund else "",
                "view_url": links.view_booking_url(booking),
            },
        )

    settled = Transfer.objects.filter(
        status__in=[Transfer.Status.COMPLETED, Transfer.Status.FAILED]
    ).select_related("booking__organiser", "booking__event", "from_event", "to_event", "to_ticket_type")
    return send_once(rows=settled, pk=transfer_id, sent_field="email_sent_at", send=send)


def waiting_list_send_offer(*, entry_id: int) -> bool:
    """Email a waiting-list offer's signed booking link, once per offer (or per notice that
    places are free, under a notify-everyone rule)."""

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
                "offer_url": links.waiting_list_offer_url(entry),
                # The hold's end in the zone the place's account chose (a guest: the organiser's).
                "hold_zone": reader_time_zone(entry.user, organiser),
            },
        )

    # A timed offer, or a notify-everyone notice (waiting, told the places are free).
    offered = WaitingListEntry.objects.filter(
        Q(status=WaitingListEntry.Status.OFFERED)
        | Q(status=WaitingListEntry.Status.WAITING, notified_at__isnull=False)
    ).select_related("event__organiser", "user", "ticket_type")
    return send_once(rows=offered, pk=entry_id, sent_field="offer_sent_at", send=send)


def waiting_list_send_confirmation(*, entry_id: int, joined: bool = False) -> bool:
    """Ask an address's owner to confirm a waiting-list place asked for in their name, or, when
    they are already waiting, tell them so; `joined`: tell a booker who joined with their own
    proved address that they are on the list. Every one carries the place's manage link (see it,
    ask for fewer places, leave, with no account). Sent for every request (rate limited by the
    caller)."""
    entry = (
        WaitingListEntry.objects.select_related("event__organiser", "ticket_type").filter(pk=entry_id).first()
    )
    if entry is None or not entry.is_on_the_list:
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
            "confirm_url": links.waiting_list_confirm_url(entry)
            if entry.status == entry.Status.UNCONFIRMED
            else "",
            "joined": joined,
            "manage_url": links.waiting_list_manage_url(entry),
        },
    )
    return True


def tickets_send_cancelled(*, cancellation_id: int) -> bool:
    """Tell the booker which tickets they cancelled and what went back, with their booking's
    View booking link (it still holds the other tickets). Once per cancellation."""

    def send(cancellation: TicketCancellation) -> None:
        booking = cancellation.booking
        refund = Refund.objects.filter(cancellation=cancellation).first()
        send_templated_email(
            template_prefix="bookings/email/tickets_cancelled",
            to=[booking.booker_email],
            reply_to=[booking.organiser.contact_email] if booking.organiser.contact_email else None,
            context={
                "booking": booking,
                "event": booking.event,
                "organiser": booking.organiser,
                "cancellation": cancellation,
                "tickets": list(cancellation.tickets.select_related("ticket_type")),
                "attendees": list(booking.attendees.select_related("ticket_type")),
                "refund": refund,
                "refund_amount": format_money_lazy(refund.amount, refund.currency) if refund else "",
                "fee_kept": format_money_lazy(refund.fee_kept, refund.currency)
                if refund and refund.fee_kept
                else "",
                "voucher_back": format_money_lazy(cancellation.voucher_back, booking.currency),
                "view_url": links.view_booking_url(booking),
            },
        )

    rows = TicketCancellation.objects.select_related("booking__event", "booking__organiser")
    return send_once(rows=rows, pk=cancellation_id, sent_field="email_sent_at", send=send)


def detail_edit_send_confirmation(*, edit_id: int) -> bool:
    """Tell the booker which attendee names and answers were changed, once per edit."""

    def send(edit: DetailEdit) -> None:
        booking = edit.booking
        send_templated_email(
            template_prefix="bookings/email/details_changed",
            to=[booking.booker_email],
            reply_to=[booking.organiser.contact_email] if booking.organiser.contact_email else None,
            context={
                "booking": booking,
                "event": booking.event,
                "organiser": booking.organiser,
                "edit": edit,
                "view_url": links.view_booking_url(booking),
            },
        )

    rows = DetailEdit.objects.select_related("booking__event", "booking__organiser")
    return send_once(rows=rows, pk=edit_id, sent_field="email_sent_at", send=send)


def ticket_gift_send_offer(*, gift_id: int) -> bool:
    """Email the recipient of a ticket its signed accept link, once per offer (none once it is
    withdrawn)."""

    def send(gift: TicketGift) -> None:
        booking = gift.booking
        send_templated_email(
            template_prefix="bookings/email/ticket_gift",
            to=[gift.recipient_email],
            reply_to=[booking.organiser.contact_email] if booking.organiser.contact_email else None,
            # To the recipient, not the booking's account: the organiser's language.
            language=email_language({"organiser": booking.organiser}),
            context={
                "gift": gift,
                "booking": booking,
                "event": booking.event,
                "organiser": booking.organiser,
                "accept_url": links.gift_accept_url(gift),
            },
        )

    rows = TicketGift.objects.filter(status=TicketGift.Status.PENDING).select_related(
        "booking__event", "booking__organiser"
    )
    return send_once(rows=rows, pk=gift_id, sent_field="offer_sent_at", send=send)


def ticket_gift_send_accepted(*, gift_id: int) -> bool:
    """Tell the giver that the recipient accepted their ticket, once per accepted offer, in the
    giver's language (their account's, else the organiser's)."""
    rows = TicketGift.objects.filter(status=TicketGift.Status.ACCEPTED)
    return _tell_the_giver(gift_id, rows, "accepted")


def ticket_gift_send_expired(*, gift_id: int) -> bool:
    """Tell the giver that their offer ran out unaccepted (the ticket stays theirs), once per
    offer, in the giver's language."""
    rows = TicketGift.objects.filter(
        status=TicketGift.Status.EXPIRED, booking__status=Booking.Status.CONFIRMED
    )
    return _tell_the_giver(gift_id, rows, "expired")


def _tell_the_giver(gift_id: int, rows, outcome: str) -> bool:
    """One email to the giver about what became of their offer (`outcome`: accepted, expired),
    with their booking's View booking link; the booking's tickets as they are now."""

    def send(gift: TicketGift) -> None:
        booking = gift.booking
        send_templated_email(
            template_prefix=f"bookings/email/ticket_gift_{outcome}",
            to=[booking.booker_email],
            reply_to=[booking.organiser.contact_email] if booking.organiser.contact_email else None,
            context={
                "gift": gift,
                "booking": booking,
                "event": booking.event,
                "organiser": booking.organiser,
                "left": booking.attendees.select_related("ticket_type"),  # read only where shown
                "view_url": links.view_booking_url(booking),
            },
        )

    rows = rows.select_related("booking__event", "booking__organiser", "booking__user")
    return send_once(rows=rows, pk=gift_id, sent_field=f"{outcome}_email_sent_at", send=send)


_CANCELLATION_EMAIL = {
    Booking.CancelledBy.ORGANISER: "bookings/email/event_cancelled",
    Booking.CancelledBy.BOOKER: "bookings/email/booking_cancelled",
}


def booking_send_cancelled(*, booking: Booking, refund: Refund | None) -> bool:
    """Email the booker that their booking is cancelled (by the organiser's event cancellation
    or by themselves). Sends once per booking; returns False when it had been sent already."""

    def send(cancelled: Booking) -> None:
        send_templated_email(
            template_prefix=_CANCELLATION_EMAIL[cancelled.cancelled_by],
            to=[cancelled.booker_email],
            reply_to=[cancelled.organiser.contact_email] if cancelled.organiser.contact_email else None,
            context=_cancelled_context(cancelled, refund),
        )

    cancelled = Booking.objects.filter(status=Booking.Status.CANCELLED).select_related("event", "organiser")
    return send_once(rows=cancelled, pk=booking.pk, sent_field="cancellation_sent_at", send=send)


def _cancelled_context(booking: Booking, refund: Refund | None) -> dict:
    organiser = booking.organiser
    return {
        "booking": booking,
        "event": booking.event,
        "organiser": organiser,
        "refund": refund,
        "refund_amount": format_money_lazy(refund.amount, refund.currency) if refund else "",
        "fee_kept": format_money_lazy(refund.fee_kept, refund.currency) if refund and refund.fee_kept else "",
        # A guest can't open the Cancelled tab (it needs a login): their booking's own link instead.
        "booking_url": links.view_booking_url(booking)
        if booking.user_id is None
        else settings.SITE_URL + reverse("bookings:event_list") + "?tab=cancelled",
        "credit_choice_url": links.refund_choice_url(refund) if refund and refund.credit_offer_open else "",
        "rebook_url": settings.SITE_URL + reverse("organiser_page", args=[organiser.slug])
        if booking.event.cancellation_offers_rebooking
        else "",
    }
