"""The small things a visitor, Lighthouse or a screen reader notices: a favicon, a description,
headings in order, the Events title following the organiser filter, a cancelled booking said once,
time zones as people say them, the child badge and the form responses."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from portal.dates import zone_label
from tests.factories import AttendeeFactory, BookingFactory, BookingFormResponseFactory, EventFactory


def headings(html: str) -> list[int]:
    return [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]


@pytest.mark.django_db
def test_the_favicon_is_linked_and_served(client):
    html = client.get("/").content.decode()
    assert re.search(r'<link rel="icon" href="/static/favicon.svg"', html)
    assert finders.find("favicon.svg") and finders.find("favicon.ico")
    assert client.get("/favicon.ico")["Location"] == "/static/favicon.ico"  # never a 404


@pytest.mark.django_db
def test_robots_txt_is_served(client):
    assert client.get("/robots.txt").status_code == 200


@pytest.mark.django_db
def test_public_pages_have_a_meta_description(client, organiser):
    organiser.public_page_intro = "Small, friendly yoga classes by the river."
    organiser.save()
    event = EventFactory(organiser=organiser, title="Sunrise Flow", description="An energising morning flow.")
    pages = {
        "/": "everything you booked",
        reverse("organiser_page", args=[organiser.slug]): "Small, friendly yoga classes by the river.",
        reverse(
            "event_book", args=[organiser.slug, event.code]
        ): "Sunrise Flow with Riverside: An energising",
        reverse("account_login"): "Log in",
    }
    for url, words in pages.items():
        description = re.search(
            r'<meta name="description" content="([^"]*)"', client.get(url).content.decode()
        )
        assert description and words.lower() in description.group(1).lower(), url


@pytest.mark.django_db
def test_the_events_page_has_its_headings_in_order(client_as_booker, booker, organiser):
    AttendeeFactory(booking=BookingFactory(organiser=organiser, user=booker))
    levels = headings(client_as_booker.get(reverse("bookings:event_list")).content.decode())
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels  # no h1 -> h3


@pytest.mark.django_db
def test_the_events_title_follows_the_organiser_filter_also_when_htmx_swaps_it(
    client_as_booker, booker, organiser, other_organiser, htmx
):
    for o in (organiser, other_organiser):
        AttendeeFactory(booking=BookingFactory(organiser=o, user=booker))
    url = reverse("bookings:event_list")
    assert '<h1 id="events-title">Your bookings</h1>' in client_as_booker.get(url).content.decode()
    page = client_as_booker.get(url, {"organiser": organiser.slug}).content.decode()
    assert "<title>Your bookings at Riverside · Booker Portal</title>" in page
    fragment = client_as_booker.get(
        url, {"organiser": organiser.slug, "tab": "upcoming"}, **htmx
    ).content.decode()
    assert '<h1 id="events-title">Your bookings at Riverside</h1>' in fragment  # the swap replaces it


@pytest.mark.django_db
def test_an_organiser_cancelled_booking_says_so_once(client_as_booker, booker, organiser):
    event = EventFactory(organiser=organiser, status="cancelled", cancelled_at=timezone.now())
    booking = BookingFactory(
        organiser=organiser,
        event=event,
        user=booker,
        status=Booking.Status.CANCELLED,
        cancelled_by=Booking.CancelledBy.ORGANISER,
        cancelled_at=timezone.now(),
    )
    text = client_as_booker.get(reverse("bookings:booking_detail", args=[booking.reference])).content.decode()
    assert text.lower().count("cancelled this event") + text.lower().count("cancelled the event") == 1


def test_a_time_zone_reads_as_people_say_it():
    winter = datetime(2030, 1, 15, 12, tzinfo=ZoneInfo("UTC"))
    summer = datetime(2030, 7, 15, 12, tzinfo=ZoneInfo("UTC"))
    assert zone_label(winter, "Europe/London") == "GMT"
    assert zone_label(summer, "Europe/London") == "BST"
    assert zone_label(summer, "Europe/Berlin") == "CEST"
    assert zone_label(summer, "America/Argentina/Buenos_Aires") == "Buenos Aires time"  # its own is "-03"


@pytest.mark.django_db
def test_the_booking_page_shows_the_zone_the_child_badge_and_the_answers(client_as_booker, booker, organiser):
    booking = BookingFactory(organiser=organiser, user=booker)
    AttendeeFactory(booking=booking, name="Maya", is_child=True)
    BookingFormResponseFactory(booking=booking, answer="A sore knee")
    html = client_as_booker.get(reverse("bookings:booking_detail", args=[booking.reference])).content.decode()
    assert "(Europe/London)" not in html
    assert re.search(r"\d\d:\d\d (GMT|BST)</time>", html)
    assert re.search(r'Maya <span class="badge">.*Child</span>', html)
    assert re.search(
        r'<dl class="answers"><div><dt>Any injuries we should know about\?</dt><dd>A sore knee</dd>', html
    )
