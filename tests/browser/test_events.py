"""The Events section as a person uses it: tabs that keep the address and history, the organiser
filter, Options and Book again, and what htmx does while a request is on its way or fails.

Nothing here changes the demo data (a held request is answered by the test, never the server).
"""

from __future__ import annotations

from bookings.models import Booking
from tests.browser.conftest import assert_accessible, assert_fits, settled, wait_until


def cards(page) -> set[str]:
    ids = page.locator("#tab-panel article.card").evaluate_all("els => els.map(e => e.id)")
    return set(ids)


# The demo's past bookings: two paid by card, one with the pass, one from the gift voucher.
PAST = {"booking-RYDEMO02", "booking-RYDEMO04", "booking-RYDEMO06", "booking-LEDEMO02"}


def tab(page, name):
    return page.locator("nav.tabs").get_by_role("link", name=name, exact=True)


def test_each_tab_lists_its_bookings_and_the_address_and_history_follow(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/events/"))
    assert {"booking-RYDEMO01", "booking-LEDEMO01"} <= cards(page)
    assert not {"booking-RYDEMO02", "booking-RYDEMO03", "booking-LEDEMO03"} & cards(page)
    assert tab(page, "Upcoming").get_attribute("aria-current") == "page"
    assert_fits(page)

    tab(page, "Cancelled").click()
    page.wait_for_url("**/portal/events/?tab=cancelled")
    assert cards(page) == {"booking-RYDEMO03", "booking-LEDEMO03"}
    assert "Event cancelled" in page.locator("#booking-RYDEMO03").inner_text()
    assert tab(page, "Cancelled").get_attribute("aria-current") == "page"

    tab(page, "Past").click()
    page.wait_for_url("**/portal/events/?tab=past")
    assert cards(page) == PAST
    riverside = page.locator("#booking-RYDEMO02 .attendees li")
    assert riverside.filter(has_text="Demo Booker").locator(".attendance").inner_text() == "Attended"
    explorers = page.locator("#booking-LEDEMO02")
    leo = explorers.locator(".attendees li").filter(has_text="Leo Booker")
    assert leo.locator(".attendance").inner_text() == "Booked"  # no attendance tracking there
    assert explorers.locator("svg.icon-child").count() == 2  # child attendees get a person icon
    assert explorers.get_by_role("link", name="Book again at Little Explorers").is_visible()

    tab(page, "Waiting list").click()
    page.wait_for_url("**/portal/events/?tab=waiting")
    titles = page.locator("#tab-panel article h2").all_inner_texts()
    assert sorted(titles) == ["Full Moon Workshop", "Messy Play"]
    assert_fits(page)

    # Back and forward walk the tabs the person visited, content and all.
    page.go_back()
    page.wait_for_url("**/portal/events/?tab=past")
    page.locator("#booking-RYDEMO02").wait_for()
    assert tab(page, "Past").get_attribute("aria-current") == "page"
    page.go_back()
    page.wait_for_url("**/portal/events/?tab=cancelled")
    page.locator("#booking-RYDEMO03").wait_for()
    page.go_forward()
    page.wait_for_url("**/portal/events/?tab=past")
    page.locator("#booking-LEDEMO02").wait_for()

    # A reload of a pushed address renders the whole page, not a fragment.
    page.reload()
    assert page.get_by_role("heading", name="Your bookings", exact=True).is_visible()
    assert cards(page) == PAST


def test_tabs_swap_in_place_without_reloading_the_page(new_page, demo_server):
    page = new_page()
    page.goto(demo_server.at("/portal/events/"))
    page.evaluate("window.__still_here = true")
    tab(page, "Past").click()
    page.wait_for_url("**/portal/events/?tab=past")
    assert page.evaluate("window.__still_here") is True


def test_the_organiser_filter_narrows_the_list_and_keeps_the_tab(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/events/?tab=past"))
    page.get_by_label("Organiser").select_option(label="Little Explorers")
    page.wait_for_url("**/portal/events/?tab=past&organiser=little-explorers")
    wait_until(page, "!document.getElementById('booking-RYDEMO02')")
    assert cards(page) == {"booking-LEDEMO02"}
    tab(page, "Upcoming").click()
    page.wait_for_url("**/portal/events/?tab=upcoming&organiser=little-explorers")
    assert "booking-LEDEMO01" in cards(page) and "booking-RYDEMO01" not in cards(page)


def test_without_javascript_tabs_and_the_filter_are_plain_links_and_forms(new_page, demo_server):
    page = new_page(javascript=False)
    page.goto(demo_server.at("/portal/events/"))
    tab(page, "Cancelled").click()
    page.wait_for_url("**/portal/events/?tab=cancelled")
    assert cards(page) == {"booking-RYDEMO03", "booking-LEDEMO03"}
    page.get_by_label("Organiser").select_option(label="Riverside Yoga")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/portal/events/?tab=cancelled&organiser=riverside-yoga")
    assert cards(page) == {"booking-RYDEMO03"}


def test_options_shows_the_event_order_organiser_and_book_again(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/events/"))
    page.get_by_role("link", name="Options for Sunrise Flow").click()
    page.wait_for_url(demo_server.at("/portal/bookings/RYDEMO01/"))

    text = page.locator("main").inner_text()
    assert "Studio 1" in text and "An energising morning flow" in text
    order = page.locator("section", has=page.get_by_role("heading", name="Order details"))
    assert "Sam Booker" in order.inner_text() and "Concession" in order.inner_text()
    assert "£20.00" in order.inner_text()
    assert "hello@riverside-yoga.example" in text
    assert_fits(page)

    page.get_by_role("link", name="Book again").click()
    page.wait_for_url(demo_server.at("/riverside-yoga/"))
    assert page.get_by_role("heading", name="Riverside Yoga").first.is_visible()


def test_book_again_from_the_past_tab_opens_the_organisers_page(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/events/?tab=past"))
    page.locator("#booking-RYDEMO02").get_by_role("link", name="Book again at Riverside Yoga").click()
    page.wait_for_url(demo_server.at("/riverside-yoga/"))
    assert_fits(page)


def test_waiting_list_options_show_the_event_and_the_place(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/events/?tab=waiting"))
    page.get_by_role("link", name="Options for Full Moon Workshop").click()
    page.wait_for_url("**/portal/waiting/*/")
    assert page.get_by_role("heading", name="Full Moon Workshop waiting list").is_visible()
    assert "You're on the waiting list for 1 place" in page.locator("main").inner_text()
    assert "The Boathouse" in page.locator("main").inner_text()
    assert_fits(page)
    page.get_by_role("link", name="Back to waiting lists").click()
    page.wait_for_url("**/portal/events/?tab=waiting")


def wait_for(held: list, page, timeout_ms: int = 10_000) -> None:
    """Until the routed request has reached the test (which then answers it)."""
    for _ in range(timeout_ms // 20):
        if held:
            return
        page.wait_for_timeout(20)
    raise AssertionError("the request never left the browser")


def open_cancel_dialog(page, demo_server, reference="RYDEMO01"):
    page.goto(demo_server.at("/portal/events/"))
    page.locator(f"#booking-{reference}").get_by_role("link", name="Manage").click()
    manage = page.get_by_role("dialog", name="Manage your booking")
    manage.wait_for()
    settled(page)
    manage.get_by_role("link", name="Cancel ticket").click()
    dialog = page.get_by_role("dialog", name="Cancel tickets?")  # RYDEMO01 has two tickets (#21)
    dialog.wait_for()
    settled(page)
    return dialog


def test_a_request_in_flight_disables_its_button_and_a_server_error_says_so(new_page, demo_server):
    page = new_page()
    dialog = open_cancel_dialog(page, demo_server)
    held = []
    page.route("**/portal/bookings/RYDEMO01/cancel/", lambda route: held.append(route))

    button = dialog.get_by_role("button", name="Cancel booking")
    button.click()
    wait_for(held, page)
    assert button.is_disabled()  # a second click cannot send it again

    held[0].fulfill(status=500, body="Server Error")
    alert = page.locator("#messages [role=alert]")
    alert.wait_for()
    assert "something went wrong on our side" in alert.inner_text()
    assert button.is_enabled()  # they can try again
    assert Booking.objects.get(reference="RYDEMO01").status == Booking.Status.CONFIRMED


def test_a_lost_connection_says_so(new_page, demo_server):
    page = new_page()
    dialog = open_cancel_dialog(page, demo_server)
    page.route("**/portal/bookings/RYDEMO01/cancel/", lambda route: route.abort("internetdisconnected"))
    dialog.get_by_role("button", name="Cancel booking").click()
    alert = page.locator("#messages [role=alert]")
    alert.wait_for()
    assert "couldn't reach" in alert.inner_text()


def test_the_events_pages_have_no_serious_accessibility_problems(new_page, demo_server, viewport):
    page = new_page(viewport)
    for path in [
        "/portal/events/",
        "/portal/events/?tab=cancelled",
        "/portal/events/?tab=past",
        "/portal/events/?tab=waiting",
        "/portal/bookings/RYDEMO01/",
        "/portal/bookings/RYDEMO02/",
        "/portal/bookings/LEDEMO03/",
    ]:
        page.goto(demo_server.at(path))
        assert_accessible(page)
        assert_fits(page)
    page.goto(demo_server.at("/portal/events/?tab=waiting"))
    page.get_by_role("link", name="Options for Messy Play").click()
    page.wait_for_url("**/portal/waiting/*/")
    assert_accessible(page)
