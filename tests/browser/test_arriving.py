"""Arriving at the portal: log in from the home page or an organiser's page, or open the View
booking link of an email (most bookers arrive on a phone)."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from django.core import mail

from bookings.emails import booking_send_confirmation
from tests.browser.conftest import DEMO_EMAIL, DEMO_PASSWORD, assert_accessible, assert_fits


def log_in_form(page):
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()


def test_a_booker_logs_in_from_the_home_page(new_page, demo_server, viewport):
    page = new_page(viewport, logged_in=False)
    page.goto(demo_server.url)
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_role("link", name="Booker account").click()
    assert_accessible(page, "login page")
    log_in_form(page)

    page.wait_for_url(demo_server.at("/portal/events/"))
    assert page.get_by_role("heading", name="Your bookings", exact=True).is_visible()
    assert page.locator("#booking-RYDEMO01").is_visible()
    assert_fits(page)


def test_a_booker_logs_in_from_an_organiser_page_and_sees_that_organisers_bookings(
    new_page, demo_server, viewport
):
    page = new_page(viewport, logged_in=False)
    page.goto(demo_server.at("/riverside-yoga/"))
    assert_accessible(page, "organiser page")
    assert_fits(page)
    page.get_by_role("link", name="Log in").click()
    log_in_form(page)

    page.wait_for_url(demo_server.at("/portal/events/?organiser=riverside-yoga"))
    assert page.get_by_role("heading", name="Your bookings at Riverside Yoga").is_visible()
    assert page.locator("#booking-RYDEMO01").is_visible()
    assert page.locator("#booking-LEDEMO01").count() == 0


@pytest.fixture
def mail_dir(settings, tmp_path):
    """Emails go to .eml files, as in the demo (var/mail/), here under a directory of the test's."""
    settings.EMAIL_BACKEND = "portal.mail.FileAndConsoleEmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    mail.outbox = []
    return tmp_path


def view_booking_link(mail_dir, base_url: str) -> str:
    """The View booking link of the one email in the directory, pointed at the live server."""
    (eml,) = mail_dir.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/portal/link/[^\s\"<>]+/)", body).group(1)
    return base_url + path


def send_confirmation(booking, mail_dir):
    # The confirmation email, written to a .eml file the way the demo writes them.
    assert booking_send_confirmation(booking_id=booking.pk)
    assert list(mail_dir.glob("*.eml")), "the confirmation was written to a file"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_view_booking_link_of_an_email_opens_the_booking_without_logging_in(
    new_page, demo_server, viewport, mail_dir, fresh_booking, javascript
):
    booking = fresh_booking("Sunrise Flow", tickets=("Drop-in", "Concession"))
    send_confirmation(booking, mail_dir)
    link = view_booking_link(mail_dir, demo_server.url)

    page = new_page(viewport, logged_in=False, javascript=javascript)
    page.goto(link)

    page.wait_for_url(demo_server.at(f"/portal/bookings/{booking.reference}/"))
    assert page.get_by_role("heading", name=f"Sunrise Flow booking {booking.reference}").is_visible()
    assert page.get_by_role("heading", name="Order details").is_visible()
    assert "Guest 1" in page.locator("main").inner_text()
    assert "You opened this booking from its link" in page.locator("main").inner_text()  # not logged in
    assert page.get_by_role("link", name="Manage booking").is_visible()
    assert_fits(page)
    if javascript:
        assert_accessible(page, "booking opened from an email")

    # The link grants this one booking, not the others.
    other = page.goto(demo_server.at("/portal/bookings/LEDEMO01/"))
    assert other.status == 404


def test_a_tampered_link_says_so_and_offers_a_new_one(new_page, demo_server, viewport):
    page = new_page(viewport, logged_in=False)
    response = page.goto(demo_server.at("/portal/link/not-a-real-token/"))
    assert response.status == 404
    assert page.get_by_label("Email").is_visible()
    assert_accessible(page, "invalid link page")
    assert_fits(page)
