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


@JS
def test_give_a_ticket_and_the_recipient_accepts_it(
    new_page, demo_server, fresh_booking, viewport, javascript
):
    from bookings import links
    from bookings.models import TicketGift

    booking = fresh_booking("Mini Movers", tickets=("Adult", "Child"))  # Little Explorers allows gifts
    page = new_page(viewport, javascript=javascript)
    page.goto(demo_server.at("/portal/events/"))

    manage(page, booking, javascript).get_by_role("link", name="Give a ticket").click()
    dialog = page.get_by_role("dialog", name="Give a ticket")
    dialog.wait_for()
    if javascript:
        settled(page)
    check(page, viewport, "give a ticket dialog", javascript)
    dialog.get_by_label("Guest 1 (Child)").check()
    dialog.get_by_label("Their name").fill("Ola Friend")
    dialog.get_by_label("Their email").fill("not an address")
    dialog.get_by_role("button", name="Send the ticket").click()
    dialog = page.get_by_role("dialog", name="Give a ticket")
    dialog.get_by_text("Enter a valid email address.").wait_for()
    if javascript:
        settled(page)
    check(page, viewport, "give a ticket dialog, refused", javascript)
    dialog.get_by_label("Their email").fill("ola@example.net")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Send the ticket").click()

    if not javascript:
        page.wait_for_url(f"**/portal/bookings/{booking.reference}/")
        assert "We've emailed Ola Friend a link" in page.locator("#messages").inner_text()
    gift = TicketGift.objects.get(booking=booking)
    assert gift.status == TicketGift.Status.PENDING

    # The recipient, in a browser of their own, without an account.
    ola = new_page(viewport, logged_in=False, javascript=javascript)
    ola.goto(links.gift_accept_url(gift).replace("http://127.0.0.1:8000", demo_server.url))
    assert ola.get_by_role("heading", name="A ticket for you").is_visible()
    assert_fits(ola)
    if viewport == DESKTOP and javascript:
        assert_accessible(ola, "gift accept page")
    with ola.expect_navigation():
        ola.get_by_role("button", name="Accept the ticket").click()

    gift.refresh_from_db()
    new = gift.new_booking
    assert gift.status == TicketGift.Status.ACCEPTED
    ola.wait_for_url(f"**/portal/bookings/{new.reference}/")
    assert "The ticket is yours" in ola.locator("#messages").inner_text()
    assert "Ola Friend" in ola.locator("main").inner_text()
    assert_fits(ola)
    booking.refresh_from_db()
    assert [a.name for a in booking.attendees.all()] == ["Demo Booker"]
