"""Reading calendar files back with the icalendar library, as a calendar app would."""

from __future__ import annotations

from email.message import Message

import icalendar


def parse(content: bytes | str) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(content)


def only_event(calendar: icalendar.Calendar):
    (entry,) = calendar.walk("VEVENT")
    return entry


def ics_parts(message) -> list:
    """The text/calendar parts of a sent Django email, as (MIME part, parsed calendar)."""
    found = []
    for part in message.message().walk():
        if isinstance(part, Message) and part.get_content_type() == "text/calendar":
            found.append((part, parse(part.get_payload(decode=True))))
    return found
