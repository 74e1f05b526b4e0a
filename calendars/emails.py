"""Calendar files on bookings' emails (registered with portal.emails in CalendarsConfig.ready),
and the reminder emails."""

from __future__ import annotations

import time
from datetime import timedelta
from email.mime.text import MIMEText

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from bookings import links as booking_links
from bookings import rules as rules_module
from bookings.models import Booking, BookingRules, Event
from bookings.rules import rules_for_event
from calendars import ics
from calendars import links as calendar_links
from calendars.models import Reminder, ReminderOptOut
from passes.models import PassRedemption
from portal.emails import send_once, send_templated_email
from portal.models import Organiser
from portal.sql import Prepared
from vouchers.models import VoucherRedemption

# bookings' emails that carry the booking's calendar file: the confirmation and the move add or
# update the entry (same UID), the cancellations remove it (METHOD:CANCEL).
ICS_EMAILS = {
    "bookings/email/booking_confirmation",
    "bookings/email/booking_transferred",
    "bookings/email/booking_cancelled",
    "bookings/email/event_cancelled",
}
ICS_FILENAME = "booking.ics"


def ics_attachment(booking: Booking, *, url: str) -> MIMEText:
    """The booking's .ics as an email part: text/calendar with its METHOD named on the part too,
    as iTIP mail (RFC 6047) has it, so mail programs offer to add (or remove) the entry."""
    content = ics.booking_ics(booking, url=url).decode()
    part = MIMEText(content, "calendar", "utf-8")
    part.set_param("method", "CANCEL" if booking.is_cancelled else "PUBLISH")
    part.add_header("Content-Disposition", "attachment", filename=ICS_FILENAME)
    return part


def booking_email_ics(template_prefix: str, context: dict) -> list:
    """The booking's .ics, from what the email loaded (no query of its own)."""
    booking = context.get("booking")
    if booking is None:
        return []
    return [ics_attachment(booking, url=context.get("view_url") or context.get("booking_url") or "")]


# Reminders ----------------------------------------------------------------------------------------


# The reminder with what its email shows, in one statement compiled once (portal.sql.Prepared): a
# burst of reminders runs it once per email. It holds only reminders still worth sending: unsent,
# the booking confirmed, the event scheduled, and the booker has not turned this organiser's
# reminders off (by account or by address). Whether the event started is checked on the row.
_REMINDER = Prepared(
    lambda reminder: Reminder.objects.filter(
        pk=reminder,
        sent_at__isnull=True,
        booking__status=Booking.Status.CONFIRMED,
        booking__event__status=Event.Status.SCHEDULED,
    ).filter(
        ~Exists(
            ReminderOptOut.objects.filter(organiser=OuterRef("organiser")).filter(
                Q(user__isnull=False, user=OuterRef("booking__user"))
                | Q(user__isnull=True, email__iexact=OuterRef("booking__booker_email"))
            )
        )
    ),
    parts={
        "booking": (
            Booking,
            "booking",
            ("id", "event", "organiser", "user", "reference", "status", "booker_name", "booker_email")
            + ("link_secret", "payment_method", "created_at", "updated_at"),
        ),
        "event": (
            Event,
            "booking__event",
            (
                "id",
                "organiser",
                "title",
                "venue",
                "what_to_bring",
                "starts_at",
                "ends_at",
                "status",
                "updated_at",
            ),
        ),
        "organiser": (
            Organiser,
            "booking__organiser",
            ("id", "name", "time_zone", "contact_email", "contact_phone", "default_language")
            + ("logo", "logo_width", "logo_height", "accent_colour"),  # the email carries their branding
        ),
        "user": (User, "booking__user", ("id", "language")),  # the email speaks their language
        # Whether a pass or voucher paid, which decides if it may move (bookings.rules).
        "pass_redemption": (PassRedemption, "booking__pass_redemption", ("id",)),
        "voucher_redemption": (VoucherRedemption, "booking__voucher_redemption", ("id",)),
    },
    reminder=-930_000_002,
)


def _unsent_reminder(reminder_id: int) -> Reminder | None:
    rows = _REMINDER.fetch(reminder=reminder_id)
    if not rows:
        return None
    reminder, booking, event, organiser, user, pass_redemption, voucher_redemption = rows[0]
    if event.starts_at <= timezone.now():
        return None  # too late to remind
    booking.event, booking.organiser, event.organiser = event, organiser, organiser
    if user is not None:
        booking.user = user
    booking._state.fields_cache["pass_redemption"] = pass_redemption
    booking._state.fields_cache["voucher_redemption"] = voucher_redemption
    reminder.booking = booking
    return reminder


# The rules in force for an event, kept a minute per worker process: a burst of reminders is many
# bookings of few events, and what the email says they may still change can be a minute old.
RULES_KEPT = 60
_rules: dict[int, tuple[float, BookingRules]] = {}


def _rules_for(event: Event) -> BookingRules:
    now = time.monotonic()
    kept = _rules.get(event.pk)
    if kept is None or kept[0] < now:
        if len(_rules) > 10_000:
            _rules.clear()
        kept = _rules[event.pk] = (now + RULES_KEPT, rules_for_event(event=event))
    return kept[1]


def reminder_context(booking: Booking, *, rules: BookingRules, view_url: str) -> dict:
    event = booking.event
    can_cancel = not rules_module.cancel_blocked_reason(booking=booking, rules=rules)
    can_move = not rules_module.transfer_blocked_reason(booking=booking, rules=rules)
    return {
        "booking": booking,
        "event": event,
        "organiser": booking.organiser,
        "view_url": view_url,
        "cancel_until": event.starts_at - timedelta(hours=rules.cancellation_cutoff_hours)
        if can_cancel
        else None,
        "move_until": event.starts_at - timedelta(hours=rules.transfer_cutoff_hours) if can_move else None,
    }


def reminder_send(*, reminder_id: int) -> bool:
    """Send one reminder, once (see `portal.emails.send_once`), with the booking's View booking
    link and calendar file, what to bring, what the booker may still change, and a one-click
    unsubscribe (RFC 8058)."""

    def send(reminder: Reminder) -> None:
        booking = reminder.booking
        organiser = booking.organiser
        view_url = booking_links.view_booking_url(booking)
        unsubscribe = calendar_links.unsubscribe_url(
            organiser_id=organiser.pk, email=booking.booker_email, user_id=booking.user_id
        )
        context = reminder_context(booking, rules=_rules_for(booking.event), view_url=view_url)
        send_templated_email(
            template_prefix="calendars/email/reminder",
            to=[booking.booker_email],
            reply_to=[organiser.contact_email] if organiser.contact_email else None,
            context={**context, "reminder": reminder, "unsubscribe_url": unsubscribe},
            headers={
                # Stable: should a killed worker's email go twice (sent, not yet stamped), the
                # second is the same message to mail programs that drop repeated Message-IDs.
                "Message-ID": f"<reminder-{reminder.pk}@{ics.domain()}>",
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            attachments=[ics_attachment(booking, url=view_url)],
        )

    return send_once(model=Reminder, pk=reminder_id, sent_field="sent_at", load=_unsent_reminder, send=send)
