"""When the organiser cancels an event: the bookers' money goes back to how they paid (credit only if
they choose it), and the organiser's message reaches them."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from bookings import services
from bookings.exceptions import OrganiserError
from bookings.models import AccountCredit, BookingRules, Refund
from bookings.tasks import refunds_pay_after_credit_offer
from portal.payments import OfflineGateway
from tests.factories import AttendeeFactory, BookingFactory, BookingRulesFactory, EventFactory


@pytest.fixture
def card_refunds():
    with mock.patch.object(OfflineGateway, "refund", autospec=True, return_value="re_1") as refund:
        yield refund


def paid_booking(event, **kwargs):
    booking = BookingFactory(event=event, total=1500, payment_reference="pay_123", **kwargs)
    AttendeeFactory(booking=booking)
    return booking


def rules(organiser, method):
    BookingRulesFactory(organiser=organiser, event=None, refund_method=method)


def cancel(event, django_capture_on_commit_callbacks, **options):
    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=event, **options)


def credit_link(message) -> str:
    return re.search(r"https?://\S+(/portal/refunds/\S+/)", message.body).group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["original", "credit", "none"])
def test_whatever_the_rules_say_an_organiser_cancellation_never_gives_credit_by_default(
    organiser, card_refunds, mailoutbox, django_capture_on_commit_callbacks, method
):
    rules(organiser, method)
    event = EventFactory(organiser=organiser)
    booking = paid_booking(event)

    cancel(event, django_capture_on_commit_callbacks)

    refund = booking.refunds.get()
    assert (refund.method, refund.amount, refund.fee_kept) == ("original", 1500, 0)
    assert not AccountCredit.objects.exists()
    assert "does not give refunds" not in mailoutbox[0].body


@pytest.mark.django_db
def test_without_an_offer_of_credit_the_card_is_refunded_at_once(
    organiser, card_refunds, mailoutbox, django_capture_on_commit_callbacks
):
    rules(organiser, BookingRules.RefundMethod.ORIGINAL)
    event = EventFactory(organiser=organiser)
    booking = paid_booking(event)

    cancel(event, django_capture_on_commit_callbacks)

    assert booking.refunds.get().status == Refund.Status.SUCCEEDED
    assert card_refunds.call_count == 1
    assert "/portal/refunds/" not in mailoutbox[0].body


@pytest.mark.django_db
def test_an_organiser_who_prefers_credit_may_offer_it_and_the_card_is_refunded_when_nobody_chooses(
    organiser, card_refunds, mailoutbox, django_capture_on_commit_callbacks
):
    rules(organiser, BookingRules.RefundMethod.CREDIT)
    event = EventFactory(organiser=organiser)
    booking = paid_booking(event)

    cancel(event, django_capture_on_commit_callbacks)

    refund = booking.refunds.get()
    assert refund.status == Refund.Status.PENDING and refund.credit_offer_until is not None
    assert not card_refunds.called
    (message,) = mailoutbox
    assert "refund £15.00 to your original payment" in message.body
    assert "/portal/refunds/" in message.body  # the one-click choice of credit

    assert refunds_pay_after_credit_offer() == 0  # the choice is still open
    with time_machine.travel(refund.credit_offer_until + timedelta(minutes=1)):
        assert refunds_pay_after_credit_offer() == 1
    refund.refresh_from_db()
    assert (refund.method, refund.status) == ("original", Refund.Status.SUCCEEDED)
    assert card_refunds.call_count == 1
    assert not AccountCredit.objects.exists()


@pytest.mark.django_db
def test_the_booker_takes_credit_with_one_click_from_the_email(
    organiser, card_refunds, mailoutbox, django_capture_on_commit_callbacks
):
    rules(organiser, BookingRules.RefundMethod.CREDIT)
    event = EventFactory(organiser=organiser)
    booking = paid_booking(event)
    cancel(event, django_capture_on_commit_callbacks)
    link = credit_link(mailoutbox[0])
    browser = Client()

    page = browser.get(link)
    assert page.status_code == 200 and "£15.00" in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(link, {"choice": "credit"})

    assert response.status_code == 302
    refund = booking.refunds.get()
    assert (refund.method, refund.status) == ("credit", Refund.Status.SUCCEEDED)
    assert AccountCredit.objects.get().amount == 1500
    assert not card_refunds.called
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(link, {"choice": "card"})  # too late to change: nothing happens
    assert not card_refunds.called
    assert refunds_pay_after_credit_offer() == 0


@pytest.mark.django_db
def test_the_booker_can_ask_for_the_card_refund_at_once(
    organiser, card_refunds, mailoutbox, django_capture_on_commit_callbacks
):
    rules(organiser, BookingRules.RefundMethod.CREDIT)
    event = EventFactory(organiser=organiser)
    booking = paid_booking(event)
    cancel(event, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        Client().post(credit_link(mailoutbox[0]), {"choice": "card"})

    assert booking.refunds.get().status == Refund.Status.SUCCEEDED
    assert card_refunds.call_count == 1
    assert not AccountCredit.objects.exists()


@pytest.mark.django_db
def test_a_tampered_or_closed_credit_link_changes_nothing(
    organiser, card_refunds, mailoutbox, django_capture_on_commit_callbacks
):
    rules(organiser, BookingRules.RefundMethod.CREDIT)
    event = EventFactory(organiser=organiser)
    booking = paid_booking(event)
    cancel(event, django_capture_on_commit_callbacks)
    link = credit_link(mailoutbox[0])

    assert Client().post(link[:-3] + "xx/", {"choice": "credit"}).status_code == 404
    refund = booking.refunds.get()
    with time_machine.travel(refund.credit_offer_until + timedelta(minutes=1)):
        response = Client().post(link, {"choice": "credit"})
    assert response.status_code in (200, 410)
    assert not AccountCredit.objects.exists()


@pytest.mark.django_db
def test_the_organisers_message_and_another_date_reach_every_booker(
    organiser, card_refunds, mailoutbox, django_capture_on_commit_callbacks
):
    rules(organiser, BookingRules.RefundMethod.ORIGINAL)
    event = EventFactory(organiser=organiser)
    booking = paid_booking(event, user=None)

    cancel(
        event,
        django_capture_on_commit_callbacks,
        message="Our teacher is ill & we're so sorry.",
        offer_rebooking=True,
    )

    (email,) = mailoutbox
    assert "Our teacher is ill & we're so sorry." in email.body
    assert "Our teacher is ill &amp; we&#x27;re so sorry." in email.alternatives[0][0]
    assert reverse("organiser_page", args=[organiser.slug]) in email.body
    booking.refresh_from_db()
    assert booking.event.cancellation_message == "Our teacher is ill & we're so sorry."


@pytest.mark.django_db
def test_the_message_shows_on_the_booking_in_the_cancelled_tab(
    client_as_booker, booker, organiser, card_refunds, django_capture_on_commit_callbacks
):
    rules(organiser, BookingRules.RefundMethod.ORIGINAL)
    event = EventFactory(organiser=organiser)
    booking = paid_booking(event, user=booker)
    cancel(
        event, django_capture_on_commit_callbacks, message="Sorry: the studio flooded.", offer_rebooking=True
    )

    tab = client_as_booker.get(reverse("bookings:event_list"), {"tab": "cancelled"}).content.decode()
    detail = client_as_booker.get(
        reverse("bookings:booking_detail", args=[booking.reference])
    ).content.decode()

    for page in (tab, detail):
        assert "Sorry: the studio flooded." in page
        assert reverse("organiser_page", args=[organiser.slug]) in page


@pytest.mark.django_db
def test_a_guests_cancellation_email_opens_their_booking_not_a_page_they_cannot_open(
    organiser, card_refunds, mailoutbox, django_capture_on_commit_callbacks
):
    rules(organiser, BookingRules.RefundMethod.ORIGINAL)
    event = EventFactory(organiser=organiser)
    paid_booking(event, user=None)

    cancel(event, django_capture_on_commit_callbacks)

    body = mailoutbox[0].body
    assert "tab=cancelled" not in body
    assert "/portal/link/" in body


@pytest.mark.django_db
def test_a_message_too_long_is_refused(organiser):
    event = EventFactory(organiser=organiser)

    with pytest.raises(OrganiserError):
        services.event_cancel(event=event, message="x" * 1001)

    event.refresh_from_db()
    assert not event.is_cancelled


@pytest.mark.django_db
def test_the_admin_asks_for_the_message_and_sends_it(
    client_as_staff, organiser, card_refunds, mailoutbox, django_capture_on_commit_callbacks
):
    rules(organiser, BookingRules.RefundMethod.ORIGINAL)
    event = EventFactory(organiser=organiser)
    paid_booking(event)
    url = reverse("admin:bookings_event_cancel", args=[event.pk])

    form = client_as_staff.get(url).content.decode()
    assert 'name="message"' in form and 'maxlength="1000"' in form and 'name="offer_rebooking"' in form
    with django_capture_on_commit_callbacks(execute=True):
        client_as_staff.post(
            url, {"confirm": "yes", "message": "See you next week!", "offer_rebooking": "on"}
        )

    assert "See you next week!" in mailoutbox[0].body
    event.refresh_from_db()
    assert event.is_cancelled and event.cancellation_offers_rebooking


@pytest.mark.django_db
def test_the_admin_event_list_shows_places_taken_of_capacity_and_who_waits(client_as_staff, organiser):
    event = EventFactory(organiser=organiser, capacity=20)
    for _ in range(3):
        paid_booking(event)

    html = client_as_staff.get(reverse("admin:bookings_event_changelist")).content.decode()

    assert "3 / 20" in html
