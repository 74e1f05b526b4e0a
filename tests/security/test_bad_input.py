"""Bad input is a 400 or a 404, never a 500. A NUL byte is the classic: Postgres text cannot hold
one, so psycopg refuses the query and the page failed. Every request with a NUL in its path, its
query string or its form data is answered 400 before any view or session lookup sees it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import Booking
from tests.factories import EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

NUL_URLS = [
    "/portal/bookings/%00/",
    "/portal/events/?organiser=%00",
    "/portal/events/?tab=%00",
    "/portal/passes/?organiser=%00",
    "/portal/vouchers/?organiser=%00",
    "/portal/memberships/?organiser=%00",
    "/portal/link/%00/",
    "/riverside/%00/",
    "/%00/",
    "/riverside/?%00=1",
    "/accounts/login/?next=%00",
]


@pytest.fixture
def client_anywhere(client_as_booker, organiser):
    client_as_booker.raise_request_exception = False  # a 500 shows up as a status, not a traceback
    return client_as_booker


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_byte_in_the_path_or_query_is_a_bad_request(client_anywhere, url):
    assert client_anywhere.get(url).status_code == 400


def test_a_nul_byte_in_form_data_is_a_bad_request_and_books_nothing(client_anywhere, organiser):
    event = EventFactory(organiser=organiser)
    ticket = TicketTypeFactory(event=event, price=0)

    response = client_anywhere.post(
        reverse("event_book", args=[organiser.slug, event.code]),
        {
            f"qty_{ticket.pk}": 1,
            "attendee_0_name": "Nul\x00",
            "booker_name": "Nul",
            "booker_email": "nul@example.com",
            "idempotency_key": "nul-1",
        },
    )

    assert response.status_code == 400
    assert not Booking.objects.exists()


def test_a_nul_byte_in_a_login_is_a_bad_request(client):
    client.raise_request_exception = False
    response = client.post(reverse("account_login"), {"login": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400


def test_the_stripe_webhook_still_reads_its_own_body(deliver):
    # The check reads form data only; a JSON body (Stripe's) stays for the view to read.
    from tests.stripe_helpers import event

    assert (
        deliver(event("evt_ok", "customer.updated", {"id": "cus_1", "object": "customer"})).status_code == 200
    )
