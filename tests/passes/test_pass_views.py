"""The Passes section, buying a pass on the public page, and paying for a booking with a pass."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import Booking
from passes.models import Pass
from tests.factories import BookingFactory, EventFactory, OrganiserFactory, TicketTypeFactory
from tests.passes.factories import PassFactory, PassRedemptionFactory, PassTypeFactory

pytestmark = pytest.mark.django_db


def test_the_passes_section_lists_active_and_inactive_passes(client_as_booker, booker, organiser):
    PassFactory(organiser=organiser, user=booker, pass_type__name="Ten classes", uses_left=3)
    PassFactory(organiser=organiser, user=booker, pass_type__name="Old pass", uses_left=0)

    html = client_as_booker.get(reverse("passes:pass_list")).content.decode()

    active, inactive = html.split("Inactive passes")
    assert "Ten classes" in active and "3 of 5" in active
    assert "Old pass" in inactive and "Used up" in inactive


def test_view_details_shows_uses_validity_where_and_history(client_as_booker, booker, organiser, htmx):
    chosen = EventFactory(organiser=organiser, title="Evening Yin")
    pass_type = PassTypeFactory(organiser=organiser, name="Yin pass", scope="chosen")
    pass_type.events.set([chosen])
    pass_ = PassFactory(pass_type=pass_type, user=booker, uses_left=4)
    redemption = PassRedemptionFactory(booker_pass=pass_, booking__user=booker, booking__event=chosen)

    response = client_as_booker.get(reverse("passes:pass_detail", args=[pass_.code]), **htmx)

    html = response.content.decode()
    assert response.status_code == 200 and "<dialog" in html and "<html" not in html  # the partial
    for text in [
        "Bought on",
        "Uses included",
        "Uses remaining",
        "Valid",
        "Evening Yin",
        redemption.booking.reference,
    ]:
        assert text in html
    # Without htmx the same details are a full page.
    assert "<html" in client_as_booker.get(reverse("passes:pass_detail", args=[pass_.code])).content.decode()


def test_another_bookers_pass_is_not_found(client_as_booker, other_booker, organiser):
    theirs = PassFactory(organiser=organiser, user=other_booker)

    assert client_as_booker.get(reverse("passes:pass_detail", args=[theirs.code])).status_code == 404
    assert "Class pass" not in client_as_booker.get(reverse("passes:pass_list")).content.decode()


def test_passes_and_vouchers_are_hidden_for_bookers_of_free_plan_organisers_only(client_as_booker, booker):
    free = OrganiserFactory(plan="free")
    BookingFactory(organiser=free, user=booker)

    html = client_as_booker.get(reverse("bookings:event_list")).content.decode()
    assert reverse("passes:pass_list") not in html and reverse("vouchers:voucher_list") not in html
    assert (
        "None of the organisers you book with offer passes"
        in client_as_booker.get(reverse("passes:pass_list")).content.decode()
    )

    BookingFactory(organiser=OrganiserFactory(plan="standard"), user=booker)
    html = client_as_booker.get(reverse("bookings:event_list")).content.decode()
    assert reverse("passes:pass_list") in html and reverse("vouchers:voucher_list") in html


def test_the_public_page_links_to_passes_only_for_organisers_that_sell_them(client, organiser):
    PassTypeFactory(organiser=organiser, name="Five classes", price=4500)
    free = OrganiserFactory(plan="free")

    page = client.get(reverse("organiser_page", args=[organiser.slug])).content.decode()
    assert reverse("passes_public:pass_type_list", args=[organiser.slug]) in page
    assert (
        "Five classes"
        in client.get(reverse("passes_public:pass_type_list", args=[organiser.slug])).content.decode()
    )

    assert "Buy a pass" not in client.get(reverse("organiser_page", args=[free.slug])).content.decode()
    assert client.get(reverse("passes_public:pass_type_list", args=[free.slug])).status_code == 404


def test_buying_a_pass_needs_an_account_and_then_it_is_in_the_portal(client, booker, organiser):
    pass_type = PassTypeFactory(organiser=organiser, name="Five classes", price=4500)
    url = reverse("passes_public:pass_buy", args=[organiser.slug, pass_type.code])

    assert client.get(url).status_code == 302  # to the login page
    client.force_login(booker)
    assert "Pay £45.00" in client.get(url).content.decode()
    response = client.post(url, {"idempotency_key": "buy-once"})
    client.post(url, {"idempotency_key": "buy-once"})  # a double click buys once

    assert response.url == reverse("passes:pass_list")
    pass_ = Pass.objects.get(user=booker)
    assert (pass_.status, pass_.uses_left, pass_.price) == ("active", 5, 4500)


def test_a_logged_in_booker_pays_for_a_booking_with_a_pass(client_as_booker, booker, organiser):
    event = EventFactory(organiser=organiser)
    ticket = TicketTypeFactory(event=event, name="Drop-in", price=1200)
    pass_ = PassFactory(organiser=organiser, user=booker, uses_left=2)
    url = reverse("event_book", args=[organiser.slug, event.code])

    form = client_as_booker.get(url, {f"qty_{ticket.pk}": 1}).content.decode()
    assert "Pay with a pass" in form and "2 uses left" in form

    response = client_as_booker.post(
        url,
        {
            f"qty_{ticket.pk}": 1,
            "booker_name": "Bea",
            "booker_email": booker.email,
            "idempotency_key": "with-pass",
            "attendee_0_name": "Bea",
            "use_pass": pass_.pk,
        },
    )

    booking = Booking.objects.get(user=booker)
    assert response.status_code == 302
    assert (booking.status, booking.total, booking.payment_method) == ("confirmed", 0, "pass")
    assert Pass.objects.get(pk=pass_.pk).uses_left == 1


def test_someone_elses_pass_cannot_be_chosen_at_booking(client_as_booker, booker, other_booker, organiser):
    event = EventFactory(organiser=organiser)
    ticket = TicketTypeFactory(event=event, price=1200)
    PassFactory(organiser=organiser, user=booker)  # so the booker is offered their own passes
    theirs = PassFactory(organiser=organiser, user=other_booker)

    response = client_as_booker.post(
        reverse("event_book", args=[organiser.slug, event.code]),
        {
            f"qty_{ticket.pk}": 1,
            "booker_name": "Bea",
            "booker_email": "booker@example.com",
            "idempotency_key": "steal",
            "attendee_0_name": "Bea",
            "use_pass": theirs.pk,
        },
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Booking.objects.exists()
    assert Pass.objects.get(pk=theirs.pk).uses_left == theirs.uses_left
