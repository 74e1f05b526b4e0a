"""A booking's calendar file (RFC 5545): on its confirmation, move and cancellation emails, and
from its page (download, Google Calendar, Outlook). Read back with icalendar, as calendars do."""

from __future__ import annotations

import html as html_lib
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from bookings import emails, links
from bookings.models import Booking, Transfer
from calendars import ics
from tests.calendars.helpers import ics_parts, only_event, parse
from tests.factories import AttendeeFactory, EventFactory, TicketTypeFactory, TransferFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture
def booking(organiser, booker):
    organiser.contact_email = "hello@riverside.example"
    organiser.save()
    event = EventFactory(
        organiser=organiser,
        title="Morning Yoga",
        venue="The Long Hall, 4 River Lane",
        what_to_bring="A mat and water",
        starts_at=datetime(2030, 3, 21, 10, 0, tzinfo=LONDON),
        ends_at=datetime(2030, 3, 21, 11, 30, tzinfo=LONDON),
    )
    attendee = AttendeeFactory(
        organiser=organiser,
        booking__event=event,
        booking__user=booker,
        booking__booker_email=booker.email,
        booking__booker_name="Bea Booker",
        booking__status=Booking.Status.CONFIRMED,
        ticket_type__event=event,
    )
    return attendee.booking


@pytest.mark.django_db
def test_the_confirmation_carries_the_booking_as_a_calendar_event(booking, mailoutbox):
    emails.booking_send_confirmation(booking_id=booking.pk)

    (message,) = mailoutbox
    ((part, calendar),) = ics_parts(message)
    assert part.get_param("method") == "PUBLISH"
    assert part.get_filename() == "booking.ics"
    assert calendar["method"] == "PUBLISH"
    assert calendar["x-wr-timezone"] == "Europe/London"
    entry = only_event(calendar)
    assert entry["uid"] == f"booking-{booking.reference}@127.0.0.1"
    assert entry["summary"] == "Morning Yoga"
    assert entry["location"] == "The Long Hall, 4 River Lane"
    assert entry["status"] == "CONFIRMED"
    # In UTC (written with Z), the same moments as the event's.
    assert entry.decoded("dtstart") == booking.event.starts_at
    assert entry.decoded("dtend") == booking.event.ends_at
    assert entry.decoded("dtstart").utcoffset() == timedelta(0)
    assert "DTSTART:20300321T100000Z" in part.get_payload(decode=True).decode()
    # The View booking link, and what to bring; the organiser by name and address.
    assert (
        "/portal/link/" in entry["description"] and "What to bring: A mat and water" in entry["description"]
    )
    assert "(Europe/London)" in entry["description"]
    assert str(entry["organizer"]) == "mailto:hello@riverside.example"
    assert entry["organizer"].params["cn"] == booking.organiser.name


@pytest.mark.django_db
def test_times_stay_right_across_a_daylight_saving_change(organiser, booker):
    """10:00 in London is 10:00Z in winter and 09:00Z in summer (the clocks went forward on the
    last Sunday of March 2030): each file holds the right UTC moment, which reads back as 10:00."""
    bookings = []
    for day in (21, 31):  # before and after 31 March 2030, 01:00 UTC
        event = EventFactory(
            organiser=organiser,
            starts_at=datetime(2030, 3, day, 10, 0, tzinfo=LONDON),
            ends_at=datetime(2030, 3, day, 11, 0, tzinfo=LONDON),
        )
        bookings.append(
            AttendeeFactory(
                organiser=organiser, booking__event=event, booking__user=booker, ticket_type__event=event
            ).booking
        )
    winter, summer = (only_event(parse(_download(booking, booker))) for booking in bookings)

    assert winter.decoded("dtstart") == datetime(2030, 3, 21, 10, 0, tzinfo=UTC)
    assert summer.decoded("dtstart") == datetime(2030, 3, 31, 9, 0, tzinfo=UTC)
    for entry in (winter, summer):
        assert entry.decoded("dtstart").astimezone(LONDON).hour == 10
        assert entry.decoded("dtend").astimezone(LONDON).hour == 11


def _download(booking, user):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("calendars:booking_ics", args=[booking.reference]))
    assert response.status_code == 200, response.status_code
    return response.content


@pytest.mark.django_db
def test_a_move_updates_the_same_calendar_event_to_the_new_date(booking, mailoutbox):
    emails.booking_send_confirmation(booking_id=booking.pk)
    first = only_event(ics_parts(mailoutbox[0])[0][1])
    new_event = EventFactory(
        organiser=booking.organiser,
        title="Evening Yoga",
        starts_at=datetime(2030, 4, 2, 18, 0, tzinfo=LONDON),
        ends_at=datetime(2030, 4, 2, 19, 0, tzinfo=LONDON),
    )
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5)):
        transfer = TransferFactory(
            organiser=booking.organiser,
            booking=booking,
            from_event=booking.event,
            to_event=new_event,
            to_ticket_type=TicketTypeFactory(event=new_event, organiser=booking.organiser),
            status=Transfer.Status.COMPLETED,
        )
        booking.event = new_event
        booking.save()
        emails.transfer_send_confirmation(transfer_id=transfer.pk)

    ((part, calendar),) = ics_parts(mailoutbox[1])
    moved = only_event(calendar)
    assert moved["uid"] == first["uid"]
    assert moved["sequence"] > first["sequence"]
    assert moved.decoded("dtstart") == datetime(2030, 4, 2, 17, 0, tzinfo=UTC)
    assert moved["summary"] == "Evening Yoga"


@pytest.mark.django_db
@pytest.mark.parametrize("cancelled_by", [Booking.CancelledBy.BOOKER, Booking.CancelledBy.ORGANISER])
def test_a_cancellation_cancels_the_same_calendar_event(booking, mailoutbox, cancelled_by):
    emails.booking_send_confirmation(booking_id=booking.pk)
    confirmed = only_event(ics_parts(mailoutbox[0])[0][1])
    booking.status, booking.cancelled_by = Booking.Status.CANCELLED, cancelled_by
    booking.cancelled_at = booking.updated_at
    booking.save()  # within the same second as the confirmation: still a higher SEQUENCE

    emails.booking_send_cancelled(booking=booking, refund=None)

    ((part, calendar),) = ics_parts(mailoutbox[1])
    assert part.get_param("method") == "CANCEL" and calendar["method"] == "CANCEL"
    cancelled = only_event(calendar)
    assert cancelled["uid"] == confirmed["uid"]
    assert cancelled["sequence"] > confirmed["sequence"]
    assert cancelled["status"] == "CANCELLED"
    assert str(cancelled["attendee"]) == f"mailto:{booking.booker_email}"


@pytest.mark.django_db
def test_the_booking_page_offers_the_file_google_and_outlook(booking, client_as_booker):
    response = client_as_booker.get(reverse("bookings:booking_detail", args=[booking.reference]))

    html = response.content.decode()
    assert reverse("calendars:booking_ics", args=[booking.reference]) in html
    google = next(a for a in _links(html) if a.startswith("https://calendar.google.com/"))
    query = parse_qs(urlparse(google).query)
    assert query["dates"] == ["20300321T100000Z/20300321T113000Z"]
    assert query["ctz"] == ["Europe/London"] and query["text"] == ["Morning Yoga"]
    outlook = next(a for a in _links(html) if a.startswith("https://outlook.live.com/"))
    assert parse_qs(urlparse(outlook).query)["startdt"] == ["2030-03-21T10:00:00Z"]
    # Links handed to Google and Outlook carry the booking's page, never a signed View booking link.
    assert "/portal/link/" not in google + outlook


def _links(html: str) -> list[str]:
    return [html_lib.unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


@pytest.mark.django_db
def test_the_download_is_the_bookers_own_booking_only(booking, client, other_booker):
    url = reverse("calendars:booking_ics", args=[booking.reference])
    assert client.get(url).status_code == 404  # nobody logged in, no link opened
    client.force_login(other_booker)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_guest_who_opened_the_link_downloads_the_file(booking, client):
    client.get(links.view_booking_url(booking).removeprefix("http://127.0.0.1:8000"))

    response = client.get(reverse("calendars:booking_ics", args=[booking.reference]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert only_event(parse(response.content))["uid"].startswith(f"booking-{booking.reference}@")


@pytest.mark.django_db
def test_each_file_has_its_own_booking_and_the_event_as_it_is_now(booking, organiser):
    """The event's lines are serialised once and kept (a burst of reminders is many bookings of
    few events): each booking's file still names its own booking, and a changed event's next
    file says what changed."""

    other = AttendeeFactory(
        organiser=organiser,
        booking__event=booking.event,
        booking__booker_name="Otto Other",
        booking__status=Booking.Status.CONFIRMED,
        ticket_type__event=booking.event,
    ).booking
    first = only_event(parse(ics.booking_ics(booking, url="https://example.test/b/1")))
    second = only_event(parse(ics.booking_ics(other, url="https://example.test/b/2")))
    assert first["uid"] == f"booking-{booking.reference}@127.0.0.1"
    assert second["uid"] == f"booking-{other.reference}@127.0.0.1"
    assert "https://example.test/b/1" in first["description"]
    assert "https://example.test/b/2" in second["description"]
    assert first["summary"] == second["summary"] == "Morning Yoga"

    event = booking.event
    event.venue = "The Garden Room"
    event.starts_at += timedelta(hours=2)
    event.ends_at += timedelta(hours=2)
    event.save()
    booking.refresh_from_db()
    moved = only_event(parse(ics.booking_ics(booking, url="https://example.test/b/1")))
    assert moved["location"] == "The Garden Room"
    assert moved.decoded("dtstart") == event.starts_at
    assert moved["uid"] == first["uid"]
    assert len(parse(ics.booking_ics(booking, url="")).walk("VEVENT")) == 1
