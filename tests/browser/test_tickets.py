"""Per-ticket self-service as a person does it (#21): cancel one ticket of a booking of two,
with htmx and without JavaScript, at desktop and phone width; axe clean on the desktop."""

from __future__ import annotations

import pytest

from bookings.models import Booking, TicketCancellation
from tests.browser.conftest import DESKTOP, assert_accessible, assert_fits, settled
from tests.browser.test_manage import manage, posts_of

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])


def check(page, viewport, what, javascript=True):
    assert_fits(page)
    if viewport == DESKTOP and javascript:
        assert_accessible(page, what)


@JS
def test_cancel_one_ticket_of_two(new_page, demo_server, fresh_booking, viewport, javascript):
    booking = fresh_booking("Sunrise Flow", tickets=("Drop-in", "Concession"))  # £12 + £8
    page = new_page(viewport, javascript=javascript)
    posts = posts_of(page)
    page.goto(demo_server.at("/portal/events/"))

    manage(page, booking, javascript).get_by_role("link", name="Cancel ticket").click()
    dialog = page.get_by_role("dialog", name="Cancel tickets?")
    dialog.wait_for()
    if javascript:
        settled(page)
    assert "You will get £20.00 back" in dialog.inner_text()  # every ticket ticked at first
    check(page, viewport, "cancel tickets dialog", javascript)

    dialog.get_by_label("Demo Booker").uncheck()  # keep my own ticket, cancel the guest's
    if not javascript:
        with page.expect_navigation():
            dialog.get_by_role("button", name="Show what I get back").click()
    dialog = page.get_by_role("dialog", name="Cancel tickets?")
    dialog.get_by_text("You will get £8.00 back").wait_for()
    if javascript:
        settled(page)
        assert page.evaluate("document.activeElement && document.activeElement.name") == "ticket"
    assert not dialog.get_by_label("Demo Booker").is_checked()
    check(page, viewport, "cancel tickets dialog, requoted", javascript)
    with page.expect_navigation():
        dialog.get_by_role("button", name="Cancel 1 ticket").click()

    if javascript:
        assert page.url.endswith("/portal/events/")
        card = page.locator(f"#booking-{booking.reference}").inner_text()
        assert "Demo Booker" in card and "Guest 1" not in card
    else:
        page.wait_for_url(f"**/portal/bookings/{booking.reference}/")
        assert (
            f"1 ticket of booking {booking.reference} is cancelled" in page.locator("#messages").inner_text()
        )
        history = page.locator("section", has=page.get_by_role("heading", name="Order details")).inner_text()
        assert "Cancelled tickets" in history and "Guest 1" in history
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert [a.name for a in booking.attendees.all()] == ["Demo Booker"]
    assert TicketCancellation.objects.filter(booking=booking).count() == 1
    assert len(posts) == 1

    page.go_back()
    page.wait_for_load_state()
    assert len(posts) == 1
