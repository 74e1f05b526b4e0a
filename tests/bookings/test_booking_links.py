"""Signed View booking links: open one booking, nothing else, never a login."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse

from bookings import links, services
from bookings.models import Transfer
from portal.payments import Checkout, OfflineGateway
from tests.factories import AttendeeFactory, BookingFactory, EventFactory, TicketTypeFactory
from tests.helpers import in_days, paid_booking, rules

CSRF = re.compile(r'(csrftoken": "|name="csrfmiddlewaretoken" value=")[^"]+')


@pytest.fixture
def booking(organiser):
    return AttendeeFactory(booking__organiser=organiser, name="Kit Attendee").booking


def open_link(client, booking_or_token):
    token = booking_or_token if isinstance(booking_or_token, str) else links.make_token(booking_or_token)
    return client.get(reverse("bookings:booking_link", args=[token]), follow=True)


@pytest.mark.django_db
def test_a_valid_link_opens_its_booking_without_logging_in(client, booking):
    response = open_link(client, booking)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("bookings:booking_detail", args=[booking.reference])
    assert "Kit Attendee" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_link_never_opens_the_rest_of_the_portal(client, booking):
    open_link(client, booking)
    for url in ["/portal/events/", "/portal/account/", "/portal/memberships/"]:
        assert client.get(url).status_code == 302, url  # to the login page


@pytest.mark.django_db
def test_a_link_opens_only_its_own_booking(client, booking, organiser):
    other = BookingFactory(organiser=organiser)
    open_link(client, booking)
    assert client.get(reverse("bookings:booking_detail", args=[other.reference])).status_code == 404


@pytest.mark.django_db
def test_a_tampered_link_fails_with_a_friendly_page(client, booking):
    token = links.make_token(booking)
    response = open_link(client, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert response.status_code == 404
    assert "Email me a new link" in response.content.decode()


@pytest.mark.django_db
def test_a_link_naming_another_booking_with_this_secret_fails(client, booking, organiser):
    other = BookingFactory(organiser=organiser)
    forged = signing.dumps(
        {"r": other.reference, "s": booking.link_secret, "e": 2**40}, salt=links.SALT, compress=True
    )
    assert open_link(client, forged).status_code == 404


@pytest.mark.django_db
def test_a_link_signed_for_another_purpose_fails(client, booking):
    token = signing.dumps(
        {"r": booking.reference, "s": booking.link_secret, "e": 2**40}, salt="other", compress=True
    )
    assert open_link(client, token).status_code == 404


@pytest.mark.django_db
def test_a_link_expires_ninety_days_after_the_event_ends(client, booking):
    token = links.make_token(booking)
    with time_machine.travel(booking.event.ends_at + timedelta(days=89), tick=False):
        assert open_link(client, token).status_code == 200
    client.cookies.clear()
    with time_machine.travel(booking.event.ends_at + timedelta(days=91), tick=False):
        assert open_link(client, token).status_code == 404


@pytest.mark.django_db
def test_rotating_the_secret_revokes_old_links_and_grants(client, booking):
    token = links.make_token(booking)
    open_link(client, token)

    links.revoke_links(booking)

    assert open_link(client, token).status_code == 404
    assert client.get(reverse("bookings:booking_detail", args=[booking.reference])).status_code == 404
    assert open_link(client, booking).status_code == 200  # a fresh link works


@pytest.mark.django_db
def test_another_bookers_booking_is_not_found(client_as_booker, other_booker, organiser):
    theirs = BookingFactory(organiser=organiser, user=other_booker)
    assert (
        client_as_booker.get(reverse("bookings:booking_detail", args=[theirs.reference])).status_code == 404
    )


@pytest.mark.django_db
def test_a_bookers_own_booking_opens_when_logged_in(client_as_booker, booker, organiser):
    mine = BookingFactory(organiser=organiser, user=booker)
    assert client_as_booker.get(reverse("bookings:booking_detail", args=[mine.reference])).status_code == 200


@pytest.mark.django_db
def test_the_token_never_reaches_the_logs(client, booking, caplog):
    token = links.make_token(booking)
    with caplog.at_level(logging.DEBUG):
        client.get(reverse("bookings:booking_link", args=[token + "x"]))
        logging.getLogger("django.server").info('"GET /portal/link/%s/ HTTP/1.1" 302 0', token)

    handler_filter = logging.getLogger("django.server").handlers[0].filters[0]
    for record in caplog.records:
        handler_filter.filter(record)
        assert token not in record.getMessage()


@pytest.mark.django_db
def test_asking_for_a_new_link_answers_the_same_for_known_and_unknown_emails(client, booking, mailoutbox):
    known = client.post(
        reverse("bookings:booking_link_request"), {"email": booking.booker_email}, follow=True
    )
    unknown = client.post(
        reverse("bookings:booking_link_request"), {"email": "nobody@example.com"}, follow=True
    )

    def strip(response):
        html = (
            response.content.decode()
            .replace(booking.booker_email, "EMAIL")
            .replace("nobody@example.com", "EMAIL")
        )
        return CSRF.sub("CSRF", html)

    assert strip(known) == strip(unknown)
    assert [m.to for m in mailoutbox] == [[booking.booker_email]]
    assert reverse("bookings:booking_link", args=["x"]).rsplit("x", 1)[0] in mailoutbox[0].body


@pytest.mark.django_db
def test_asking_for_new_links_is_rate_limited(client, booking, mailoutbox):
    for _ in range(8):
        client.post(reverse("bookings:booking_link_request"), {"email": booking.booker_email})
    assert len(mailoutbox) == 5


# Revoking: a new link or a transfer rotates the booking's secret ----------------------------------


def emailed_links(message) -> list[str]:
    return re.findall(r"https?://\S+/portal/link/[^/\s]+/", message.body)


def detail(client, booking):
    return client.get(reverse("bookings:booking_detail", args=[booking.reference]))


@pytest.mark.django_db
def test_email_me_a_new_link_revokes_every_earlier_link_and_what_it_opened(booking, mailoutbox):
    old_token = links.make_token(booking)
    leaked = Client()
    assert open_link(leaked, old_token).status_code == 200

    Client().post(reverse("bookings:booking_link_request"), {"email": booking.booker_email})

    stale = open_link(Client(), old_token)
    assert stale.status_code == 404 and "This link no longer works" in stale.content.decode()
    assert detail(leaked, booking).status_code == 404  # the session the old link opened
    (fresh,) = emailed_links(mailoutbox[-1])
    assert Client().get(fresh, follow=True).status_code == 200


@pytest.fixture
def movable(organiser):
    """A paid booking whose rules allow moves, and a same-price and a dearer ticket to move to."""
    event = EventFactory(organiser=organiser, capacity=10)
    rules(event)
    booking = paid_booking(TicketTypeFactory(event=event, price=2000))
    target = EventFactory(organiser=organiser, capacity=10, starts_at=in_days(14))
    same = TicketTypeFactory(event=target, name="Same", price=2000)
    dearer = TicketTypeFactory(event=target, name="Dearer", price=3500)
    return booking, same, dearer


def post_transfer(client, booking, ticket_type):
    return client.post(
        reverse("bookings:booking_transfer", args=[booking.reference]),
        {
            "from": str(booking.event.code),
            "event": str(ticket_type.event.code),
            "ticket": ticket_type.pk,
            "idempotency_key": f"move-{ticket_type.pk}",
        },
    )


@pytest.mark.django_db
def test_a_transfer_revokes_earlier_links_and_emails_a_working_one(
    movable, django_capture_on_commit_callbacks, mailoutbox
):
    booking, same, _ = movable
    old_token = links.make_token(booking)
    leaked, mover = Client(), Client()
    open_link(leaked, old_token)
    open_link(mover, old_token)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_transfer(mover, booking, same)

    assert response.status_code == 302
    assert Transfer.objects.get().status == Transfer.Status.COMPLETED
    assert open_link(Client(), old_token).status_code == 404
    assert detail(leaked, booking).status_code == 404
    assert detail(mover, booking).status_code == 200  # who moved it keeps it
    (fresh,) = emailed_links(mailoutbox[-1])
    assert Client().get(fresh, follow=True).status_code == 200


@pytest.mark.django_db
def test_a_move_paid_at_checkout_keeps_the_payer_in_and_everyone_else_out(
    movable, django_capture_on_commit_callbacks, mailoutbox
):
    """Stripe's webhook completes the move (and rotates the secret) before or after the booker is
    sent back: the browser that paid still opens the booking, an older link's session does not."""
    booking, _, dearer = movable
    old_token = links.make_token(booking)
    leaked, payer = Client(), Client()
    open_link(leaked, old_token)
    open_link(payer, old_token)
    checkout = Checkout(paid=False, redirect_url="https://checkout.stripe.test/c/pay/cs_move")

    with mock.patch.object(OfflineGateway, "start_checkout", return_value=checkout):
        response = post_transfer(payer, booking, dearer)
    assert response["Location"] == checkout.redirect_url
    with django_capture_on_commit_callbacks(execute=True):  # the webhook
        services.transfer_complete_payment(transfer=Transfer.objects.get(), payment_reference="pi_move")

    assert detail(payer, booking).status_code == 200
    assert detail(payer, booking).status_code == 200  # and again, from the grant it renewed
    assert detail(leaked, booking).status_code == 404
    assert open_link(Client(), old_token).status_code == 404
    (fresh,) = emailed_links(mailoutbox[-1])
    assert Client().get(fresh, follow=True).status_code == 200


@pytest.mark.django_db
def test_a_move_started_but_never_paid_revokes_nothing(movable):
    booking, _, dearer = movable
    old_token = links.make_token(booking)
    checkout = Checkout(paid=False, redirect_url="https://checkout.stripe.test/c/pay/cs_move")
    with mock.patch.object(OfflineGateway, "start_checkout", return_value=checkout):
        post_transfer(open_link(Client(), old_token).client, booking, dearer)

    assert open_link(Client(), old_token).status_code == 200
