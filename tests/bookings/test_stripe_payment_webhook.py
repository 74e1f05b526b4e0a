"""Stripe's webhook confirms a booking paid through Checkout, or releases its seats."""

from __future__ import annotations

import pytest

from bookings import services as booking_services
from bookings.models import Booking
from bookings.selectors import seats_left
from tests.factories import AttendeeFactory, EventFactory, TicketTypeFactory
from tests.stripe_helpers import event
from tests.vouchers.factories import VoucherFactory
from vouchers.models import Voucher


@pytest.fixture
def pending(organiser):
    return AttendeeFactory(
        booking__organiser=organiser, booking__status="pending", booking__total=1000
    ).booking


def session(booking, **extra):
    return {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": "pi_test_1",
        "metadata": {"booking": booking.reference},
        **extra,
    }


@pytest.mark.django_db
def test_a_paid_checkout_confirms_the_booking_and_sends_one_confirmation(deliver, pending, mailoutbox):
    payload = event("evt_paid", "checkout.session.completed", session(pending))

    assert deliver(payload).status_code == 200
    assert deliver(payload).status_code == 200  # Stripe retries; nothing happens twice

    pending.refresh_from_db()
    assert (pending.status, pending.payment_reference) == ("confirmed", "pi_test_1")
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_an_expired_checkout_releases_the_seats(deliver, pending):
    before = seats_left(pending.event)

    deliver(event("evt_expired", "checkout.session.expired", session(pending, payment_status="unpaid")))

    pending.refresh_from_db()
    assert pending.status == Booking.Status.CANCELLED
    assert seats_left(pending.event) == before + 1


@pytest.mark.django_db
def test_an_unpaid_completed_checkout_confirms_nothing(deliver, pending, mailoutbox):
    deliver(event("evt_unpaid", "checkout.session.completed", session(pending, payment_status="unpaid")))
    pending.refresh_from_db()
    assert pending.status == "pending" and mailoutbox == []


@pytest.mark.django_db
def test_an_expired_checkout_of_a_booking_part_paid_by_voucher_gives_the_voucher_back_once(
    deliver, organiser
):
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=1999)
    voucher = VoucherFactory(organiser=organiser, value=1000)
    booking = booking_services.booking_create(
        request=booking_services.BookingRequest(
            event=ticket.event,
            booker=booking_services.Booker(name="Bea Booker", email="bea@example.com"),
            tickets=[booking_services.TicketRequest(ticket_type=ticket, attendee_name="Bea")],
            idempotency_key="k",
            voucher_code=voucher.code,
        )
    )
    assert Voucher.objects.get(pk=voucher.pk).balance == 0  # spent, the card to pay the rest
    expired = event("evt_expired", "checkout.session.expired", session(booking, payment_status="unpaid"))

    deliver(expired)
    deliver(event("evt_expired_again", "checkout.session.expired", session(booking, payment_status="unpaid")))

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert Voucher.objects.get(pk=voucher.pk).balance == 1000
