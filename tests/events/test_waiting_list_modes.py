"""Offer modes, per organiser or per event: a timed offer to one entry at a time (the places held
for it), or notify everyone waiting whose request fits and the first to book wins (nothing held).
The offer email and page say exactly when a hold ends, with its time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from bookings import capacity, links, services
from bookings.exceptions import BookingError, EventFull
from bookings.models import BookingRules
from tests.factories import WaitingListEntryFactory
from tests.helpers import paid_booking, rules

pytestmark = pytest.mark.django_db
ALL = BookingRules.WaitingListOfferMode.NOTIFY_ALL


def status(entry) -> str:
    entry.refresh_from_db()
    return entry.status


def book(event, ticket, who, offer=None, seats=1):
    return services.booking_create(
        request=services.BookingRequest(
            event=event,
            booker=services.Booker(name=who, email=f"{who.lower()}@example.com"),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name=who)] * seats,
            idempotency_key=f"book-{who}-{seats}",
            waiting_offer=offer,
        )
    )


def link_token(message) -> str:
    url = [word for word in message.body.split() if "?offer=" in word][0]
    return parse_qs(urlparse(url).query)["offer"][0]


@pytest.fixture
def notify_all(event, ticket):
    event.capacity = 2
    event.save()
    rules(event, waiting_list_offer_hours=6, waiting_list_offer_mode=ALL)
    booked = [paid_booking(ticket), paid_booking(ticket)]
    queue = [
        WaitingListEntryFactory(event=event, email="one@example.com"),
        WaitingListEntryFactory(event=event, email="three@example.com", quantity=3),
        WaitingListEntryFactory(event=event, email="two@example.com"),
    ]
    return booked, queue


def test_notify_all_emails_everyone_whose_request_fits_and_holds_nothing(
    event, ticket, notify_all, after_commit, mailoutbox
):
    booked, (one, three, two) = notify_all

    after_commit(services.booking_cancel, booking=booked[0])

    notified = sorted(m.to[0] for m in mailoutbox if "first to book" in m.body)
    assert notified == ["one@example.com", "two@example.com"]  # three places don't fit in one
    assert {status(one), status(three), status(two)} == {"waiting"}
    event.refresh_from_db()
    assert event.seats_held == 0 and capacity.seats_left(event) == 1
    assert capacity.seats_recount() == []


def test_notify_all_the_first_to_book_wins_and_the_others_find_it_gone(
    event, ticket, notify_all, after_commit, mailoutbox
):
    booked, (one, _, two) = notify_all
    after_commit(services.booking_cancel, booking=booked[0])
    tokens = {m.to[0]: link_token(m) for m in mailoutbox if "first to book" in m.body}
    second = links.waiting_list_offer_for_token(event=event, token=tokens["two@example.com"])
    first = links.waiting_list_offer_for_token(event=event, token=tokens["one@example.com"])
    assert (first, second) == (one, two)

    booking = after_commit(services.booking_create, request=_request(event, ticket, "Two", second))

    assert booking.attendees.count() == 1 and status(two) == "booked"
    with pytest.raises(EventFull):
        book(event, ticket, "One", offer=first)
    assert status(one) == "waiting"  # still in line for the next place


def test_notify_all_reminds_nobody_twice_within_the_window(
    event, ticket, notify_all, after_commit, mailoutbox
):
    booked, _ = notify_all
    after_commit(services.booking_cancel, booking=booked[0])
    before = len(mailoutbox)

    assert after_commit(services.waiting_list_offer_due) == 0
    assert len(mailoutbox) == before
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=7)):
        assert after_commit(services.waiting_list_offer_due) == 2  # the place is still free: again
    assert len(mailoutbox) == before + 2


def test_a_notify_all_link_books_no_more_than_its_request(
    event, ticket, notify_all, after_commit, mailoutbox
):
    booked, (one, _, _) = notify_all
    after_commit(services.booking_cancel, booking=booked[0])
    after_commit(services.booking_cancel, booking=booked[1])
    with pytest.raises(BookingError):
        book(event, ticket, "One", offer=one, seats=2)


def test_the_timed_offer_email_and_page_say_when_the_hold_ends_with_its_time_zone(
    organiser, event, ticket, after_commit, mailoutbox
):
    organiser.time_zone = "America/Lima"  # UTC-5, no daylight saving
    organiser.save()
    event.capacity = 1
    event.save()
    rules(event, waiting_list_offer_hours=3)
    booking = paid_booking(ticket)
    entry = WaitingListEntryFactory(event=event, email="wes@example.com")

    with time_machine.travel(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), tick=False):
        event.starts_at = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
        event.ends_at = event.starts_at + timedelta(hours=1)
        event.save()
        after_commit(services.booking_cancel, booking=booking)
        entry.refresh_from_db()
        assert entry.offer_expires_at == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)

        (offer,) = [m for m in mailoutbox if m.to == ["wes@example.com"]]
        assert "Monday 30 November, 10:00 Lima time" in offer.body  # 15:00 UTC in Lima
        page = Client().get(links.waiting_list_offer_url(entry).removeprefix(settings.SITE_URL))
        html = page.content.decode()
    assert "Monday 30 November, 10:00 Lima time" in html
    assert 'datetime="2026-11-30T15:00:00+00:00"' in html  # the browser shows it in its own zone too


def _request(event, ticket, who, offer):
    return services.BookingRequest(
        event=event,
        booker=services.Booker(name=who, email=f"{who.lower()}@example.com"),
        tickets=[services.TicketRequest(ticket_type=ticket, attendee_name=who)],
        idempotency_key=f"book-{who}",
        waiting_offer=offer,
    )


def test_a_notice_link_says_nothing_is_held_and_later_that_the_places_went(
    event, ticket, notify_all, after_commit, mailoutbox
):
    booked, (one, _, two) = notify_all
    after_commit(services.booking_cancel, booking=booked[0])
    (notice,) = [m for m in mailoutbox if m.to == ["one@example.com"]]
    url = [word for word in notice.body.split() if "?offer=" in word][0].removeprefix(settings.SITE_URL)

    assert "nothing is held, the first to book gets them" in Client().get(url).content.decode()
    after_commit(services.booking_create, request=_request(event, ticket, "Two", two))
    assert "someone else booked the free places first" in Client().get(url).content.decode()
