"""Identifiers that travel in request bodies and query strings (form keys, purchase keys, offer
tokens, Checkout session ids): replayed from another browser, they show and grant nothing.

The IDOR matrix (test_idor_matrix.py) covers identifiers in URL paths; these are the others. Each
test lets a victim act first, then replays the victim's identifier from another client."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from bookings import links
from bookings import services as booking_services
from bookings.models import Booking, WaitingListEntry
from memberships.models import Membership
from passes.models import Pass
from tests.factories import PASSWORD, EventFactory, TicketTypeFactory, UserFactory, WaitingListEntryFactory
from tests.memberships.factories import MembershipFactory, MembershipPlanFactory
from tests.passes.factories import PassTypeFactory
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
VICTIM = "victim@example.com"


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser, title="Morning Flow", capacity=10)
    TicketTypeFactory(event=event, name="Adult", price=1200)
    return event


def book_url(event) -> str:
    return reverse("event_book", args=[event.organiser.slug, event.code])


def step_two(client: Client, event) -> str:
    """Open the booking form for one ticket, as a browser does; the key it was given."""
    ticket = event.ticket_types.get()
    page = client.get(book_url(event), {f"qty_{ticket.pk}": 1})
    return KEY.search(page.content.decode()).group(1)


def booking_form(event, *, key: str, name: str, email: str, **extra) -> dict:
    ticket = event.ticket_types.get()
    return {
        f"qty_{ticket.pk}": 1,
        "booker_name": name,
        "booker_email": email,
        "attendee_0_name": name,
        "idempotency_key": key,
        **extra,
    }


def logged_in_as(client: Client):
    return User.objects.filter(pk=client.session.get("_auth_user_id")).first()


def assert_shows_nothing_of(response, booking: Booking, *, name_too: bool = True) -> None:
    html = response.content.decode() if response.status_code == 200 else ""
    assert booking.reference not in html
    if name_too:  # unless the replay itself typed the victim's name into the form
        assert booking.booker_name not in html
    if response.status_code == 302:
        assert booking.reference not in response.url


# Booking form keys -------------------------------------------------------------------------------


def test_a_replayed_booking_key_from_another_browser_gets_a_fresh_form_not_the_booking(event):
    victim = Client()
    key = step_two(victim, event)
    victim.post(book_url(event), booking_form(event, key=key, name="Vicky Victim", email=VICTIM))
    booking = Booking.objects.get()

    replayer = Client()
    response = replayer.post(
        book_url(event), booking_form(event, key=key, name="Mal", email="mal@example.com")
    )

    assert response.status_code == 200  # the form again, with a clear message
    assert "already been used" in response.content.decode()
    assert_shows_nothing_of(response, booking)
    assert KEY.search(response.content.decode()).group(1) != key  # a fresh key for this browser
    assert replayer.get(reverse("bookings:booking_detail", args=[booking.reference])).status_code == 404
    assert Booking.objects.count() == 1


def test_a_replayed_key_never_logs_anyone_in(event):
    victim = Client()
    key = step_two(victim, event)
    form = booking_form(
        event,
        key=key,
        name="Vicky Victim",
        email=VICTIM,
        create_account="on",
        password="a-long-pass-phrase-9",
    )
    victim.post(book_url(event), form)
    booking = Booking.objects.get()
    assert booking.user is not None and logged_in_as(victim) == booking.user  # she made the account

    for replay in (
        booking_form(event, key=key, name="Mal", email="mal@example.com"),
        {**form, "password": "anything-at-all-42"},  # her own details, and an account asked for
        {k: v for k, v in form.items() if k not in {"create_account", "password"}},
    ):
        replayer = Client()
        response = replayer.post(book_url(event), replay)

        assert logged_in_as(replayer) is None
        assert_shows_nothing_of(response, booking, name_too=False)
        assert replayer.get(reverse("bookings:booking_detail", args=[booking.reference])).status_code == 404
        assert replayer.get(reverse("bookings:event_list")).status_code == 302  # to the login page
    assert Booking.objects.count() == 1


@pytest.mark.parametrize("how", ["logged in first", "account made on the form"])
def test_the_shared_computer_back_and_resubmit_after_logout_neither_logs_in_nor_grants(event, how):
    computer = Client()
    extra = {}
    if how == "logged in first":
        computer.force_login(UserFactory(email=VICTIM, name="Vicky Victim"))
    else:
        extra = {"create_account": "on", "password": "a-long-pass-phrase-9"}
    key = step_two(computer, event)
    form = booking_form(event, key=key, name="Vicky Victim", email=VICTIM, **extra)
    computer.post(book_url(event), form)
    booking = Booking.objects.get()
    assert booking.user == User.objects.get(email=VICTIM)
    computer.post(reverse("account_logout"))
    assert logged_in_as(computer) is None

    response = computer.post(book_url(event), form)  # Back, then "Confirm form resubmission"

    assert logged_in_as(computer) is None
    assert_shows_nothing_of(response, booking, name_too=False)
    assert computer.get(reverse("bookings:booking_detail", args=[booking.reference])).status_code == 404
    assert Booking.objects.count() == 1


def test_a_double_submit_from_the_same_browser_still_lands_on_the_one_booking(event):
    booker = Client()
    key = step_two(booker, event)
    form = booking_form(event, key=key, name="Bea", email="bea@example.com")

    first = booker.post(book_url(event), form)
    second = booker.post(book_url(event), form)

    assert first.status_code == second.status_code == 302 and first.url == second.url
    assert Booking.objects.count() == 1


def test_a_key_replayed_with_other_details_from_the_same_browser_does_not_hand_over_the_booking(event):
    # Even with a key this browser was given, the booking made with it goes only to the same booker.
    browser = Client()
    key = step_two(browser, event)
    booking_services.booking_create(
        request=booking_services.BookingRequest(
            event=event,
            booker=booking_services.Booker(name="Someone Else", email="someone@example.com"),
            tickets=[booking_services.TicketRequest(ticket_type=event.ticket_types.get(), attendee_name="S")],
            idempotency_key=key,
        )
    )
    booking = Booking.objects.get()

    response = browser.post(
        book_url(event), booking_form(event, key=key, name="Bea", email="bea@example.com")
    )

    assert_shows_nothing_of(response, booking)
    assert browser.get(reverse("bookings:booking_detail", args=[booking.reference])).status_code == 404


def test_the_booking_pages_are_never_stored(event):
    browser = Client()
    step_one = browser.get(book_url(event))
    ticket = event.ticket_types.get()
    form_page = browser.get(book_url(event), {f"qty_{ticket.pk}": 1})
    key = KEY.search(form_page.content.decode()).group(1)
    result = browser.post(book_url(event), booking_form(event, key=key, name="Bea", email="bea@example.com"))
    detail = browser.get(result.url)

    for response in (step_one, form_page, result, detail):
        assert "no-store" in response["Cache-Control"]


# Pass and voucher purchase keys -----------------------------------------------------------------


def test_another_bookers_pass_purchase_key_shows_and_grants_nothing(organiser, booker, other_booker):
    pass_type = PassTypeFactory(organiser=organiser, price=4500, name="Five-class pass")
    url = reverse("passes_public:pass_buy", args=[organiser.slug, pass_type.code])
    victim = Client()
    victim.force_login(other_booker)
    victim.post(url, {"idempotency_key": "victims-pass-key"})
    theirs = Pass.objects.get()

    attacker = Client()
    attacker.force_login(booker)
    response = attacker.post(url, {"idempotency_key": "victims-pass-key"}, follow=True)

    assert str(theirs.code) not in response.content.decode()
    assert list(Pass.objects.values_list("pk", "user")) == [(theirs.pk, other_booker.pk)]
    listing = attacker.get(reverse("passes:pass_list")).content.decode()
    assert "Five-class pass" not in listing
    assert attacker.get(reverse("passes:pass_detail", args=[theirs.code])).status_code == 404


def test_another_bookers_voucher_purchase_key_shows_and_grants_nothing(organiser, booker, other_booker):
    url = reverse("vouchers_public:voucher_buy", args=[organiser.slug])
    order = {
        "value": "25",
        "recipient_name": "Rae",
        "recipient_email": "rae@example.com",
        "message": "",
        "idempotency_key": "victims-voucher-key",
    }
    victim = Client()
    victim.force_login(other_booker)
    victim.post(url, order)
    theirs = Voucher.objects.get()

    attacker = Client()
    attacker.force_login(booker)
    response = attacker.post(url, order, follow=True)

    assert theirs.display_code not in response.content.decode()
    assert Voucher.objects.count() == 1 and Voucher.objects.get().buyer == other_booker
    assert theirs.display_code not in attacker.get(reverse("vouchers:voucher_list")).content.decode()


def test_another_bookers_booking_form_key_with_an_offer_token_shows_and_grants_nothing(event):
    # A waiting-list offer's token names one held place; once used, replaying the token and the
    # key from another browser neither books nor shows what the holder booked.
    event.capacity = 1
    event.save()
    entry = WaitingListEntryFactory(
        event=event,
        name="Vicky Victim",
        email=VICTIM,
        quantity=1,
        status=WaitingListEntry.Status.OFFERED,
        offer_expires_at=timezone.now() + timezone.timedelta(hours=4),
    )
    token = signing.dumps(str(entry.code), salt=links.OFFER_SALT)
    victim = Client()
    ticket = event.ticket_types.get()
    page = victim.get(book_url(event), {f"qty_{ticket.pk}": 1, "offer": token})
    key = KEY.search(page.content.decode()).group(1)
    form = booking_form(event, key=key, name="Vicky Victim", email=VICTIM, offer=token)
    victim.post(book_url(event), form)
    booking = Booking.objects.get()

    replayer = Client()
    opened = replayer.get(book_url(event), {"offer": token})
    response = replayer.post(
        book_url(event), {**form, "booker_name": "Mal", "booker_email": "mal@example.com"}
    )

    assert "Vicky" not in opened.content.decode() and VICTIM not in opened.content.decode()
    assert_shows_nothing_of(response, booking)
    assert replayer.get(reverse("bookings:booking_detail", args=[booking.reference])).status_code == 404
    assert Booking.objects.count() == 1


# Checkout session ids in success URLs -----------------------------------------------------------


def test_another_bookers_checkout_session_id_shows_nothing_of_their_membership(
    organiser, booker, other_booker
):
    plan = MembershipPlanFactory(organiser=organiser, name="Monthly Unlimited")
    MembershipFactory(
        plan=plan,
        user=other_booker,
        status=Membership.Status.PENDING,
        checkout_reference="cs_victims_session",
    )
    attacker = Client()
    attacker.force_login(booker)

    response = attacker.get(reverse("memberships:membership_list"), {"session": "cs_victims_session"})

    assert response.status_code == 200
    assert "Monthly Unlimited" not in response.content.decode()


def test_a_checkout_success_url_for_another_bookers_booking_is_not_found(event):
    victim = Client()
    key = step_two(victim, event)
    result = victim.post(book_url(event), booking_form(event, key=key, name="Vicky Victim", email=VICTIM))

    other = Client()
    other.force_login(UserFactory(email="mal@example.com", password=PASSWORD))

    assert other.get(result.url).status_code == 404  # the success URL is the booking's own page
    assert Client().get(result.url).status_code == 404
