"""Per-ticket self-service as a person does it (#21): cancel one ticket of a booking of two, give
a ticket away, move one ticket of two to another event, edit an attendee's name and an answer;
with htmx and without JavaScript, at desktop and phone width; axe clean on the desktop."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import Error as PlaywrightError

from bookings.models import Booking, TicketCancellation
from tests.browser.conftest import DESKTOP, assert_accessible, assert_fits, settled
from tests.browser.test_manage import manage, posts_of

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])


def posts_served(page) -> list[str]:
    """The POSTs the server answered (not one the browser only looked for in its cache)."""
    served = []
    page.on("requestfinished", lambda request: request.method == "POST" and served.append(request.url))
    return served


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


@JS
def test_transfer_one_ticket_of_two_to_another_event(
    new_page, demo_server, fresh_booking, viewport, javascript
):
    booking = fresh_booking("Sunrise Flow", tickets=("Drop-in", "Concession"))  # £12 + £8
    guest = booking.attendees.get(name="Guest 1")
    page = new_page(viewport, javascript=javascript)
    posts = posts_of(page)
    page.goto(demo_server.at("/portal/events/"))

    manage(page, booking, javascript).get_by_role("link", name="Transfer ticket").click()
    which = page.get_by_role("dialog", name="Transfer ticket which tickets")
    which.wait_for()
    if javascript:
        settled(page)
    assert which.get_by_label("Demo Booker").is_checked() and which.get_by_label("Guest 1").is_checked()
    check(page, viewport, "transfer: which tickets", javascript)
    which.get_by_label("Demo Booker").uncheck()  # I stay; the guest moves
    which.get_by_role("button", name="Continue").click()

    step = page.get_by_role("dialog", name="Transfer ticket step 1 of 3")
    step.wait_for()
    if javascript:
        settled(page)
    assert "1 ticket" in step.inner_text()
    check(page, viewport, "transfer step 1, one ticket", javascript)
    step.get_by_role("link", name="Yin & Restore").click()

    step = page.get_by_role("dialog", name="Transfer ticket step 2 of 3")
    step.wait_for()
    if javascript:
        settled(page)
    check(page, viewport, "transfer step 2, one ticket", javascript)
    step.get_by_role("link", name="Concession").click()

    step = page.get_by_role("dialog", name="Transfer ticket step 3 of 3")
    step.wait_for()
    if javascript:
        settled(page)
    review = step.get_by_role("table").inner_text()
    assert "Concession × 1" in review
    assert "Guest 1" in review and "as a booking of their own" in review and "Demo Booker" not in review
    check(page, viewport, "transfer review, one ticket", javascript)
    with page.expect_navigation():
        step.get_by_role("button", name="Confirm transfer").click()

    moved = Booking.objects.exclude(pk=booking.pk).get(attendees=guest)
    if javascript:
        assert page.url.endswith("/portal/events/")  # the list reloaded in place: both bookings
        page.locator(f"#booking-{moved.reference}").wait_for()
        assert f"as booking {moved.reference}" in page.locator("#messages").inner_text()
        assert "Yin & Restore" in page.locator(f"#booking-{moved.reference}").inner_text()
        assert "Sunrise Flow" in page.locator(f"#booking-{booking.reference}").inner_text()
        assert page.locator("#modal dialog").count() == 0
    else:
        page.wait_for_url(f"**/portal/bookings/{moved.reference}/")
        assert (
            f"Done: 1 ticket moved to Yin & Restore as booking {moved.reference}"
            in page.locator("#messages").inner_text()
        )
        assert "Yin & Restore" in page.locator("main").inner_text()
    assert_fits(page)
    assert moved.reference != booking.reference
    assert moved.event.title == "Yin & Restore" and moved.status == Booking.Status.CONFIRMED
    assert [(a.name, a.ticket_type.name) for a in moved.attendees.all()] == [("Guest 1", "Concession")]
    booking.refresh_from_db()
    assert booking.event.title == "Sunrise Flow" and booking.status == Booking.Status.CONFIRMED
    assert [a.name for a in booking.attendees.all()] == ["Demo Booker"]
    assert len(posts) == 1

    page.go_back()  # back never moves anything again
    page.wait_for_load_state()
    assert len(posts) == 1
    assert Booking.objects.filter(attendees__name="Guest 1", pk__in=[booking.pk, moved.pk]).count() == 1


@pytest.fixture
def mini_movers_question(demo_server):
    """Mini Movers asks a required question (the demo has none): Little Explorers lets bookers
    edit details until 2 hours before."""
    from bookings.models import BookingFormField, Event

    event = Event.objects.get(title="Mini Movers")
    field, _ = BookingFormField.objects.get_or_create(
        organiser=event.organiser,
        event=event,
        label="Allergies or needs",
        defaults={"field_type": BookingFormField.FieldType.TEXT, "required": True},
    )
    return field


@JS
def test_edit_an_attendee_name_and_an_answer(
    new_page, demo_server, fresh_booking, mini_movers_question, viewport, javascript
):
    from bookings.models import BookingFormResponse, DetailEdit

    booking = fresh_booking("Mini Movers", tickets=("Adult", "Child"))
    BookingFormResponse.objects.create(
        organiser=booking.organiser,
        booking=booking,
        field=mini_movers_question,
        label=mini_movers_question.label,
        answer="None",
    )
    page = new_page(viewport, javascript=javascript)
    served = posts_served(page)
    page.goto(demo_server.at("/portal/events/"))

    manage(page, booking, javascript).get_by_role("link", name="Edit details").click()
    dialog = page.get_by_role("dialog", name="Edit details")
    dialog.wait_for()
    if javascript:
        settled(page)
    child = dialog.get_by_label("Name of attendee 2 (Child)")
    answer = dialog.get_by_label("Allergies or needs")
    assert child.input_value() == "Guest 1" and answer.input_value() == "None"
    check(page, viewport, "edit details dialog", javascript)

    child.fill("Maya Booker")
    answer.fill("")  # required: refused, nothing saved
    dialog.get_by_role("button", name="Save changes").click()
    dialog = page.get_by_role("dialog", name="Edit details")
    dialog.get_by_text("This field is required.").wait_for()
    if javascript:
        settled(page)
    assert dialog.get_by_label("Name of attendee 2 (Child)").input_value() == "Maya Booker"  # kept
    check(page, viewport, "edit details dialog, refused", javascript)
    assert booking.attendees.filter(name="Maya Booker").count() == 0

    dialog.get_by_label("Allergies or needs").fill("Peanuts")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Save changes").click()

    if javascript:
        assert page.url.endswith("/portal/events/")
        page.locator(f"#booking-{booking.reference}").get_by_text("Maya Booker").wait_for()
    else:
        page.wait_for_url(f"**/portal/bookings/{booking.reference}/")
        assert "Maya Booker" in page.locator("main").inner_text()
    assert "Your changes are saved. We've emailed you what changed." in page.locator("#messages").inner_text()
    assert_fits(page)
    assert [a.name for a in booking.attendees.order_by("pk")] == ["Demo Booker", "Maya Booker"]
    assert booking.responses.get(field=mini_movers_question).answer == "Peanuts"
    assert DetailEdit.objects.filter(booking=booking).count() == 1
    assert len(served) == 2  # the refused one and the saved one
    emailed = [m for m in mail.outbox if booking.reference in m.subject and "Maya Booker" in m.body]
    assert len(emailed) == 1 and "Peanuts" in emailed[0].body

    # Back never saves again. (Without JavaScript the page before is the refused form's POST
    # answer: the browser will not send it again unasked; it only looks in its cache, and fails.)
    try:
        page.go_back()
        page.wait_for_load_state()
    except PlaywrightError as error:
        assert not javascript and "ERR_CACHE_MISS" in str(error)
    assert len(served) == 2
    assert DetailEdit.objects.filter(booking=booking).count() == 1
