"""The Vouchers section, buying a gift voucher, and paying for a booking with a voucher code."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from bookings.models import Booking
from tests.factories import EventFactory, OrganiserFactory, TicketTypeFactory
from tests.vouchers.factories import VoucherFactory, VoucherRedemptionFactory
from vouchers.models import Voucher
from vouchers.services import CODE_FAILURES_PER_HOUR

pytestmark = pytest.mark.django_db


def test_the_section_shows_vouchers_bought_and_received(client_as_booker, booker, organiser):
    EmailAddress.objects.create(user=booker, email=booker.email, verified=True, primary=True)
    bought = VoucherFactory(
        organiser=organiser, buyer=booker, source="bought", value=2500, recipient_name="Rae"
    )
    received = VoucherFactory(organiser=organiser, recipient_email=booker.email, value=1000, balance=400)
    VoucherFactory(organiser=organiser, recipient_email="someone@example.com")

    html = client_as_booker.get(reverse("vouchers:voucher_list")).content.decode()

    assert bought.display_code in html and "Rae" in html and "£25.00" in html
    assert received.display_code in html and "£4.00 of £10.00" in html
    assert Voucher.objects.count() == 3 and html.count("View details") == 2


def test_an_unverified_email_does_not_reveal_vouchers_sent_to_it(client_as_booker, booker, organiser):
    EmailAddress.objects.create(user=booker, email=booker.email, verified=False, primary=True)
    voucher = VoucherFactory(organiser=organiser, recipient_email=booker.email)

    assert voucher.display_code not in client_as_booker.get(reverse("vouchers:voucher_list")).content.decode()
    assert (
        client_as_booker.get(reverse("vouchers:voucher_detail", args=[voucher.public_id])).status_code == 404
    )


def test_view_details_shows_code_balance_expiry_and_use_history(client_as_booker, booker, organiser, htmx):
    voucher = VoucherFactory(organiser=organiser, buyer=booker, value=3000, balance=1800)
    used = VoucherRedemptionFactory(voucher=voucher, amount=1200, booking__event__title="Sunrise Flow")

    response = client_as_booker.get(reverse("vouchers:voucher_detail", args=[voucher.public_id]), **htmx)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert response["Cache-Control"] == "no-store"
    for text in [voucher.display_code, "£30.00", "£18.00", "Sunrise Flow", "£12.00", "Any event at"]:
        assert text in html
    assert used.booking.reference not in html  # someone else's booking: its title only


def test_another_bookers_voucher_is_not_found(client_as_booker, other_booker, organiser):
    theirs = VoucherFactory(organiser=organiser, buyer=other_booker)

    assert (
        client_as_booker.get(reverse("vouchers:voucher_detail", args=[theirs.public_id])).status_code == 404
    )
    assert theirs.display_code not in client_as_booker.get(reverse("vouchers:voucher_list")).content.decode()


def test_buying_a_gift_voucher_shows_the_code_to_the_buyer(
    client, booker, organiser, mailoutbox, django_capture_on_commit_callbacks
):
    url = reverse("vouchers_public:voucher_buy", args=[organiser.slug])
    assert client.get(url).status_code == 302  # log in first
    client.force_login(booker)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "value": 30,
                "recipient_name": "Rae",
                "recipient_email": "rae@example.com",
                "idempotency_key": "g1",
            },
            follow=True,
        )

    voucher = Voucher.objects.get(buyer=booker)
    assert (voucher.value, voucher.balance, voucher.status) == (3000, 3000, "active")
    assert voucher.display_code in response.content.decode()
    # The code to the recipient, the receipt to the buyer.
    assert [m.to for m in mailoutbox] == [["rae@example.com"], [booker.email]]


def test_a_free_plan_organiser_has_no_voucher_shop(client_as_booker):
    free = OrganiserFactory(plan="free")
    assert client_as_booker.get(reverse("vouchers_public:voucher_buy", args=[free.slug])).status_code == 404


def book_with_code(client, event, ticket, code, key):
    return client.post(
        reverse("event_book", args=[event.organiser.slug, event.code]),
        {
            f"qty_{ticket.pk}": 1,
            "booker_name": "Gus Guest",
            "booker_email": "gus@example.com",
            "idempotency_key": key,
            "attendee_0_name": "Gus",
            "voucher_code": code,
        },
    )


def test_a_guest_pays_part_of_a_booking_with_a_voucher_code(client, organiser):
    event = EventFactory(organiser=organiser)
    ticket = TicketTypeFactory(event=event, price=1250)
    voucher = VoucherFactory(organiser=organiser, value=1000)

    response = book_with_code(client, event, ticket, voucher.display_code, "v1")

    booking = Booking.objects.get()
    assert response.status_code == 302
    # The voucher paid 10.00; the offline gateway took the other 2.50 by card.
    assert (booking.total, booking.payment_method, booking.status) == (250, "card", "confirmed")
    assert Voucher.objects.get(pk=voucher.pk).balance == 0


def test_a_wrong_code_is_refused_on_the_form_and_guessing_is_rate_limited(client, organiser):
    event = EventFactory(organiser=organiser)
    ticket = TicketTypeFactory(event=event, price=1250)
    voucher = VoucherFactory(organiser=organiser)

    response = book_with_code(client, event, ticket, "AAAA-AAAA-AAAA-AAAA", "guess-0")
    assert "We don&#x27;t know that voucher code" in response.content.decode()
    for n in range(1, CODE_FAILURES_PER_HOUR):
        book_with_code(client, event, ticket, f"AAAA-AAAA-AAAA-AAA{n}", f"guess-{n}")

    # Even the right code is refused now: the guesser can't tell.
    response = book_with_code(client, event, ticket, voucher.code, "guess-last")
    assert "Too many voucher codes tried" in response.content.decode()
    assert not Booking.objects.exists()
    assert Voucher.objects.get(pk=voucher.pk).balance == voucher.value


def test_order_details_show_what_the_voucher_paid(client, organiser):
    event = EventFactory(organiser=organiser)
    ticket = TicketTypeFactory(event=event, price=1250)
    voucher = VoucherFactory(organiser=organiser, value=1000)
    book_with_code(client, event, ticket, voucher.code, "shown")

    html = client.get(
        reverse("bookings:booking_detail", args=[Booking.objects.get().reference])
    ).content.decode()

    assert f"Gift voucher ending {voucher.code[-4:]}" in html and "-£10.00" in html
    assert voucher.code not in html  # the code is money: the booking page shows only its end
