"""A person with a browser: home page, Booker account, log in, land in the portal."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_booker_logs_in_from_the_home_page_and_lands_in_the_portal(live_server, page):
    call_command("seed_demo", stdout=open("/dev/null", "w"))

    page.goto(live_server.url)
    page.get_by_role("link", name="Booker account").click()
    page.get_by_label("Email").fill("demo@example.com")
    page.get_by_label("Password").fill("portal-demo-2026")
    page.get_by_role("button", name="Log in", exact=True).click()

    page.wait_for_url(f"{live_server.url}/portal/events/")
    assert page.get_by_role("heading", name="Your bookings", exact=True).is_visible()
    assert page.get_by_role("link", name="Account (demo@example.com)").is_visible()


def test_the_home_page_fits_a_phone_screen(live_server, page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url)

    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    assert page.get_by_role("link", name="Organiser account").is_visible()
