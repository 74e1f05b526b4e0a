"""A member's booking gets the membership's discount, shown in the order details."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings import services
from memberships.models import Membership
from tests.factories import EventFactory, TicketTypeFactory
from tests.memberships.factories import MembershipFactory


@pytest.fixture
def ticket(organiser):
    return TicketTypeFactory(event=EventFactory(organiser=organiser), name="Adult", price=1250)


def book(ticket, user, key="d1"):
    return services.booking_create(
        request=services.BookingRequest(
            event=ticket.event,
            booker=services.Booker(name="Bea", email="bea@example.com", user=user),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Bea")] * 2,
            idempotency_key=key,
        )
    )


@pytest.mark.django_db
def test_a_member_pays_the_discounted_price(ticket, booker, organiser):
    MembershipFactory(
        organiser=organiser, user=booker, plan__name="Monthly Unlimited", plan__discount_percent=15
    )

    booking = book(ticket, booker)

    assert (booking.discount, booking.total) == (375, 2125)
    assert booking.discount_reason == "Monthly Unlimited member discount (15%)"


@pytest.mark.django_db
def test_the_discount_shows_in_the_order_details(client_as_booker, ticket, booker, organiser):
    MembershipFactory(organiser=organiser, user=booker, plan__discount_percent=10)
    booking = book(ticket, booker)

    html = client_as_booker.get(reverse("bookings:booking_detail", args=[booking.reference])).content.decode()

    assert "member discount (10%)" in html and "-£2.50" in html and "£22.50" in html


@pytest.mark.django_db
def test_no_discount_without_a_live_membership_or_at_another_organiser(
    ticket, booker, organiser, other_organiser
):
    MembershipFactory(
        organiser=organiser, user=booker, status=Membership.Status.CANCELED, plan__discount_percent=50
    )
    MembershipFactory(organiser=other_organiser, user=booker, plan__discount_percent=50)

    assert book(ticket, booker).discount == 0
    assert book(ticket, None, key="d2").discount == 0
