"""With Stripe keys set, a paid booking goes to Stripe Checkout. localstripe has no Checkout
Sessions, so this test stands a recording HTTP server where Stripe's API would be."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from django.urls import reverse

from bookings.models import Booking
from bookings.selectors import seats_left
from tests.factories import EventFactory, TicketTypeFactory


@pytest.fixture
def fake_stripe(settings):
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            requests.append({"path": self.path, "form": parse_qs(body), "headers": dict(self.headers)})
            payload = json.dumps(
                {
                    "id": "cs_test_123",
                    "object": "checkout.session",
                    "url": "https://checkout.stripe.com/c/pay/cs_test_123",
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.STRIPE_SECRET_KEY = "sk_test_boundary"
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{server.server_port}"
    settings.PAYMENT_GATEWAY = "stripe"
    yield requests
    server.shutdown()


@pytest.mark.django_db
def test_a_paid_booking_is_sent_to_stripe_checkout_and_holds_its_seats(
    client, organiser, fake_stripe, mailoutbox
):
    event = EventFactory(organiser=organiser, capacity=3)
    ticket = TicketTypeFactory(event=event, name="Adult", price=1500)

    response = client.post(
        reverse("event_book", args=[organiser.slug, event.code]),
        {
            f"qty_{ticket.pk}": 2,
            "attendee_0_name": "A",
            "attendee_1_name": "B",
            "booker_name": "Bea",
            "booker_email": "bea@example.com",
            "idempotency_key": "stripe-1",
        },
    )

    assert response.status_code == 302
    assert response.url == "https://checkout.stripe.com/c/pay/cs_test_123"
    (call,) = fake_stripe
    assert call["path"] == "/v1/checkout/sessions"
    assert call["form"]["mode"] == ["payment"]
    assert call["form"]["line_items[0][price_data][unit_amount]"] == ["3000"]
    assert call["form"]["line_items[0][price_data][currency]"] == ["gbp"]
    assert call["form"]["customer_email"] == ["bea@example.com"]
    booking = Booking.objects.get()
    assert call["headers"]["Idempotency-Key"] == f"booking-{booking.pk}-payment"
    assert call["form"]["metadata[booking]"] == [booking.reference]
    assert booking.status == "pending"  # confirmed when Stripe says it is paid
    assert mailoutbox == []  # no confirmation before payment
    assert seats_left(event) == 1
