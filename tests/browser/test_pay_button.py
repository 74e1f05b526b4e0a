"""The booking page's pay button says what the booker will be charged, and changes as they choose
how to pay: with htmx as they pick, without JavaScript when they press Update the total
(#20 defect 2). The demo booker is a Monthly Unlimited member at Riverside Yoga (20% off, 3 of 4
included bookings left this month) with a pass; the voucher is made here, on rows of its own."""

from __future__ import annotations

from django.utils import timezone

from tests.browser.conftest import DEMO_EMAIL, assert_accessible, assert_fits, settled, wait_until


def a_voucher(value: int) -> str:
    from portal.models import Organiser
    from vouchers.models import Voucher

    riverside = Organiser.objects.get(slug="riverside-yoga")
    voucher = Voucher.objects.create(
        organiser=riverside,
        source=Voucher.Source.ISSUED,
        status=Voucher.Status.ACTIVE,
        value=value,
        balance=value,
        currency=riverside.currency,
        recipient_name="Demo Booker",
        recipient_email=DEMO_EMAIL,
        paid_at=timezone.now(),
    )
    return voucher.display_code


def open_booking_form(page, demo_server):
    page.goto(demo_server.at("/riverside-yoga/"))
    page.get_by_role("link", name="Book Sunrise Flow").click()
    page.wait_for_url("**/riverside-yoga/events/*/")
    page.get_by_label("Drop-in").fill("1")
    page.get_by_role("button", name="Continue").click()
    page.locator(".pay-button").wait_for()


def pay_button_says(page, text: str) -> None:
    wait_until(page, f"document.querySelector('.pay-button').innerText.trim() === {text!r}")
    settled(page)


def paying_by_card(page) -> None:
    """Keep any included bookings for another time (the demo booker may have some left)."""
    included = page.locator("input[name=use_included]")
    if included.count() and included.is_checked():
        included.uncheck()


def test_the_pay_button_follows_the_pass_and_voucher_the_booker_picks(new_page, demo_server, viewport):
    code = a_voucher(500)
    page = new_page(viewport)
    open_booking_form(page, demo_server)
    paying_by_card(page)
    pay_button_says(page, "Pay £9.60 and book")  # the member discount applied

    page.get_by_label("Pay with a pass").select_option(index=1)
    pay_button_says(page, "Book now: nothing to pay")

    page.get_by_label("Pay with a pass").select_option(index=0)
    pay_button_says(page, "Pay £9.60 and book")
    page.get_by_label("Gift voucher or credit code").fill(code)
    pay_button_says(page, "Pay £4.60 and book")
    assert "-£5.00" in page.locator("#pay-summary").inner_text()
    assert_fits(page)


def test_without_javascript_update_the_total_shows_what_the_pass_leaves_to_pay(new_page, demo_server):
    page = new_page(javascript=False)
    open_booking_form(page, demo_server)
    paying_by_card(page)
    page.get_by_label("Pay with a pass").select_option(index=1)

    page.get_by_role("button", name="Update the total").click()

    assert page.locator(".pay-button").inner_text().strip() == "Book now: nothing to pay"
    assert page.get_by_label("Pay with a pass").input_value() != ""  # the choice is kept


def included_left() -> int:
    from memberships.models import Membership

    return Membership.objects.get(user__email=DEMO_EMAIL, status="active").included_bookings_left


def test_a_member_books_with_an_included_booking_and_the_card_counts_it(new_page, demo_server, viewport):
    left = included_left() - 1  # after this booking (each viewport books one)
    said = f"Monthly Unlimited: 1 included booking ({left} left this month)"
    page = new_page(viewport)
    open_booking_form(page, demo_server)
    assert page.get_by_label("Use my included bookings").is_checked()
    pay_button_says(page, "Book now: nothing to pay")
    assert said in page.locator("#pay-summary").inner_text()
    assert_accessible(page, "booking form with included bookings")
    assert_fits(page)
    page.set_viewport_size({"width": 320, "height": 700})
    assert_fits(page)
    page.set_viewport_size(viewport)

    page.get_by_label("Use my included bookings").uncheck()
    pay_button_says(page, "Pay £9.60 and book")
    page.get_by_label("Use my included bookings").check()
    pay_button_says(page, "Book now: nothing to pay")
    page.get_by_label("Name of attendee 1").fill("Demo Booker")
    page.locator(".pay-button").click()

    page.wait_for_url("**/portal/bookings/*/")
    assert said in page.locator("section[aria-labelledby=order-details]").inner_text()
    assert included_left() == left
    page.goto(demo_server.at("/portal/memberships/"))
    assert (
        f"{4 - left} used, {left} of 4 left this month" in page.locator(".membership-card").first.inner_text()
    )
