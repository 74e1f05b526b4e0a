"""The pay button says what the booker will be charged: the member discount, a pass and a voucher
applied, updated (htmx) as they choose, and right without JavaScript too (#20 defect 2)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import Booking
from passes.models import Pass
from tests.factories import EventFactory, TicketTypeFactory
from tests.memberships.factories import MembershipFactory
from tests.passes.factories import PassFactory
from tests.vouchers.factories import VoucherFactory

pytestmark = pytest.mark.django_db


def url(ticket):
    return reverse("event_book", args=[ticket.event.organiser.slug, ticket.event.code])


def ticket_at(organiser, price):
    return TicketTypeFactory(event=EventFactory(organiser=organiser), name="Drop-in", price=price)


def form(ticket, email="booker@example.com", **extra):
    return {
        f"qty_{ticket.pk}": 1,
        "booker_name": "Bea",
        "booker_email": email,
        "idempotency_key": "pay-1",
        "attendee_0_name": "Bea",
        **extra,
    }


def button(html: str) -> str:
    start = html.index('class="pay-button"')
    return html[html.index(">", start) + 1 : html.index("</button>", start)].strip()


def test_a_member_sees_and_pays_the_discounted_price(client_as_booker, booker, organiser):
    MembershipFactory(organiser=organiser, user=booker, plan__discount_percent=20)
    ticket = ticket_at(organiser, 1200)

    html = client_as_booker.get(url(ticket), {f"qty_{ticket.pk}": 1}).content.decode()
    assert button(html) == "Pay £9.60 and book"
    assert "member discount (20%)" in html and "-£2.40" in html

    client_as_booker.post(url(ticket), form(ticket, pay_amount=960))
    assert Booking.objects.get().total == 960


def test_choosing_a_pass_updates_the_button_to_nothing_to_pay(client_as_booker, booker, organiser, htmx):
    ticket = ticket_at(organiser, 2500)
    pass_ = PassFactory(organiser=organiser, user=booker, pass_type__name="5-class pass", uses_left=3)
    assert button(client_as_booker.get(url(ticket), {f"qty_{ticket.pk}": 1}).content.decode()) == (
        "Pay £25.00 and book"
    )

    partial = client_as_booker.post(url(ticket), {**form(ticket), "use_pass": pass_.pk, "quote": "1"}, **htmx)

    html = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in html
    assert button(html) == "Book now: nothing to pay"
    assert "5-class pass: 1 use" in html
    assert not Booking.objects.exists()


def test_a_voucher_covering_everything_says_nothing_to_pay(client, organiser, htmx):
    ticket = ticket_at(organiser, 2000)
    voucher = VoucherFactory(organiser=organiser, value=2500)

    html = client.post(
        url(ticket), {**form(ticket), "voucher_code": voucher.display_code, "quote": "1"}, **htmx
    )

    assert button(html.content.decode()) == "Book now: nothing to pay"
    assert "-£20.00" in html.content.decode()


def test_a_voucher_paying_part_leaves_the_rest_on_the_button_and_that_is_charged(client, organiser, htmx):
    ticket = ticket_at(organiser, 1250)
    voucher = VoucherFactory(organiser=organiser, value=1000)

    html = client.post(url(ticket), {**form(ticket), "voucher_code": voucher.code, "quote": "1"}, **htmx)
    assert button(html.content.decode()) == "Pay £2.50 and book"

    client.post(url(ticket), form(ticket, voucher_code=voucher.code, pay_amount=250))
    booking = Booking.objects.get()
    assert (booking.total, booking.status) == (250, "confirmed")


def test_an_unknown_voucher_code_changes_nothing_on_the_button(client, organiser, htmx):
    ticket = ticket_at(organiser, 1250)

    html = client.post(
        url(ticket), {**form(ticket), "voucher_code": "AAAA-BBBB-CCCC-DDDD", "quote": "1"}, **htmx
    )

    assert button(html.content.decode()) == "Pay £12.50 and book"
    assert "can't use this code" in html.content.decode()


def test_without_javascript_update_the_total_shows_the_new_amount_and_books_nothing(client, organiser):
    ticket = ticket_at(organiser, 1250)
    voucher = VoucherFactory(organiser=organiser, value=1000)

    response = client.post(url(ticket), {f"qty_{ticket.pk}": 1, "voucher_code": voucher.code, "quote": "1"})

    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert button(html) == "Pay £2.50 and book"
    assert "This field is required" not in html  # the rest of the form is not judged yet
    assert "Update the total" in html  # the no-JavaScript button (inside <noscript>)
    assert not Booking.objects.exists()


def test_without_javascript_a_pay_button_that_showed_another_amount_charges_nothing(
    client_as_booker, booker, organiser
):
    """The booker chose a pass but the button they pressed still said £25.00: nothing is booked,
    the page says what the amount is now, and pressing the new button books."""
    ticket = ticket_at(organiser, 2500)
    pass_ = PassFactory(organiser=organiser, user=booker, uses_left=3)

    response = client_as_booker.post(url(ticket), form(ticket, use_pass=pass_.pk, pay_amount=2500))

    html = response.content.decode()
    assert response.status_code == 200 and not Booking.objects.exists()
    assert "The amount to pay is now £0.00" in html
    assert button(html) == "Book now: nothing to pay"
    assert Pass.objects.get(pk=pass_.pk).uses_left == 3

    client_as_booker.post(url(ticket), form(ticket, use_pass=pass_.pk, pay_amount=0))
    booking = Booking.objects.get()
    assert (booking.total, booking.payment_method) == (0, "pass")


def test_posting_the_same_form_again_after_booking_lands_on_the_booking(client, organiser):
    """A double submit with a voucher: the balance is spent by the first, and the second still
    lands on the booking instead of asking to confirm a new amount."""
    ticket = ticket_at(organiser, 1250)
    voucher = VoucherFactory(organiser=organiser, value=1000)
    key = client.get(url(ticket), {f"qty_{ticket.pk}": 1}).context["details"]["idempotency_key"].value()
    data = form(
        ticket, email="gus@example.com", voucher_code=voucher.code, pay_amount=250, idempotency_key=key
    )

    first = client.post(url(ticket), data)
    second = client.post(url(ticket), data)

    booking = Booking.objects.get()
    assert first.status_code == second.status_code == 302
    assert second.url == reverse("bookings:booking_detail", args=[booking.reference])


def test_trying_codes_on_the_total_counts_as_guessing_and_is_limited(client, organiser, htmx):
    """The total would tell a guesser which codes are real: wrong codes tried there count with
    those tried at booking, and past the limit no code is looked up (the right one neither)."""
    from vouchers.services import CODE_FAILURES_PER_HOUR

    ticket = ticket_at(organiser, 1250)
    voucher = VoucherFactory(organiser=organiser, value=1000)
    for n in range(CODE_FAILURES_PER_HOUR):
        client.post(
            url(ticket), {**form(ticket), "voucher_code": f"AAAA-AAAA-AAAA-AA{n:02d}", "quote": "1"}, **htmx
        )

    html = client.post(url(ticket), {**form(ticket), "voucher_code": voucher.code, "quote": "1"}, **htmx)

    assert button(html.content.decode()) == "Pay £12.50 and book"
