"""Calendar files on bookings' emails (registered with portal.emails in CalendarsConfig.ready),
and the reminder emails."""

from __future__ import annotations

from email.mime.text import MIMEText

from bookings.models import Booking
from calendars import ics

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
    content = ics.booking_ics(booking, url=url, attendee=True).decode()
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
