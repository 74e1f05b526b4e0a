"""A waiting-list place's signed manage link: the email that answers a join carries it, so a guest
can see their place and leave it with no account. The link grants this browser that one place;
it opens nothing else, and nothing else opens it."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse

from bookings import links, services
from bookings.models import WaitingListEntry
from tests.factories import EventFactory, TicketTypeFactory, WaitingListEntryFactory
from tests.helpers import paid_booking, rules
from tests.security.test_tokens_in_logs import assert_not_in, fetch, project_log_lines

pytestmark = pytest.mark.django_db
Status = WaitingListEntry.Status


@pytest.fixture
def full(organiser):
    event = EventFactory(organiser=organiser, title="Pottery for beginners", capacity=1)
    ticket = TicketTypeFactory(event=event, price=2000)
    rules(event, waiting_list_offer_hours=12)
    paid_booking(ticket)
    return event


def manage_link(message) -> str:
    (url,) = re.findall(r"https?://\S+/portal/waiting/link/[^/\s\"]+/", message.body)
    return url.removeprefix(settings.SITE_URL)


def join(event, email, quantity=2):
    return Client().post(
        reverse("waiting_list_join", args=[event.organiser.slug, event.code]),
        {"name": "Gus Guest", "email": email, "quantity": quantity},
    )


def test_the_confirmation_email_carries_a_manage_link_a_guest_can_see_and_leave_with(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(full, "gus@example.com")
    entry = WaitingListEntry.objects.get()
    guest = Client()

    opened = guest.get(manage_link(mailoutbox[0]))

    detail = reverse("bookings:waiting_detail", args=[entry.code])
    assert opened.status_code == 302 and opened["Location"] == detail
    page = guest.get(detail)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert "Pottery for beginners" in html and "2 places" in html
    assert "Confirm your place from the email" in html  # not confirmed yet

    left = guest.post(reverse("bookings:waiting_leave", args=[entry.code]))
    assert left.status_code == 302
    entry.refresh_from_db()
    assert entry.status == Status.LEFT
    assert (
        links.waiting_list_entry_for_confirm_token(
            links.waiting_list_confirm_url(entry).rstrip("/").rsplit("/", 1)[1]
        )
        is None
    )  # the confirmation link died with the place


def test_an_account_holder_joining_at_once_is_emailed_their_manage_link(
    full, booker, mailoutbox, django_capture_on_commit_callbacks
):
    EmailAddress.objects.create(user=booker, email=booker.email, verified=True, primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.waiting_list_join(event=full, name="Bo", email=booker.email, quantity=2, user=booker)

    (message,) = mailoutbox
    assert "You're on the waiting list" in message.subject
    assert "2 places" in message.body
    guest = Client()
    guest.get(manage_link(message))
    assert guest.get(reverse("bookings:waiting_detail", args=[entry.code])).status_code == 200


def test_a_manage_link_opens_its_own_place_only(
    full, organiser, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(full, "gus@example.com")
    other = WaitingListEntryFactory(event=full, email="someone@example.com")
    elsewhere = WaitingListEntryFactory(event=EventFactory(), email="gus@example.com")
    guest = Client()
    guest.get(manage_link(mailoutbox[0]))

    for entry in [other, elsewhere]:
        for response in [
            guest.get(reverse("bookings:waiting_detail", args=[entry.code])),
            guest.post(reverse("bookings:waiting_leave", args=[entry.code])),
            guest.post(reverse("bookings:waiting_places", args=[entry.code]), {"quantity": 1}),
        ]:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        entry.refresh_from_db()
        assert entry.status == Status.WAITING


def test_a_logged_in_booker_holding_a_link_still_sees_nobody_elses_place(
    full, client_as_booker, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(full, "gus@example.com")
    mine = WaitingListEntry.objects.get()
    other = WaitingListEntryFactory(event=full, email="someone@example.com")
    client_as_booker.get(manage_link(mailoutbox[0]))

    assert client_as_booker.get(reverse("bookings:waiting_detail", args=[mine.code])).status_code == 200
    assert client_as_booker.get(reverse("bookings:waiting_detail", args=[other.code])).status_code == 404
    assert client_as_booker.post(reverse("bookings:waiting_leave", args=[other.code])).status_code == 404
    other.refresh_from_db()
    assert other.status == Status.WAITING


def test_without_the_link_a_guest_is_asked_to_log_in(full):
    entry = WaitingListEntryFactory(event=full)
    response = Client().get(reverse("bookings:waiting_detail", args=[entry.code]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client().post(reverse("bookings:waiting_leave", args=[entry.code])).status_code == 302
    entry.refresh_from_db()
    assert entry.status == Status.WAITING


def test_a_tampered_or_other_purpose_token_opens_nothing(full, booker):
    entry = WaitingListEntryFactory(event=full)
    good = links.waiting_list_manage_token(entry)
    for salt in [links.CONFIRM_SALT, links.OFFER_SALT, links.SALT]:
        forged = signing.dumps(str(entry.code), salt=salt)
        response = Client().get(reverse("bookings:waiting_link", args=[forged]))
        assert response.status_code == 404 and "This link no longer works" in response.content.decode()
    assert Client().get(reverse("bookings:waiting_link", args=[good[:-3] + "abc"])).status_code == 404
    # A booking's View link token is not a waiting-list one either.
    assert links.waiting_list_entry_for_manage_token(good) == entry


def test_the_manage_link_outlives_the_event_by_90_days_only(full):
    from datetime import timedelta

    import time_machine

    entry = WaitingListEntryFactory(event=full)
    token = links.waiting_list_manage_token(entry)
    with time_machine.travel(full.ends_at + timedelta(days=89), tick=False):
        assert links.waiting_list_entry_for_manage_token(token) == entry
    with time_machine.travel(full.ends_at + timedelta(days=91), tick=False):
        assert links.waiting_list_entry_for_manage_token(token) is None


def test_the_manage_token_is_not_logged(client, full):
    entry = WaitingListEntryFactory(event=full)
    path = links.waiting_list_manage_url(entry).removeprefix(settings.SITE_URL)
    token = path.rstrip("/").rsplit("/", 1)[1]
    with project_log_lines() as log:
        assert fetch(client, "GET", path).status_code == 302
        assert fetch(client, "GET", path[:-5] + "abcd/").status_code == 404

    assert_not_in(token, log.getvalue())


def test_a_guest_can_ask_for_fewer_places_from_the_manage_page(full, django_capture_on_commit_callbacks):
    entry = WaitingListEntryFactory(event=full, quantity=3)
    guest = Client()
    guest.get(links.waiting_list_manage_url(entry).removeprefix(settings.SITE_URL))
    url = reverse("bookings:waiting_places", args=[entry.code])

    assert guest.post(url, {"quantity": 5}).status_code == 200  # more: refused, form shown again
    entry.refresh_from_db()
    assert entry.quantity == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = guest.post(url, {"quantity": 2})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.quantity == 2
