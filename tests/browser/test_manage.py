"""Manage a booking as a person does: Transfer (three steps) and Cancel through the htmx dialogs,
the same with JavaScript off (every dialog a page of its own, forms POST and redirect), Leave a
waiting list; dialogs take and give back focus, close on Escape, and the back button never
sends a form again. Each test changes a booking (or waiting-list place) of its own.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from bookings.models import Booking, WaitingListEntry
from tests.browser.conftest import DEMO_EMAIL, DESKTOP, assert_accessible, assert_fits, settled

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])


def posts_of(page) -> list[str]:
    sent = []
    page.on("request", lambda request: request.method == "POST" and sent.append(request.url))
    return sent


def check(page, viewport, what, javascript=True):
    """Nothing runs off the screen; on the desktop, axe finds nothing serious (once is enough;
    axe needs JavaScript: test_accessibility checks the pages of the no-JavaScript dialogs)."""
    assert_fits(page)
    if viewport == DESKTOP and javascript:
        assert_accessible(page, what)


def manage(page, booking, javascript):
    page.locator(f"#booking-{booking.reference}").get_by_role("link", name="Manage").click()
    if javascript:
        dialog = page.get_by_role("dialog", name="Manage your booking")
        dialog.wait_for()
        settled(page)
        assert page.url.endswith("/portal/events/")  # the dialog opened in place
        return dialog
    page.wait_for_url(f"**/portal/bookings/{booking.reference}/manage/")
    return page.get_by_role("dialog", name="Manage your booking")


@JS
def test_transfer_in_three_steps(new_page, demo_server, fresh_booking, viewport, javascript):
    booking = fresh_booking("Sunrise Flow", tickets=("Drop-in", "Drop-in"))
    page = new_page(viewport, javascript=javascript)
    posts = posts_of(page)
    page.goto(demo_server.at("/portal/events/"))

    dialog = manage(page, booking, javascript)
    check(page, viewport, "manage dialog", javascript)
    dialog.get_by_role("link", name="Transfer ticket").click()

    which = page.get_by_role("dialog", name="Transfer ticket which tickets")
    which.wait_for()
    if javascript:
        settled(page)
    check(page, viewport, "transfer: which tickets", javascript)
    which.get_by_role("button", name="Continue").click()  # both, as ticked

    step = page.get_by_role("dialog", name="Transfer ticket step 1 of 3")
    step.wait_for()
    if javascript:  # htmx wires up the new links as it settles
        settled(page)
    assert step.get_by_role("heading", name="Choose an event").is_visible()
    assert "Full Moon Workshop" in step.inner_text()  # shown, but full...
    assert step.get_by_role("link", name="Full Moon Workshop").count() == 0  # ...so not a choice
    check(page, viewport, "transfer step 1", javascript)
    step.get_by_role("link", name="Yin & Restore").click()

    step = page.get_by_role("dialog", name="Transfer ticket step 2 of 3")
    step.wait_for()
    if javascript:
        settled(page)
    assert step.get_by_role("heading", name="Choose a ticket for Yin & Restore").is_visible()
    check(page, viewport, "transfer step 2", javascript)
    step.get_by_role("link", name="Concession").click()  # £8 each instead of £12: £8.00 back

    step = page.get_by_role("dialog", name="Transfer ticket step 3 of 3")
    step.wait_for()
    if javascript:
        settled(page)
    review = step.get_by_role("table").inner_text()
    assert "Sunrise Flow" in review and "Yin & Restore" in review
    assert "Concession × 2" in review
    assert "back to your original payment" in review  # cheaper (and a member discount)
    check(page, viewport, "transfer review", javascript)
    with page.expect_navigation():
        step.get_by_role("button", name="Confirm transfer").click()

    if javascript:
        assert page.url.endswith("/portal/events/")  # the list reloaded in place
        assert "Yin & Restore" in page.locator(f"#booking-{booking.reference}").inner_text()
        assert page.locator("#modal dialog").count() == 0
    else:
        page.wait_for_url(f"**/portal/bookings/{booking.reference}/")
        assert "Done: your booking is now for Yin & Restore" in page.locator("#messages").inner_text()
        changes = page.locator("section", has=page.get_by_role("heading", name="Order details"))
        assert "moved from Sunrise Flow" in changes.inner_text()
    booking.refresh_from_db()
    assert booking.event.title == "Yin & Restore"
    assert booking.transfers.count() == 1
    assert len(posts) == 1

    # Back never sends the confirmation again.
    page.go_back()
    page.wait_for_load_state()
    assert len(posts) == 1
    assert booking.transfers.count() == 1


@JS
def test_cancel_states_the_refund_then_cancels(new_page, demo_server, fresh_booking, viewport, javascript):
    booking = fresh_booking("Sunrise Flow", tickets=("Drop-in",))
    page = new_page(viewport, javascript=javascript)
    posts = posts_of(page)
    page.goto(demo_server.at("/portal/events/"))

    manage(page, booking, javascript).get_by_role("link", name="Cancel ticket").click()
    dialog = page.get_by_role("dialog", name="Cancel your booking?")
    dialog.wait_for()
    if javascript:
        settled(page)
    assert "You will get £12.00 back to your original payment" in dialog.inner_text()
    check(page, viewport, "cancel dialog", javascript)
    with page.expect_navigation():
        dialog.get_by_role("button", name="Cancel booking").click()

    message = f"Booking {booking.reference} is cancelled"
    if javascript:
        assert page.url.endswith("/portal/events/")
        assert page.locator(f"#booking-{booking.reference}").count() == 0  # gone from Upcoming
    else:
        page.wait_for_url(f"**/portal/bookings/{booking.reference}/")
        assert message in page.locator("#messages").inner_text()
        assert "£12.00 to your original payment" in page.locator("main").inner_text()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.refunds.count() == 1

    page.go_back()
    page.wait_for_load_state()
    assert len(posts) == 1
    assert booking.refunds.count() == 1


def test_keep_booking_closes_the_dialog_and_changes_nothing(new_page, demo_server, fresh_booking):
    booking = fresh_booking()
    page = new_page()
    page.goto(demo_server.at("/portal/events/"))
    manage(page, booking, True).get_by_role("link", name="Cancel ticket").click()
    dialog = page.get_by_role("dialog", name="Cancel your booking?")
    dialog.wait_for()
    settled(page)
    dialog.get_by_role("link", name="Keep booking").click()
    assert page.locator("#modal dialog").count() == 0
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_actions_the_rules_forbid_are_not_offered_and_say_why(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/events/"))
    dialog = manage(page, Booking.objects.get(reference="LEDEMO01"), True)
    assert dialog.get_by_role("link", name="Transfer ticket").count() == 0
    assert "Transfer" in dialog.locator("[aria-disabled=true]").first.inner_text()
    assert dialog.get_by_role("link", name="Cancel ticket").is_visible()
    check(page, viewport, "manage dialog with a refusal")


@pytest.fixture
def waiting_place(demo_server):
    from accounts.models import User
    from bookings.models import Event

    def make(event_title):
        event = Event.objects.get(title=event_title)
        return WaitingListEntry.objects.create(
            organiser=event.organiser,
            event=event,
            user=User.objects.get(email=DEMO_EMAIL),
            name="Demo Booker",
            email=DEMO_EMAIL,
            status=WaitingListEntry.Status.WAITING,
            confirmed_at=timezone.now(),
        )

    return make


@pytest.mark.parametrize(
    "viewport_name,javascript,event_title",
    [
        ("desktop", True, "Yin & Restore"),
        ("phone", True, "Lunchtime Stretch"),
        ("desktop", False, "Mini Movers"),
    ],
)
def test_leave_a_waiting_list(new_page, demo_server, waiting_place, viewport_name, javascript, event_title):
    from tests.browser.conftest import VIEWPORTS

    viewport = VIEWPORTS[viewport_name]
    entry = waiting_place(event_title)
    page = new_page(viewport, javascript=javascript)
    page.goto(demo_server.at("/portal/events/?tab=waiting"))

    page.get_by_role("link", name=f"Leave list for {event_title}").click()
    dialog = page.get_by_role("dialog", name="Leave the waiting list?")
    dialog.wait_for()
    if javascript:
        settled(page)
    assert event_title in dialog.inner_text()
    if javascript:
        check(page, viewport, "leave waiting list dialog")
    else:
        page.wait_for_url(f"**/portal/waiting/{entry.code}/leave/")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Leave list").click()

    assert page.url.endswith("/portal/events/?tab=waiting")
    if not javascript:  # with htmx, see test_the_page_reloaded_after_a_change_says_what_happened
        assert f"You've left the waiting list for {event_title}" in page.locator("#messages").inner_text()
    assert page.locator(f"#waiting-{entry.code}").count() == 0
    entry.refresh_from_db()
    assert entry.status != WaitingListEntry.Status.WAITING


def test_dialogs_take_focus_trap_it_close_on_escape_and_give_it_back(new_page, demo_server):
    page = new_page()
    page.goto(demo_server.at("/portal/events/"))
    opener = page.locator("#booking-RYDEMO01").get_by_role("link", name="Manage")
    opener.focus()
    page.keyboard.press("Enter")  # operable from the keyboard

    dialog = page.get_by_role("dialog", name="Manage your booking")
    dialog.wait_for()
    settled(page)
    assert page.evaluate("document.querySelector('#modal dialog').matches(':modal')")  # announced as modal
    assert page.evaluate("document.querySelector('#modal dialog').contains(document.activeElement)")
    for _ in range(8):
        page.keyboard.press("Tab")
        inside = page.evaluate(
            "document.activeElement === document.body"
            " || document.querySelector('#modal dialog').contains(document.activeElement)"
        )
        assert inside, "focus left the dialog for the page behind it"

    page.keyboard.press("Escape")
    assert page.locator("#modal dialog").count() == 0
    assert page.evaluate("document.activeElement.textContent").startswith("Manage")

    # A second step keeps the first opener: Transfer, then Escape, gives focus back to Manage.
    opener.focus()
    page.keyboard.press("Enter")
    dialog.wait_for()
    settled(page)
    dialog.get_by_role("link", name="Transfer ticket").focus()
    page.keyboard.press("Enter")
    page.get_by_role("dialog", name="Transfer ticket which tickets").wait_for()  # RYDEMO01 has two
    settled(page)
    assert page.evaluate("document.querySelector('#modal dialog').contains(document.activeElement)")
    page.keyboard.press("Escape")
    assert page.locator("#modal dialog").count() == 0
    assert page.evaluate("document.activeElement.textContent").startswith("Manage")


def test_the_booking_page_opens_the_same_dialogs(new_page, demo_server, fresh_booking, viewport):
    booking = fresh_booking()
    page = new_page(viewport)
    page.goto(demo_server.at(f"/portal/bookings/{booking.reference}/"))
    page.get_by_role("link", name="Manage booking").click()
    dialog = page.get_by_role("dialog", name="Manage your booking")
    dialog.wait_for()
    dialog.get_by_role("link", name="Close").click()
    assert page.locator("#modal dialog").count() == 0
    assert_fits(page)


def test_the_page_reloaded_after_a_change_says_what_happened(new_page, demo_server, fresh_booking):
    booking = fresh_booking()
    page = new_page()
    page.goto(demo_server.at("/portal/events/"))
    manage(page, booking, True).get_by_role("link", name="Cancel ticket").click()
    dialog = page.get_by_role("dialog", name="Cancel your booking?")
    dialog.wait_for()
    settled(page)
    with page.expect_navigation():
        dialog.get_by_role("button", name="Cancel booking").click()
    assert page.url.endswith("/portal/events/")  # htmx's reload, not the no-JavaScript redirect
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert f"Booking {booking.reference} is cancelled" in page.locator("#messages").inner_text()
