"""Joining a waiting list needs the mailbox's consent, and tells nobody who is already waiting.

Anyone can type anyone's address into "Join waiting list": the place is only held once the
address's owner clicks the emailed confirmation (double opt-in), and the page answers the same
whether or not the address was already on the list. A logged-in booker joining with their own
verified email has proved the mailbox and is on the list at once.
"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import signing
from django.test import Client
from django.urls import reverse

from bookings import links, services
from bookings.models import WaitingListEntry
from tests.factories import EventFactory, TicketTypeFactory, WaitingListEntryFactory
from tests.helpers import paid_booking, rules

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'(csrftoken": "|name="csrfmiddlewaretoken" value=")[^"]+')
CHECK_EMAIL = "Check your email to confirm your place on the waiting list"
Status = WaitingListEntry.Status


@pytest.fixture
def full(organiser):
    """A full event (one seat, booked) whose rules offer freed places for 12 hours."""
    event = EventFactory(organiser=organiser, title="Pottery for beginners", capacity=1)
    ticket = TicketTypeFactory(event=event, price=2000)
    rules(event, waiting_list_offer_hours=12)
    paid_booking(ticket)
    return event


def join(client, event, email, name="Wes Waiter", quantity=1):
    return client.post(
        reverse("waiting_list_join", args=[event.organiser.slug, event.code]),
        {"name": name, "email": email, "quantity": quantity},
        follow=True,
    )


def confirm_link(message) -> str:
    (url,) = re.findall(r"https?://\S+/portal/waiting/confirm/[^/\s]+/", message.body)
    return url


def free_a_seat(event, django_capture_on_commit_callbacks):
    event.capacity += 1
    event.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.waiting_list_offer_places_now(event=event)


def test_joining_enrols_nobody_until_the_mailbox_confirms(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = join(Client(), full, "victim@example.com")

    assert CHECK_EMAIL in response.content.decode()
    entry = WaitingListEntry.objects.get()
    assert (entry.status, entry.confirmed_at, entry.user) == (Status.UNCONFIRMED, None, None)
    (message,) = mailoutbox
    assert message.to == ["victim@example.com"]
    assert "Pottery for beginners" in message.subject
    free_a_seat(full, django_capture_on_commit_callbacks)
    entry.refresh_from_db()
    assert entry.status == Status.UNCONFIRMED  # no offer to an address that never said yes
    assert len(mailoutbox) == 1


def test_the_emailed_link_asks_before_it_confirms_and_then_holds_the_place(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(Client(), full, "wes@example.com")
    url = confirm_link(mailoutbox[0])
    owner = Client()

    page = owner.get(url)  # a mail scanner's fetch confirms nothing
    assert page.status_code == 200 and "Confirm my place" in page.content.decode()
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "same-origin"
    assert WaitingListEntry.objects.get().status == Status.UNCONFIRMED

    confirmed = owner.post(url, follow=True)
    assert "You&#x27;re on the waiting list for Pottery for beginners" in confirmed.content.decode()
    entry = WaitingListEntry.objects.get()
    assert entry.status == Status.WAITING and entry.confirmed_at is not None
    assert owner.post(url).status_code == 302  # a second click changes nothing
    assert WaitingListEntry.objects.get().confirmed_at == entry.confirmed_at


def test_a_tampered_or_forged_confirm_link_confirms_nothing(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(Client(), full, "wes@example.com")
    url = confirm_link(mailoutbox[0])
    entry = WaitingListEntry.objects.get()
    forged = signing.dumps(str(entry.code), salt="bookings.waiting-list-offer")  # another purpose's salt

    for bad in [url[:-3] + "xx/", reverse("bookings:waiting_confirm", args=[forged])]:
        response = Client().post(bad)
        assert response.status_code == 404
        assert "This link no longer works" in response.content.decode()
    assert WaitingListEntry.objects.get().status == Status.UNCONFIRMED


def test_the_page_answers_the_same_whether_or_not_the_address_is_on_the_list(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    WaitingListEntryFactory(event=full, organiser=full.organiser, email="known@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        known = join(Client(), full, "known@example.com")
        unknown = join(Client(), full, "unknown@example.com")

    def page(response):
        html = response.content.decode().replace("known@example.com", "EMAIL").replace("unknown@", "")
        return CSRF.sub("CSRF", html)

    assert known.status_code == unknown.status_code == 200
    assert page(known) == page(unknown)
    assert CHECK_EMAIL in known.content.decode()
    # Only the mailbox learns which: its owner is told they are already waiting.
    (already,) = [m for m in mailoutbox if m.to == ["known@example.com"]]
    assert "already on the waiting list" in already.body
    assert WaitingListEntry.objects.filter(email="known@example.com").count() == 1


def test_a_second_confirmation_request_reuses_the_unconfirmed_place(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(Client(), full, "wes@example.com")
        join(Client(), full, "WES@example.com", quantity=2)

    entry = WaitingListEntry.objects.get()
    assert (entry.status, entry.quantity) == (Status.UNCONFIRMED, 2)
    assert len(mailoutbox) == 2
    tokens = [confirm_link(m).rstrip("/").rsplit("/", 1)[1] for m in mailoutbox]
    assert [links.waiting_list_entry_for_confirm_token(t) for t in tokens] == [entry, entry]


def test_joining_emails_one_address_a_few_times_an_hour_at_most(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(6):
            assert (
                CHECK_EMAIL
                in join(Client(REMOTE_ADDR=f"198.51.100.{n}"), full, "wes@example.com").content.decode()
            )
    assert len(mailoutbox) == 3


def test_the_queue_runs_in_the_order_places_were_confirmed(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(Client(), full, "early@example.com")
        join(Client(), full, "prompt@example.com")
    early, prompt = (confirm_link(m) for m in mailoutbox)
    Client().post(prompt)
    Client().post(early)

    mailoutbox.clear()
    free_a_seat(full, django_capture_on_commit_callbacks)

    assert [m.to for m in mailoutbox] == [["prompt@example.com"]]


def test_confirming_when_a_place_is_free_offers_it_at_once(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(Client(), full, "wes@example.com")
    full.capacity = 2
    full.save()

    with django_capture_on_commit_callbacks(execute=True):
        Client().post(confirm_link(mailoutbox[0]))

    assert WaitingListEntry.objects.get().status == Status.OFFERED
    assert "A place is free" in mailoutbox[-1].subject


def test_a_logged_in_booker_with_their_verified_email_is_on_the_list_at_once(
    full, booker, client_as_booker, mailoutbox, django_capture_on_commit_callbacks
):
    EmailAddress.objects.create(user=booker, email=booker.email, verified=True, primary=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = join(client_as_booker, full, "Booker@example.com")

    assert "You&#x27;re on the waiting list for Pottery for beginners" in response.content.decode()
    entry = WaitingListEntry.objects.get()
    assert (entry.status, entry.user) == (Status.WAITING, booker) and entry.confirmed_at
    (joined,) = mailoutbox  # "you're on the list", with its manage link: nothing to confirm
    assert "/portal/waiting/confirm/" not in joined.body and "/portal/waiting/link/" in joined.body


@pytest.mark.parametrize("verified", [False, True])
def test_a_logged_in_booker_joining_with_an_address_not_proved_theirs_must_confirm_it(
    full, booker, client_as_booker, mailoutbox, django_capture_on_commit_callbacks, verified
):
    EmailAddress.objects.create(user=booker, email=booker.email, verified=verified, primary=True)
    address = "friend@example.com" if verified else booker.email

    with django_capture_on_commit_callbacks(execute=True):
        response = join(client_as_booker, full, address)

    assert CHECK_EMAIL in response.content.decode()
    entry = WaitingListEntry.objects.get()
    assert entry.status == Status.UNCONFIRMED
    assert entry.user is None  # what is addressed to a mailbox is its owner's, not the typist's
    assert [m.to for m in mailoutbox] == [[address]]
