"""Calendar files (RFC 5545), built with the icalendar library: one booking as an email
attachment or a download, and a booker's feed of all their bookings.

A booking is one calendar event whatever happens to it: its UID names the booking, so a moved
booking (a transfer) replaces the old entry and a cancellation removes it. Its SEQUENCE counts
the seconds from the booking to its latest change (the booking's or its event's), so every later
file outranks every earlier one without keeping a counter. Times are written in UTC, and the
organiser's time zone is named (X-WR-TIMEZONE, and with the local time in the description).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode, urlparse

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking, Event

PRODID = "-//Booker Portal//Bookings//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"


def domain() -> str:
    return urlparse(settings.SITE_URL).hostname or "booker-portal"


def uid(booking: Booking) -> str:
    return f"booking-{booking.reference}@{domain()}"


def sequence(booking: Booking, event: Event) -> int:
    latest = max(booking.updated_at, event.updated_at)
    seconds = max(0, int((latest - booking.created_at).total_seconds()))
    return seconds + (1 if booking.is_cancelled else 0)  # a cancellation outranks what it cancels


def when_local(event: Event, organiser) -> str:
    zone = organiser.tzinfo
    starts, ends = timezone.localtime(event.starts_at, zone), timezone.localtime(event.ends_at, zone)
    return f"{starts:%a %d %b %Y, %H:%M}–{ends:%H:%M} ({organiser.time_zone})"


def description(booking: Booking, *, url: str) -> str:
    event, organiser = booking.event, booking.organiser
    lines = [when_local(event, organiser), f"{_('Booking')} {booking.reference} · {organiser.name}"]
    if url:
        lines.append(f"{_('View booking')}: {url}")
    if event.what_to_bring:
        lines += ["", f"{_('What to bring')}: {event.what_to_bring}"]
    return "\n".join(lines)


def vevent(booking: Booking, *, url: str, attendee: bool = False) -> icalendar.Event:
    """The booking as a calendar event. `attendee`: name the booker (a cancellation's file, in
    their own email: iTIP's CANCEL names whom it cancels for). Kept to what calendars use: every
    property costs time in a burst of emails (bench/RESULTS.md)."""
    entry = icalendar.Event()
    _event_properties(entry, booking.event, booking.organiser, status=status_of(booking))
    _booking_properties(entry, booking, url=url, attendee=attendee)
    return entry


def status_of(booking: Booking) -> str:
    return "CANCELLED" if booking.is_cancelled or booking.event.is_cancelled else "CONFIRMED"


def _event_properties(entry: icalendar.Event, event: Event, organiser, *, status: str) -> None:
    """What the calendar event says about the event itself, and the booking's STATUS: the same
    for each of the event's confirmed bookings."""
    entry.add("dtstart", event.starts_at.astimezone(UTC))
    entry.add("dtend", event.ends_at.astimezone(UTC))
    entry.add("summary", event.title)
    if event.venue:
        entry.add("location", event.venue)
    organizer = icalendar.vCalAddress(f"mailto:{_organizer_address(organiser)}")
    organizer.params["cn"] = icalendar.vText(organiser.name)
    entry.add("organizer", organizer)
    entry.add("status", status)


def _booking_properties(entry: icalendar.Event, booking: Booking, *, url: str, attendee: bool) -> None:
    """What the calendar event says about this booking (and when the file was made)."""
    event = booking.event
    entry.add("uid", uid(booking))
    entry.add("dtstamp", timezone.now().astimezone(UTC))
    entry.add("sequence", sequence(booking, event))
    entry.add("description", description(booking, url=url))
    if attendee:
        booker = icalendar.vCalAddress(f"mailto:{booking.booker_email}")
        booker.params["cn"] = icalendar.vText(booking.booker_name)
        booker.params["partstat"] = icalendar.vText("DECLINED" if booking.is_cancelled else "ACCEPTED")
        entry.add("attendee", booker)


def _organizer_address(organiser) -> str:
    return organiser.contact_email or _from_address()


def _from_address() -> str:
    address = settings.DEFAULT_FROM_EMAIL
    return address.rsplit("<", 1)[-1].rstrip(">").strip() if "<" in address else address


def _calendar(method: str | None = None) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def booking_ics(booking: Booking, *, url: str) -> bytes:
    """One booking's file: METHOD:CANCEL once it is cancelled (same UID, higher SEQUENCE, the
    booker as ATTENDEE), so a calendar that took the confirmation's file removes the entry; else
    PUBLISH (which names no attendees, RFC 5546).

    Both halves are icalendar's own output: the calendar around the event's lines, kept per
    event (`_event_part`), and the booking's lines, serialised for each file; the file is the
    one put inside the other, as icalendar would have written the event with all of them."""
    method = "CANCEL" if booking.is_cancelled else "PUBLISH"
    head, tail = _event_part(booking.event, booking.organiser, method, status_of(booking))
    own = icalendar.Event()
    _booking_properties(own, booking, url=url, attendee=booking.is_cancelled)
    lines = own.to_ical()
    return head + lines[len(_BEGIN) : -len(_END)] + tail


# The calendar around one event's lines, serialised by icalendar once per process and event:
# a burst of reminders or confirmations is many bookings of few events, and serialising (icalendar
# folds each line character by character) was a quarter of each email's instructions
# (bench/RESULTS.md). Keyed by everything the lines say, so a changed event or organiser simply
# makes another entry; the oldest are dropped past EVENT_PARTS_KEPT.
EVENT_PARTS_KEPT = 2000
_event_parts: dict[tuple, tuple[bytes, bytes]] = {}
_BEGIN, _END = b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n"


def _event_part(event: Event, organiser, method: str, status: str) -> tuple[bytes, bytes]:
    """(everything before the booking's lines, everything after), the booking's lines going
    just before the event's END:VEVENT."""
    key = (
        method,
        status,
        organiser.time_zone,
        organiser.name,
        _organizer_address(organiser),
        event.starts_at,
        event.ends_at,
        event.title,
        event.venue,
    )
    part = _event_parts.get(key)
    if part is None:
        calendar = _calendar(method)
        calendar.add("x-wr-timezone", organiser.time_zone)
        entry = icalendar.Event()
        _event_properties(entry, event, organiser, status=status)
        calendar.add_component(entry)
        head, _, tail = calendar.to_ical().rpartition(b"\r\n" + _END)
        if len(_event_parts) >= EVENT_PARTS_KEPT:
            del _event_parts[next(iter(_event_parts))]
        part = _event_parts[key] = (head + b"\r\n", _END + tail)
    return part


def feed_ics(bookings: list[Booking], *, url_for, name: str) -> bytes:
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", icalendar.vDuration(settings.CALENDAR_FEED_REFRESH))
    calendar["refresh-interval"].params["value"] = "DURATION"
    calendar.add("x-published-ttl", icalendar.vDuration(settings.CALENDAR_FEED_REFRESH))
    for booking in bookings:
        calendar.add_component(vevent(booking, url=url_for(booking)))
    return calendar.to_ical()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_url(booking: Booking, *, url: str) -> str:
    event = booking.event
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_stamp(event.starts_at)}/{_stamp(event.ends_at)}",
        "ctz": booking.organiser.time_zone,
        "details": description(booking, url=url),
        "location": event.venue,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_calendar_url(booking: Booking, *, url: str) -> str:
    event = booking.event
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": event.starts_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "enddt": event.ends_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "body": description(booking, url=url),
        "location": event.venue,
    }
    return "https://outlook.live.com/calendar/0/action/compose?" + urlencode(query)
