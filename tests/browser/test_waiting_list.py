"""A guest joins a full event's waiting list for two places (all together), opens the manage link
the email carries, sees their place and leaves it: at desktop and phone widths, with no account."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from bookings import links
from bookings.models import Event, WaitingListEntry
from tests.browser.conftest import DESKTOP, assert_accessible, assert_fits, settled


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_guest_joins_for_two_places_and_leaves_through_the_manage_link(
    new_page, demo_server, viewport, javascript
):
    event = Event.objects.get(title="Full Moon Workshop")
    email = f"family-{viewport['width']}-{'js' if javascript else 'nojs'}@example.com"
    page = new_page(viewport, logged_in=False, javascript=javascript)
    page.goto(demo_server.at(reverse("waiting_list_join", args=[event.organiser.slug, event.code])))

    page.get_by_label("Your name").fill("Fay Family")
    page.get_by_label("Your email").fill(email)
    page.get_by_label("Places wanted").fill("2")
    page.get_by_label("All together or none").check()
    assert_fits(page)
    if viewport == DESKTOP and javascript:
        assert_accessible(page, "waiting list join form")
    with page.expect_navigation():
        page.get_by_role("button", name="Join waiting list").click()
    assert "Check your email to confirm your place" in page.locator("#messages").inner_text()

    entry = WaitingListEntry.objects.get(email=email)
    assert (entry.quantity, entry.accepts_fewer, entry.status) == (
        2,
        False,
        WaitingListEntry.Status.UNCONFIRMED,
    )
    page.goto(demo_server.url + links.waiting_list_manage_url(entry).removeprefix(settings.SITE_URL))
    page.wait_for_url(demo_server.at(f"/portal/waiting/{entry.code}/"))
    main = page.locator("main").inner_text()
    assert "You asked for 2 places" in main and "All the places together, or none" in main
    assert_fits(page)
    if viewport == DESKTOP and javascript:
        assert_accessible(page, "a guest's waiting-list place")

    page.get_by_role("link", name="Leave list").click()
    dialog = page.get_by_role("dialog", name="Leave the waiting list?")
    dialog.wait_for()
    if javascript:
        settled(page)
    else:
        page.wait_for_url(f"**/portal/waiting/{entry.code}/leave/")
    assert_fits(page)
    with page.expect_navigation():
        dialog.get_by_role("button", name="Leave list").click()

    page.wait_for_url(demo_server.at(f"/portal/waiting/{entry.code}/"))
    assert "You're no longer on this waiting list" in page.locator("main").inner_text()
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.LEFT


@pytest.fixture
def held_place(demo_server):
    """A place held for the demo booker on Sunrise Flow (the counter holds it), given back after."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from bookings import capacity, services
    from tests.browser.conftest import DEMO_EMAIL

    event = Event.objects.get(title="Sunrise Flow")
    with transaction.atomic():
        locked = capacity.events_lock(event.pk)[event.pk]
        entry = WaitingListEntry.objects.create(
            organiser=event.organiser,
            event=event,
            user=User.objects.get(email=DEMO_EMAIL),
            name="Demo Booker",
            email=DEMO_EMAIL,
            status=WaitingListEntry.Status.OFFERED,
            confirmed_at=timezone.now(),
            offer_expires_at=timezone.now() + timedelta(hours=5),
        )
        capacity.seats_count(locked, held=1)
    yield entry
    services.waiting_list_leave(entry=entry)


def test_the_end_of_a_hold_is_also_shown_in_the_browsers_own_time_zone(new_page, demo_server, held_place):
    page = new_page(timezone_id="America/New_York")
    page.goto(demo_server.at(f"/portal/waiting/{held_place.code}/"))
    held = page.locator("time[data-local-time]")
    assert held.get_attribute("datetime") == held_place.offer_expires_at.astimezone(UTC).isoformat()
    local = page.locator(".local-time")
    local.wait_for()
    in_new_york = held_place.offer_expires_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert f"{in_new_york:%H:%M}" in local.inner_text()  # New York's own reading of the same moment
    assert "GMT-5" in local.inner_text() or "EST" in local.inner_text()

    at_home = new_page(timezone_id=held_place.organiser.time_zone)
    at_home.goto(demo_server.at(f"/portal/waiting/{held_place.code}/"))
    at_home.locator("time[data-local-time][data-local-done]").wait_for(state="attached")
    assert at_home.locator(".local-time").count() == 0  # the page already says it in this zone


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_booker_chooses_their_time_zone_and_the_held_places_end_is_told_in_it(
    new_page, demo_server, fresh_user, viewport, javascript
):
    from tests.browser.conftest import log_in

    user, password = fresh_user()
    page = new_page(viewport, logged_in=False, javascript=javascript, timezone_id="Asia/Tokyo")
    log_in(page, demo_server.url, user.email, password, next_path="/portal/account/")
    select = page.get_by_label("Your time zone")
    assert select.input_value() == ""  # the organiser's zone until the booker chooses
    offer = page.get_by_role("button", name="Use this device's time zone")
    if javascript:
        assert "This device is set to Asia/Tokyo." in page.locator("[data-browser-zone-note]").inner_text()
        offer.click()  # progressive enhancement: it chooses, the booker still saves
        assert select.input_value() == "Asia/Tokyo"
        user.refresh_from_db()
        assert user.time_zone == ""
    else:
        assert offer.count() == 0 or not offer.is_visible()
        select.select_option("Asia/Tokyo")
    assert_fits(page)
    if viewport == DESKTOP and javascript:
        assert_accessible(page, "the Account page's time zone")
    with page.expect_navigation():
        page.get_by_role("button", name="Save time zone").click()
    assert "now told in Asia/Tokyo" in page.locator("#messages").inner_text()
    user.refresh_from_db()
    assert user.time_zone == "Asia/Tokyo"
    assert page.get_by_label("Your time zone").input_value() == "Asia/Tokyo"

    entry = _held_for(user)
    try:
        page.goto(demo_server.at(f"/portal/waiting/{entry.code}/"))
        held = page.locator("time[data-local-time]")
        in_tokyo = entry.offer_expires_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
        assert held.get_attribute("data-local-time") == "Asia/Tokyo"
        assert f"{in_tokyo:%H:%M} JST" in held.inner_text()
        if javascript:
            held.and_(page.locator("[data-local-done]")).wait_for(state="attached")
            assert page.locator(".local-time").count() == 0  # the browser reads the same time
        assert_fits(page)
    finally:
        from bookings import services

        services.waiting_list_leave(entry=entry)


def _held_for(user):
    """A place held for `user` on Sunrise Flow for 5 hours (the counter holds it)."""
    from django.db import transaction
    from django.utils import timezone

    from bookings import capacity

    event = Event.objects.get(title="Sunrise Flow")
    with transaction.atomic():
        locked = capacity.events_lock(event.pk)[event.pk]
        entry = WaitingListEntry.objects.create(
            organiser=event.organiser,
            event=event,
            user=user,
            name=user.name,
            email=user.email,
            status=WaitingListEntry.Status.OFFERED,
            confirmed_at=timezone.now(),
            offer_expires_at=timezone.now() + timedelta(hours=5),
        )
        capacity.seats_count(locked, held=1)
    return entry


@pytest.mark.parametrize("width", [320, 375, 1280], ids=["320", "375", "desktop"])
def test_a_guest_chooses_the_ticket_they_wait_for(new_page, demo_server, width):
    from tests.browser.conftest import PHONE

    event = Event.objects.get(title="Messy Play")  # full, two ticket types
    child = event.ticket_types.order_by("position", "pk").first()
    email = f"ticket-{width}@example.com"
    page = new_page({"width": width, "height": PHONE["height"]}, logged_in=False)
    page.goto(demo_server.at(reverse("waiting_list_join", args=[event.organiser.slug, event.code])))

    ticket = page.get_by_label("Ticket")
    assert ticket.input_value() == ""  # any ticket, unless the booker chooses
    ticket.select_option(label=child.name)
    page.get_by_label("Your name").fill("Tia Ticket")
    page.get_by_label("Your email").fill(email)
    assert_fits(page)
    if width == 1280:
        assert_accessible(page, "waiting list join form with a ticket choice")
    with page.expect_navigation():
        page.get_by_role("button", name="Join waiting list").click()

    entry = WaitingListEntry.objects.get(email=email)
    assert entry.ticket_type == child
    page.goto(demo_server.url + links.waiting_list_manage_url(entry).removeprefix(settings.SITE_URL))
    assert f"Tickets: {child.name}" in page.locator("main").inner_text()
    assert_fits(page)
    entry.delete()
