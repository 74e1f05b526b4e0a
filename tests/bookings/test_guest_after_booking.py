"""A guest who has just booked is told what they are looking at and offered an account."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from bookings.links import view_booking_url
from bookings.models import Booking
from tests.bookings.test_public_booking import book_url, details
from tests.factories import EventFactory, TicketTypeFactory


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser, title="Morning Flow", capacity=5)
    TicketTypeFactory(event=event, name="Adult", price=1200)
    return event


def book_as_guest(client, event):
    response = client.post(
        book_url(event), details(event, quantities={"Adult": 1}, attendees=[("Bea", False)]), follow=True
    )
    return response.content.decode()


@pytest.mark.django_db
def test_after_booking_as_a_guest_the_page_says_so_and_offers_an_account(client, event):
    page = book_as_guest(client, event)

    assert "You opened this booking from a link" not in page
    assert "You booked as a guest" in page
    assert "Create an account" in page and "bea@example.com" in page


@pytest.mark.django_db
def test_create_an_account_emails_the_booker_a_link_to_set_a_password(
    client,
    event,
    mailoutbox,
):
    book_as_guest(client, event)
    sent = len(mailoutbox)

    response = client.post(reverse("account_reset_password"), {"email": Booking.objects.get().booker_email})

    assert response.status_code == 302
    (message,) = mailoutbox[sent:]
    assert message.to == ["bea@example.com"]
    assert "set a password" in message.body.lower()


@pytest.mark.django_db
def test_someone_who_opened_the_emailed_link_is_told_that_instead(client, event):
    book_as_guest(client, event)
    link = view_booking_url(Booking.objects.get())

    page = Client().get(link, follow=True).content.decode()

    assert "You opened this booking from its link" in page
    assert "Create an account" in page
