"""An email's parts as a mail program reads them back from the bytes sent: the text, the HTML and
the calendar file, each between boundaries of its own that no line of the text repeats."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from bookings.tasks import booking_send_confirmation
from tests.factories import AttendeeFactory, EventFactory


@pytest.mark.django_db
def test_a_confirmation_reads_back_as_its_text_html_and_calendar_file(organiser, mailoutbox):
    event = EventFactory(organiser=organiser, title="Morning Yoga")
    booking = AttendeeFactory(booking__organiser=organiser, booking__event=event).booking

    booking_send_confirmation(booking.pk)

    (sent,) = mailoutbox
    message = sent.message()
    boundaries = [part.get_boundary() for part in message.walk() if part.is_multipart()]
    assert len(boundaries) == 2 and len(set(boundaries)) == 2
    read = message_from_bytes(message.as_bytes(linesep="\r\n"), policy=policy.default)
    types = [part.get_content_type() for part in read.walk() if not part.is_multipart()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    assert booking.reference in read.get_body(("plain",)).get_content()
    assert "Morning Yoga" in read.get_body(("html",)).get_content()
    for boundary in boundaries:
        assert boundary not in sent.body and boundary not in sent.alternatives[0][0]
