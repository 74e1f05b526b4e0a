"""Plain-text parts and subjects are text: what a booker or organiser typed reads as typed there,
while the HTML part still escapes it and a subject stays one header line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookings.tasks import booking_send_confirmation
from tests.factories import AttendeeFactory, EventFactory
from tests.vouchers.factories import VoucherFactory
from vouchers.emails import voucher_send_code


@pytest.mark.django_db
def test_an_event_title_with_an_ampersand_reads_as_typed_in_the_subject_and_the_text(organiser, mailoutbox):
    event = EventFactory(organiser=organiser, title="Yin & Restore <Sunday>")
    booking = AttendeeFactory(booking__organiser=organiser, booking__event=event).booking

    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    assert "Yin & Restore <Sunday>" in message.subject
    assert "Yin & Restore <Sunday>" in message.body
    assert "&amp;" not in message.subject + message.body
    html = message.alternatives[0][0]
    assert "Yin &amp; Restore &lt;Sunday&gt;" in html
    assert "<Sunday>" not in html


@pytest.mark.django_db
def test_a_gift_message_reads_as_typed_in_the_text_and_is_escaped_in_the_html(organiser, mailoutbox):
    voucher = VoucherFactory(organiser=organiser, message="Happy <b>birthday</b> & enjoy")

    voucher_send_code(voucher_id=voucher.pk)

    (message,) = mailoutbox
    assert '"Happy <b>birthday</b> & enjoy"' in message.body
    html = message.alternatives[0][0]
    assert "Happy &lt;b&gt;birthday&lt;/b&gt; &amp; enjoy" in html


@pytest.mark.django_db
def test_a_title_cannot_add_a_header_line_to_the_subject(organiser, mailoutbox):
    event = EventFactory(organiser=organiser, title="Yoga\r\nBcc: everyone@example.com")
    booking = AttendeeFactory(booking__organiser=organiser, booking__event=event).booking

    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "Bcc" not in message.message()  # no header of its own: only inside the one Subject line
    assert message.message()["Subject"].startswith("Your booking for Yoga")


@pytest.mark.django_db
def test_the_confirmation_says_when_the_event_ends(organiser, mailoutbox):
    organiser.time_zone = "Europe/London"
    organiser.save()
    starts = datetime(2027, 7, 4, 9, 0, tzinfo=UTC)  # 10:00 BST
    event = EventFactory(organiser=organiser, starts_at=starts, ends_at=starts + timedelta(minutes=75))
    booking = AttendeeFactory(booking__organiser=organiser, booking__event=event).booking

    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    assert "Sunday 4 July 2027, 10:00–11:15 BST" in message.body
    assert "Sunday 4 July 2027, 10:00–11:15 BST" in message.alternatives[0][0]
