"""Amounts are bounded so that every sum fits its column and every charge fits Stripe: a ticket
costs at most MAX_AMOUNT (Stripe's eight digits of minor units), and so does a booking. A price
past the limit is a form error in the admin; a booking or move that would cost more is refused
with a message, never a database error."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from bookings import selectors, services
from bookings.exceptions import BookingError
from bookings.models import Booking
from portal.money import MAX_AMOUNT
from tests.factories import EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

INT_MAX = 2**31 - 1  # Postgres's integer column


def test_a_ticket_price_past_the_limit_is_refused(organiser):
    ticket = TicketTypeFactory.build(event=EventFactory(organiser=organiser), price=MAX_AMOUNT + 1)
    with pytest.raises(ValidationError) as refused:
        ticket.full_clean()
    assert "price" in refused.value.message_dict

    ticket.price = MAX_AMOUNT
    ticket.full_clean()


def test_booking_two_of_the_dearest_possible_ticket_is_a_form_error_not_a_500(client, organiser):
    event = EventFactory(organiser=organiser)
    ticket = TicketTypeFactory(event=event, price=INT_MAX)  # saved before the limit existed
    client.raise_request_exception = False

    response = client.post(
        reverse("event_book", args=[organiser.slug, event.code]),
        {
            f"qty_{ticket.pk}": 2,
            "attendee_0_name": "Rich",
            "attendee_1_name": "Richer",
            "booker_name": "Rich",
            "booker_email": "rich@example.com",
            "idempotency_key": "rich-1",
        },
    )

    assert response.status_code == 200
    assert "more than we can take in one payment" in response.content.decode()
    assert not Booking.objects.exists()


def test_a_booking_over_the_limit_is_refused_by_the_service(organiser):
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=MAX_AMOUNT // 2 + 1)

    with pytest.raises(BookingError):
        services.booking_create(
            request=services.BookingRequest(
                event=ticket.event,
                booker=services.Booker(name="Rich", email="rich@example.com"),
                tickets=[services.TicketRequest(ticket_type=ticket, attendee_name=n) for n in ("A", "B")],
                idempotency_key="rich-2",
            )
        )


def test_a_move_that_would_cost_more_than_the_limit_is_refused_with_a_reason(organiser):
    from tests.helpers import paid_booking, rules

    source = EventFactory(organiser=organiser)
    rules(source)
    booking = paid_booking(TicketTypeFactory(event=source, price=1000), seats=2)
    dearest = TicketTypeFactory(event=EventFactory(organiser=organiser), price=INT_MAX)

    with pytest.raises(BookingError) as refused:
        selectors.transfer_quote(booking=booking, ticket_type=dearest)
    assert "more than we can take in one payment" in str(refused.value.message)
