"""A payment that completes after the organiser cancelled the event (the booker was still on the
payment page) goes straight back: the booking stays cancelled, the money is refunded in full
through the payment gateway, and the booker gets the event's cancellation email, once."""

from __future__ import annotations

import pytest
import stripe
from django.urls import reverse

from bookings import services
from bookings.models import Booking, BookingRules, Refund
from bookings.services import booking as booking_module
from portal import payments
from portal.payments import OfflineGateway, StripeGateway
from tests.factories import EventFactory, TicketTypeFactory
from tests.stripe_helpers import RecordingHTTPClient, event


@pytest.fixture
def ticket(organiser):
    return TicketTypeFactory(event=EventFactory(organiser=organiser), price=1500)


def book(ticket, key="late-1"):
    return services.booking_create(
        request=services.BookingRequest(
            event=ticket.event,
            booker=services.Booker(name="Lee Late", email="late@example.com"),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Lee")],
            idempotency_key=key,
        )
    )


def cancel_event(event, capture):
    with capture(execute=True):
        services.event_cancel(event=event)


def assert_refunded_once(booking, mailoutbox, gateway_reference):
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == (Booking.Status.CANCELLED, Booking.CancelledBy.ORGANISER)
    refund = booking.refunds.get()
    assert (refund.status, refund.method, refund.amount, refund.fee_kept) == (
        Refund.Status.SUCCEEDED,
        BookingRules.RefundMethod.ORIGINAL,
        booking.total,
        0,
    )
    assert refund.gateway_reference.startswith(gateway_reference)
    (email,) = mailoutbox
    assert email.to == ["late@example.com"] and email.subject.startswith("Cancelled:")
    assert "We have refunded £15.00 to your original payment" in email.body


@pytest.mark.django_db
def test_an_offline_payment_taken_after_the_event_was_cancelled_is_refunded(
    ticket, mailoutbox, django_capture_on_commit_callbacks
):
    booking = book(ticket)
    assert booking.status == Booking.Status.PENDING
    cancel_event(ticket.event, django_capture_on_commit_callbacks)
    assert mailoutbox == []  # nothing was paid yet, so nothing to say

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_start_payment(booking=booking, success_url="/ok", cancel_url="/no")

    assert booking.is_cancelled  # what the booking page's view reads next
    assert_refunded_once(booking, mailoutbox, "offline_re_")
    # The same payment reported again (a replayed webhook, a retried task) refunds nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.booking_confirm_payment(booking=booking, payment_reference="offline_pay_x") is False
    assert booking.refunds.count() == 1 and len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_gift_voucher_part_of_a_payment_taken_after_the_event_was_cancelled_goes_back_too(
    ticket, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.vouchers.factories import VoucherFactory

    voucher = VoucherFactory(organiser=ticket.event.organiser, value=1000)
    booking = services.booking_create(
        request=services.BookingRequest(
            event=ticket.event,
            booker=services.Booker(name="Lee Late", email="late@example.com"),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Lee")],
            idempotency_key="late-voucher",
            voucher_code=voucher.code,
        )
    )
    assert booking.total == 500  # the voucher paid £10, the card owes £5
    cancel_event(ticket.event, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_start_payment(booking=booking, success_url="/ok", cancel_url="/no")

    voucher.refresh_from_db()
    assert voucher.balance == 1000
    refund = booking.refunds.get()
    assert (refund.amount, refund.status) == (500, Refund.Status.SUCCEEDED)


@pytest.fixture
def stripe_api(monkeypatch):
    """The real StripeGateway and SDK, with Stripe's HTTP boundary recorded."""
    recorder = RecordingHTTPClient({"/v1/refunds": {"id": "re_late_1", "object": "refund"}})
    gateway = StripeGateway("sk_test_recorded")
    gateway.client = stripe.StripeClient("sk_test_recorded", http_client=recorder, max_network_retries=0)
    monkeypatch.setattr(payments, "_gateway", lambda *args: gateway)
    return recorder


@pytest.mark.django_db
def test_a_stripe_checkout_paid_after_the_event_was_cancelled_is_refunded_to_that_payment(
    ticket, deliver, stripe_api, mailoutbox, django_capture_on_commit_callbacks
):
    booking = book(ticket)  # the booker is on Stripe's Checkout page
    cancel_event(ticket.event, django_capture_on_commit_callbacks)
    session = {
        "id": "cs_late_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": "pi_late_1",
        "metadata": {"booking": booking.reference},
    }

    assert deliver(event("evt_late", "checkout.session.completed", session)).status_code == 200
    assert deliver(event("evt_late_again", "checkout.session.completed", session)).status_code == 200

    (call,) = [r for r in stripe_api.requests if r["path"] == "/v1/refunds"]
    assert RecordingHTTPClient.form(call["body"]) == {"payment_intent": "pi_late_1", "amount": "1500"}
    assert call["headers"]["Idempotency-Key"] == f"booking-{booking.pk}-refund-event_cancelled"
    assert_refunded_once(booking, mailoutbox, "re_late_1")


@pytest.mark.django_db
def test_the_booker_is_told_at_once_when_the_event_was_cancelled_while_they_paid(
    client, ticket, monkeypatch, django_capture_on_commit_callbacks
):
    class OrganiserCancelsMeanwhile(OfflineGateway):
        def start_checkout(self, **kwargs):
            services.event_cancel(event=ticket.event)
            return super().start_checkout(**kwargs)

    monkeypatch.setattr(booking_module, "get_gateway", OrganiserCancelsMeanwhile)
    url = reverse("event_book", args=[ticket.event.organiser.slug, ticket.event.code])
    form = {
        f"qty_{ticket.pk}": 1,
        "attendee_0_name": "Lee",
        "booker_name": "Lee Late",
        "booker_email": "late@example.com",
        "idempotency_key": "late-view",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form, follow=True)

    page = response.content.decode()
    assert "You're booked" not in page
    assert "cancelled this event while you were paying" in page
    assert Booking.objects.get(idempotency_key="late-view").refunds.get().status == Refund.Status.SUCCEEDED
