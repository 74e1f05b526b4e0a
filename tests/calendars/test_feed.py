"""The booker's personal calendar feed: one secret address with every booking at every organiser,
kept up to date (moves, cancellations), cheap to poll, rotatable, gone with the account."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from bookings.models import Booking
from calendars.models import CalendarFeed
from calendars.views import FEED_GUESSES, FEED_PER_ADDRESS
from tests.calendars.helpers import parse
from tests.factories import PASSWORD, AttendeeFactory, EventFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")


def book(user, organiser, *, starts_at=None, status=Booking.Status.CONFIRMED, **booking):
    event = EventFactory(organiser=organiser, **({"starts_at": starts_at} if starts_at else {}))
    attendee = AttendeeFactory(
        organiser=organiser,
        booking__event=event,
        booking__user=user,
        booking__booker_email=user.email,
        booking__status=status,
        ticket_type__event=event,
        **{f"booking__{k}": v for k, v in booking.items()},
    )
    return attendee.booking


def feed_path(client) -> str:
    response = client.get(reverse("calendars:subscribe"))
    assert response.status_code == 200
    https_url = response.context["https_url"]
    return https_url.removeprefix("http://127.0.0.1:8000")


def entries(response) -> dict[str, object]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/calendar")
    return {
        str(e["uid"]).split("@")[0].removeprefix("booking-"): e
        for e in parse(response.content).walk("VEVENT")
    }


@pytest.mark.django_db
def test_the_events_page_leads_to_the_feed_with_webcal_and_https_addresses(client_as_booker, booker):
    events = client_as_booker.get(reverse("bookings:event_list"))
    assert reverse("calendars:subscribe") in events.content.decode()

    response = client_as_booker.get(reverse("calendars:subscribe"))

    token = CalendarFeed.objects.get(user=booker).token
    html = response.content.decode()
    assert f"webcal://127.0.0.1:8000/portal/calendar/feed/{token}.ics" in html
    assert f"http://127.0.0.1:8000/portal/calendar/feed/{token}.ics" in html
    # Visiting again shows the same address.
    assert (
        client_as_booker.get(reverse("calendars:subscribe")).context["https_url"]
        == response.context["https_url"]
    )


@pytest.mark.django_db
def test_the_feed_holds_every_booking_at_every_organiser_and_nothing_of_anyone_else(
    client_as_booker, booker, other_booker, organiser, other_organiser
):
    here = book(booker, organiser, starts_at=datetime(2030, 3, 21, 10, tzinfo=LONDON))
    there = book(booker, other_organiser, starts_at=datetime(2030, 3, 31, 10, tzinfo=LONDON))
    someone_elses = book(other_booker, organiser)
    pending = book(booker, organiser, status=Booking.Status.PENDING)
    long_past = book(booker, organiser, starts_at=timezone.now() - timedelta(days=40))
    path = feed_path(client_as_booker)

    found = entries(Client().get(path))  # a calendar app: no session

    assert set(found) == {here.reference, there.reference}
    assert someone_elses.reference not in found and pending.reference not in found
    assert long_past.reference not in found
    # The right moments on either side of the clocks going forward, in UTC.
    assert found[here.reference].decoded("dtstart") == datetime(2030, 3, 21, 10, tzinfo=UTC)
    assert found[there.reference].decoded("dtstart") == datetime(2030, 3, 31, 9, tzinfo=UTC)
    assert found[here.reference]["summary"] == here.event.title
    assert found[here.reference]["status"] == "CONFIRMED"
    # Other people on the booker's own tickets are theirs to see; nobody else's names are there.
    body = Client().get(path).content.decode()
    assert someone_elses.attendees.get().name not in body and someone_elses.booker_name not in body
    # Links in a feed open the booking's page (a login), never a signed View booking link.
    assert "/portal/link/" not in body


@pytest.mark.django_db
def test_a_cancelled_booking_shows_as_cancelled_for_30_days_then_goes(client_as_booker, booker, organiser):
    recent = book(
        booker, organiser, status=Booking.Status.CANCELLED, cancelled_at=timezone.now() - timedelta(days=29)
    )
    old = book(
        booker, organiser, status=Booking.Status.CANCELLED, cancelled_at=timezone.now() - timedelta(days=31)
    )

    found = entries(Client().get(feed_path(client_as_booker)))

    assert set(found) == {recent.reference}
    assert old.reference not in found
    assert found[recent.reference]["status"] == "CANCELLED"


@pytest.mark.django_db
def test_a_moved_booking_moves_in_the_feed_and_the_etag_changes(client_as_booker, booker, organiser):
    booking = book(booker, organiser, starts_at=datetime(2030, 5, 1, 10, tzinfo=LONDON))
    path = feed_path(client_as_booker)
    calendar = Client()
    first = calendar.get(path)
    before = entries(first)[booking.reference]

    with time_machine.travel(timezone.now() + timedelta(minutes=3)):  # SEQUENCE counts seconds
        booking.event = EventFactory(organiser=organiser, starts_at=datetime(2030, 5, 8, 18, tzinfo=LONDON))
        booking.save()
    again = calendar.get(path, HTTP_IF_NONE_MATCH=first["ETag"])

    after = entries(again)[booking.reference]
    assert again["ETag"] != first["ETag"]
    assert after["uid"] == before["uid"] and after["sequence"] > before["sequence"]
    assert after.decoded("dtstart") == datetime(2030, 5, 8, 17, tzinfo=UTC)


@pytest.mark.django_db
def test_polling_an_unchanged_feed_costs_one_query(
    client_as_booker, booker, organiser, other_organiser, django_assert_max_num_queries
):
    for n in range(3):
        book(booker, organiser if n % 2 else other_organiser)
    path = feed_path(client_as_booker)
    calendar = Client()
    with django_assert_max_num_queries(2):  # the feed with its freshness, then the bookings
        first = calendar.get(path)
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]

    with django_assert_max_num_queries(1):
        unchanged = calendar.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304
    with django_assert_max_num_queries(1):
        since = calendar.get(path, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304

    # The same two queries with many more bookings.
    for _ in range(10):
        book(booker, organiser)
    with django_assert_max_num_queries(2):
        assert len(entries(calendar.get(path, HTTP_IF_NONE_MATCH=first["ETag"]))) == 13


@pytest.mark.django_db
def test_a_new_address_makes_the_old_one_404(client_as_booker, booker, organiser):
    book(booker, organiser)
    old = feed_path(client_as_booker)
    account = client_as_booker.get(reverse("accounts:account"))
    assert reverse("calendars:feed_rotate") in account.content.decode()

    # Asking first changes nothing.
    assert client_as_booker.get(reverse("calendars:feed_rotate")).status_code == 200
    assert Client().get(old).status_code == 200

    response = client_as_booker.post(reverse("calendars:feed_rotate"))

    assert response.status_code == 302
    new = feed_path(client_as_booker)
    assert new != old
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200


@pytest.mark.django_db
def test_deleting_the_account_revokes_the_feed(client_as_booker, booker, organiser):
    book(booker, organiser)
    path = feed_path(client_as_booker)

    account_services.account_delete(user=booker, password=PASSWORD)

    assert Client().get(path).status_code == 404
    assert not CalendarFeed.objects.exists()


@pytest.mark.django_db
def test_unknown_addresses_are_404_and_guessing_is_rate_limited(client_as_booker, booker, organiser):
    book(booker, organiser)
    path = feed_path(client_as_booker)
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(FEED_GUESSES["per_client"]):
        assert guesser.get(reverse("calendars:feed", args=[f"guess-{n}"])).status_code == 404

    assert guesser.get(reverse("calendars:feed", args=["one-more-guess"])).status_code == 429
    assert guesser.get(path).status_code == 429  # even the right one, once guessing
    # Everyone else's calendars (Google's fetchers included) go on fetching.
    assert Client(REMOTE_ADDR="198.51.100.7").get(path).status_code == 200


@pytest.mark.django_db
def test_one_address_polled_like_a_script_is_slowed_down(client_as_booker, booker, organiser):
    book(booker, organiser)
    path = feed_path(client_as_booker)
    for _ in range(FEED_PER_ADDRESS["per_subject"]):
        assert Client().get(path).status_code == 200

    response = Client(REMOTE_ADDR="198.51.100.7").get(path)

    assert response.status_code == 429 and response["Retry-After"]
