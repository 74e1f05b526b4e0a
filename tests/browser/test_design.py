"""The look as a person meets it: the organiser's colour and logo, phone widths down to 320 px
(nothing runs off the side, the header on one line, the chosen section and tab in view with a hint
that there is more), feedback while a request is on its way, and the membership menu that closes
on Escape, on a click outside and after its dialog."""

from __future__ import annotations

import re

import pytest

from bookings.models import Event
from tests.browser.conftest import DESKTOP, assert_accessible, assert_fits, settled, wait_until
from tests.browser.test_events import wait_for

RIVERSIDE_TEAL = "rgb(15, 118, 110)"  # the demo's #0f766e
EXPLORERS_ORANGE = "rgb(194, 65, 12)"  # #c2410c
SMALL_PHONE = {"width": 320, "height": 640}
PHONE = {"width": 375, "height": 812}
PHONES = pytest.mark.parametrize("phone", [SMALL_PHONE, PHONE], ids=["320", "375"])


def style(locator, prop: str, pseudo: str | None = None) -> str:
    return locator.evaluate("(e, [prop, pseudo]) => getComputedStyle(e, pseudo)[prop]", [prop, pseudo])


def rgb(value: str) -> tuple[int, int, int]:
    return tuple(int(n) for n in re.findall(r"\d+", value)[:3])


def contrast(first: str, second: str) -> float:
    def luminance(colour):
        channels = [c / 255 for c in rgb(colour)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def image_loaded(locator) -> bool:
    return locator.evaluate("(img) => img.complete && img.naturalWidth > 0")


# Branding -----------------------------------------------------------------------------------


def test_the_organisers_colour_and_logo_are_on_their_public_and_booking_pages(new_page, demo_server):
    page = new_page(logged_in=False)
    page.goto(demo_server.at("/riverside-yoga/"))
    assert style(page.get_by_role("link", name="Book Sunrise Flow"), "backgroundColor") == RIVERSIDE_TEAL
    assert style(page.get_by_role("link", name="Log in"), "backgroundColor") == RIVERSIDE_TEAL
    assert image_loaded(page.locator("header img.brand__logo"))
    assert image_loaded(page.get_by_role("img", name="Riverside Yoga logo"))

    page.get_by_role("link", name="Book Sunrise Flow").click()
    page.wait_for_url("**/riverside-yoga/events/*/")
    assert style(page.get_by_role("button", name="Continue"), "backgroundColor") == RIVERSIDE_TEAL
    assert style(page.locator(".date-block"), "color") == RIVERSIDE_TEAL
    assert image_loaded(page.locator("header img.brand__logo"))
    assert_accessible(page, "booking page")

    page.goto(demo_server.at("/little-explorers/"))
    assert style(page.locator(".event-card .button").first, "backgroundColor") == EXPLORERS_ORANGE


def test_each_booking_card_in_the_portal_carries_its_organisers_colour_and_logo(new_page, demo_server):
    page = new_page()
    page.goto(demo_server.at("/portal/events/"))
    riverside, explorers = page.locator("#booking-RYDEMO01"), page.locator("#booking-LEDEMO01")
    assert style(riverside.get_by_role("link", name="Manage"), "backgroundColor") == RIVERSIDE_TEAL
    assert style(explorers.get_by_role("link", name="Manage"), "backgroundColor") == EXPLORERS_ORANGE
    assert style(riverside.locator(".date-block"), "color") == RIVERSIDE_TEAL
    assert image_loaded(riverside.locator("img.booking-card__logo"))
    # The platform's own pieces keep the platform's colour.
    assert style(page.locator(".section-nav a[aria-current]"), "color") != RIVERSIDE_TEAL


def test_the_booking_card_leads_with_the_date_then_the_event_manage_primary_options_secondary(
    new_page, demo_server
):
    page = new_page()
    page.goto(demo_server.at("/portal/events/"))
    card = page.locator("#booking-RYDEMO01")
    date_box = card.locator(".date-block").bounding_box()
    title_box = card.get_by_role("heading", name="Sunrise Flow").bounding_box()
    assert date_box["x"] < title_box["x"]  # the date block first, the event beside it
    assert re.fullmatch(
        r"[A-Z]{3}\s*\d{1,2}\s*[A-Z][a-z]{2}", card.locator(".date-block").inner_text().strip()
    )
    manage, options = card.get_by_role("link", name="Manage"), card.get_by_role("link", name="Options")
    assert style(manage, "color") == "rgb(255, 255, 255)"  # filled: the primary action
    assert style(options, "backgroundColor") == "rgb(255, 255, 255)"  # outlined: secondary


# Phone widths -------------------------------------------------------------------------------


def main_pages() -> list[tuple[str, bool]]:
    sunrise = Event.objects.get(title="Sunrise Flow")
    return [
        ("/", False),
        ("/riverside-yoga/", False),
        ("/little-explorers/", False),
        (f"/riverside-yoga/events/{sunrise.code}/", False),
        ("/accounts/login/", False),
        ("/accounts/password/reset/", False),
        ("/portal/events/", True),
        ("/portal/events/?tab=cancelled", True),
        ("/portal/events/?tab=past", True),
        ("/portal/events/?tab=waiting", True),
        ("/portal/bookings/RYDEMO01/", True),
        ("/portal/bookings/RYDEMO01/manage/", True),
        ("/portal/bookings/RYDEMO01/transfer/", True),
        ("/portal/memberships/", True),
        ("/portal/passes/", True),
        ("/portal/vouchers/", True),
        ("/portal/account/", True),
        ("/accounts/password/change/", True),
    ]


HEADER_ON_ONE_LINE = """() => {
  const inner = document.querySelector('.site-header__inner');
  const items = [...inner.querySelectorAll('a, button')].filter(e => e.offsetParent !== null);
  const tops = items.map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2));
  return inner.getBoundingClientRect().height <= 64
    && items.every(e => e.getBoundingClientRect().height <= 48)
    && Math.max(...tops) - Math.min(...tops) <= 4;
}"""


@PHONES
def test_nothing_runs_off_the_side_and_the_header_stays_on_one_line(new_page, demo_server, phone):
    for logged_in in (False, True):
        page = new_page(phone, logged_in=logged_in)
        for path, needs_login in main_pages():
            if needs_login != logged_in:
                continue
            assert page.goto(demo_server.at(path)).ok, path
            assert_fits(page)
            assert page.evaluate(HEADER_ON_ONE_LINE), f"{path}: the header wraps at {phone['width']} px"
            # `main` keeps its distance from the nav above.
            assert float(style(page.locator("main"), "paddingTop").rstrip("px")) >= 24, path


SELECTED_IN_VIEW = """(nav) => {
  const scroller = nav.querySelector('.scroller');
  const current = scroller.querySelector('[aria-current]');
  const s = scroller.getBoundingClientRect(), c = current.getBoundingClientRect();
  return c.left >= s.left - 1 && c.right <= s.right + 1;
}"""


@PHONES
def test_the_chosen_section_and_tab_are_scrolled_into_view_with_a_hint_that_there_is_more(
    new_page, demo_server, phone
):
    page = new_page(phone)
    page.goto(demo_server.at("/portal/events/?tab=waiting"))
    tabs = page.locator("nav.tabs")
    assert tabs.evaluate(SELECTED_IN_VIEW), "the Waiting list tab is off screen"
    sections = page.locator("nav.section-nav")
    if phone == SMALL_PHONE:  # four sections do not fit in 320 px: the edge fades
        assert "has-more-end" in sections.locator(".scroller-frame").get_attribute("class")
        # The fade is drawn (it fades in over 0.2 s).
        wait_until(
            page,
            "getComputedStyle(document.querySelector('.section-nav .scroller-frame'), '::after').opacity === '1'",
        )

    page.goto(demo_server.at("/portal/vouchers/"))
    assert page.locator("nav.section-nav").evaluate(SELECTED_IN_VIEW), "Vouchers is off screen"
    if phone == SMALL_PHONE:
        frame = page.locator("nav.section-nav .scroller-frame")
        assert "has-more-start" in frame.get_attribute("class")  # scrolled: the start fades instead


def test_a_long_unbroken_name_does_not_widen_the_page(new_page, demo_server, fresh_booking):
    booking = fresh_booking("Sunrise Flow")
    booking.attendees.update(name="Bartholomew" * 12)
    for phone in (SMALL_PHONE, PHONE):
        page = new_page(phone)
        for path in ["/portal/events/", f"/portal/bookings/{booking.reference}/"]:
            page.goto(demo_server.at(path))
            assert_fits(page)
    booking.delete()


# Buttons ------------------------------------------------------------------------------------


def test_a_secondary_button_stays_readable_when_hovered(new_page, demo_server):
    page = new_page(DESKTOP)
    page.goto(demo_server.at("/portal/events/"))
    options = page.locator("#booking-RYDEMO01").get_by_role("link", name="Options")
    options.hover()
    page.wait_for_timeout(250)  # past the colour transition
    assert contrast(style(options, "color"), style(options, "backgroundColor")) >= 4.5


def test_a_tapped_secondary_button_does_not_stay_coloured_on_a_phone(new_page, demo_server):
    page = new_page(PHONE, has_touch=True, is_mobile=True)
    page.goto(demo_server.at("/portal/events/?tab=past"))
    book_again = page.locator("#booking-RYDEMO02").get_by_role("link", name="Book again")
    before = style(book_again, "backgroundColor")
    book_again.hover()  # what a tap leaves behind on a touch screen
    page.wait_for_timeout(250)  # past any colour transition
    assert style(book_again, "backgroundColor") == before


# Waiting ------------------------------------------------------------------------------------


def spinning(locator, pseudo: str) -> bool:
    return style(locator, "animationName", pseudo) == "spin"


def test_a_tab_shows_it_is_loading(new_page, demo_server):
    page = new_page()
    page.goto(demo_server.at("/portal/events/"))
    held = []
    page.route("**/portal/events/?tab=past", lambda route: held.append(route))
    past = page.locator("nav.tabs").get_by_role("link", name="Past")
    past.click()
    wait_for(held, page)
    assert past.get_attribute("aria-busy") == "true" and spinning(past, "::before")
    assert page.locator("#tab-panel").get_attribute("aria-busy") == "true"
    held[0].continue_()
    page.locator("#booking-RYDEMO02").wait_for()
    settled(page)
    assert page.locator("[aria-busy=true]").count() == 0


def test_manage_shows_it_is_loading(new_page, demo_server):
    page = new_page()
    page.goto(demo_server.at("/portal/events/"))
    held = []
    page.route("**/portal/bookings/RYDEMO01/manage/", lambda route: held.append(route))
    manage = page.locator("#booking-RYDEMO01").get_by_role("link", name="Manage")
    manage.click()
    wait_for(held, page)
    assert manage.get_attribute("aria-busy") == "true" and spinning(manage, "::after")
    held[0].continue_()
    page.get_by_role("dialog", name="Manage your booking").wait_for()
    settled(page)
    assert manage.get_attribute("aria-busy") is None


# While a form post is on its way the page cannot be queried from the test, so the page notes
# what each submit looked like in sessionStorage, which outlives the navigation.
NOTE_SUBMITS = """
addEventListener("submit", (event) => setTimeout(() => {
  const button = event.submitter;
  const log = JSON.parse(sessionStorage.getItem("submits") || "[]");
  log.push({sent: !event.defaultPrevented, busy: button.getAttribute("aria-busy"),
            spinner: getComputedStyle(button, "::after").animationName});
  sessionStorage.setItem("submits", JSON.stringify(log));
}, 0));
"""


def test_log_in_shows_it_is_working_and_sends_once(new_page, demo_server, fresh_user):
    user, password = fresh_user()
    page = new_page(logged_in=False)
    page.add_init_script(NOTE_SUBMITS)
    page.goto(demo_server.at("/accounts/login/"))
    held = []
    page.route(
        "**/accounts/login/",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click(no_wait_after=True)
    wait_for(held, page)
    page.keyboard.press("Enter")  # an impatient second press (focus is on the button)
    page.wait_for_timeout(300)
    held[0].continue_()
    page.wait_for_url("**/portal/events/")

    submits = page.evaluate("JSON.parse(sessionStorage.getItem('submits'))")
    assert submits[0] == {"sent": True, "busy": "true", "spinner": "spin"}
    assert [s["sent"] for s in submits[1:]] == [False] * (len(submits) - 1)
    assert len(held) == 1


# The membership menu ------------------------------------------------------------------------


def membership_menu(page):
    from memberships.demo import ACTIVE_CODE

    menu = page.locator(f"#membership-{ACTIVE_CODE} details.menu")
    return menu, menu.locator("summary")


def test_the_membership_menu_closes_on_escape_and_outside_clicks(new_page, demo_server):
    page = new_page()
    page.goto(demo_server.at("/portal/memberships/"))
    menu, summary = membership_menu(page)

    summary.click()
    assert menu.get_attribute("open") is not None
    page.keyboard.press("Escape")
    assert menu.get_attribute("open") is None
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

    summary.click()
    page.locator("h1").click()  # anywhere outside the menu
    assert menu.get_attribute("open") is None


def test_the_membership_menu_is_closed_after_its_dialog_and_focus_comes_back(new_page, demo_server):
    page = new_page()
    page.goto(demo_server.at("/portal/memberships/"))
    menu, summary = membership_menu(page)
    summary.click()
    menu.get_by_role("link", name="View invoices").click()
    page.locator("#modal dialog").wait_for()
    settled(page)
    page.keyboard.press("Escape")
    wait_until(page, "!document.querySelector('#modal dialog')")
    assert menu.get_attribute("open") is None
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
