"""A booker who chose a time zone on their Account page is told when a held place ends in that
zone, named, in the offer email, on the offer page, on the place's page and in the Waiting list
tab; a guest (no account, or an account that chose none) is told in the organiser's zone. Only
the reader's own zone is ever used: never another booker's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from bookings import links, services
from tests.factories import UserFactory, WaitingListEntryFactory
from tests.helpers import paid_booking, rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(organiser, event, ticket):
    """A London organiser's event, full with one booking of two places; offers hold for 3 hours."""
    organiser.time_zone = "Europe/London"
    organiser.save()
    event.capacity = 2
    event.starts_at = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    event.ends_at = event.starts_at + timedelta(hours=1)
    event.save()
    rules(event, waiting_list_offer_hours=3)
    return paid_booking(ticket, seats=2)


def offer_at(moment, booking, after_commit):
    """The booking is cancelled at `moment` (UTC): its places are offered to the people waiting."""
    with time_machine.travel(moment, tick=False):
        after_commit(services.booking_cancel, booking=booking)


def offer_email(mailoutbox, address) -> str:
    (message,) = [m for m in mailoutbox if m.to == [address] and "We are holding" in m.body]
    html = message.alternatives[0][0] if message.alternatives else ""
    return message.body + html


@pytest.mark.parametrize(
    ("offered_at", "in_new_york", "in_london"),
    [
        # Between the two clocks' changes: London is back on GMT, New York still on EDT (4 hours).
        (datetime(2026, 10, 28, 12, 0, tzinfo=UTC), "Wednesday 28 October, 11:00 EDT", "15:00 GMT"),
        # The hold runs across New York's fall back (06:00 UTC): 00:00 EDT + 3 hours is 02:00 EST.
        (datetime(2026, 11, 1, 4, 0, tzinfo=UTC), "Sunday 1 November, 02:00 EST", "07:00 GMT"),
        # Summer: both on daylight time (5 hours apart).
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "Wednesday 1 July, 11:00 EDT", "16:00 BST"),
    ],
)
def test_the_offer_email_tells_the_hold_end_in_the_bookers_zone_across_daylight_saving(
    event, full, after_commit, mailoutbox, offered_at, in_new_york, in_london
):
    ny = UserFactory(email="ny@example.com", time_zone="America/New_York")
    WaitingListEntryFactory(event=event, user=ny, email=ny.email, quantity=2)

    offer_at(offered_at, full, after_commit)

    body = offer_email(mailoutbox, "ny@example.com")
    assert in_new_york in body
    assert in_london not in body  # the organiser's zone is not used for this booker


def test_a_guest_and_a_booker_without_a_zone_are_told_in_the_organisers_zone(
    event, full, after_commit, mailoutbox
):
    no_zone = UserFactory(email="nozone@example.com", time_zone="")
    WaitingListEntryFactory(
        event=event, user=no_zone, email=no_zone.email, confirmed_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    WaitingListEntryFactory(
        event=event, email="guest@example.com", confirmed_at=datetime(2026, 1, 2, tzinfo=UTC)
    )

    offer_at(datetime(2026, 10, 28, 12, 0, tzinfo=UTC), full, after_commit)

    for address in ["nozone@example.com", "guest@example.com"]:
        assert "Wednesday 28 October, 15:00 GMT" in offer_email(mailoutbox, address)


def test_each_offer_email_uses_its_own_bookers_zone_never_another_bookers(
    event, full, after_commit, mailoutbox
):
    tokyo = UserFactory(email="tokyo@example.com", time_zone="Asia/Tokyo")
    lima = UserFactory(email="lima@example.com", time_zone="America/Lima")
    WaitingListEntryFactory(
        event=event, user=tokyo, email=tokyo.email, confirmed_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    WaitingListEntryFactory(
        event=event, user=lima, email=lima.email, confirmed_at=datetime(2026, 1, 2, tzinfo=UTC)
    )
    # The guest's address is also a Tokyo booker's login, but the place is not in an account.
    UserFactory(email="guest@example.com", time_zone="Asia/Tokyo")

    offer_at(datetime(2026, 10, 28, 12, 0, tzinfo=UTC), full, after_commit)

    to_tokyo, to_lima = (
        offer_email(mailoutbox, "tokyo@example.com"),
        offer_email(mailoutbox, "lima@example.com"),
    )
    assert "Thursday 29 October, 00:00 JST" in to_tokyo and "Lima time" not in to_tokyo
    assert "Wednesday 28 October, 10:00 Lima time" in to_lima and "JST" not in to_lima


def test_the_offer_page_and_the_places_page_use_the_readers_own_zone(event, full, after_commit, mailoutbox):
    tokyo = UserFactory(email="tokyo@example.com", time_zone="Asia/Tokyo")
    entry = WaitingListEntryFactory(event=event, user=tokyo, email=tokyo.email, quantity=2)
    offer_at(datetime(2026, 10, 28, 12, 0, tzinfo=UTC), full, after_commit)
    entry.refresh_from_db()
    offer_url = links.waiting_list_offer_url(entry).removeprefix(settings.SITE_URL)
    detail_url = reverse("bookings:waiting_detail", args=[entry.code])

    with time_machine.travel(datetime(2026, 10, 28, 13, 0, tzinfo=UTC), tick=False):
        owner = Client()
        owner.force_login(tokyo)
        guest = Client()  # the offer link forwarded, opened without logging in
        sydney = UserFactory(email="sydney@example.com", time_zone="Australia/Sydney")
        other = Client()  # another booker who was given the links
        other.force_login(sydney)
        other.get(links.waiting_list_manage_url(entry).removeprefix(settings.SITE_URL))
        guest.get(links.waiting_list_manage_url(entry).removeprefix(settings.SITE_URL))

        pages = {
            who: [client.get(offer_url).content.decode(), client.get(detail_url).content.decode()]
            for who, client in [("owner", owner), ("guest", guest), ("other", other)]
        }
    for html in pages["owner"]:
        assert "Thursday 29 October, 00:00 JST" in html
        assert 'data-local-time="Asia/Tokyo"' in html
    for html in pages["guest"]:
        assert "Wednesday 28 October, 15:00 GMT" in html and "JST" not in html
    for html in pages["other"]:
        # Their own zone (Sydney is on daylight time, UTC+11): never the owner's.
        assert "Thursday 29 October, 02:00 AEDT" in html and "JST" not in html


def test_the_waiting_list_tab_says_book_by_in_the_bookers_zone(event, full, after_commit):
    tokyo = UserFactory(email="tokyo@example.com", time_zone="Asia/Tokyo")
    WaitingListEntryFactory(event=event, user=tokyo, email=tokyo.email, quantity=2)
    offer_at(datetime(2026, 10, 28, 12, 0, tzinfo=UTC), full, after_commit)
    client = Client()
    client.force_login(tokyo)

    with time_machine.travel(datetime(2026, 10, 28, 13, 0, tzinfo=UTC), tick=False):
        html = client.get(reverse("bookings:event_list") + "?tab=waiting").content.decode()

    assert "Thu 29 Oct, 00:00 JST" in html
