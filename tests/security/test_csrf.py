"""Every view rejects a POST without a CSRF token; the exemptions are the Stripe webhook (signed by
Stripe) and a reminder's one-click unsubscribe (RFC 8058: the mail program posts it, with no
session; its address carries a signed token). Generated from the URLconf, so a new view is checked the day it lands."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.urlconf import all_routes

# Route name -> why it may take a POST without a CSRF token.
CSRF_EXEMPT = {
    "stripe_webhook": "Stripe calls it server to server; the Stripe-Signature header is checked",
    "calendars:reminders_unsubscribe": "RFC 8058 one-click: the mail program posts; the token is signed",
}


@pytest.fixture
def booker_without_csrf_token(booker):
    client = Client(enforce_csrf_checks=True)
    client.force_login(booker)
    return client


@pytest.mark.django_db
def test_every_view_but_the_stripe_webhook_rejects_a_post_without_a_csrf_token(booker_without_csrf_token):
    accepted = []
    for route in all_routes():
        if route.name in CSRF_EXEMPT:
            continue
        url = route.sample_url()
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = booker_without_csrf_token.post(url, {"email": "booker@example.com"}, **headers)
            if response.status_code != 403:
                accepted.append(f"{route.name} {url} -> {response.status_code}")
    assert not accepted, "POST without a CSRF token was not refused: " + "; ".join(accepted)


@pytest.mark.django_db
def test_the_csrf_refusal_is_not_a_missing_view(booker_without_csrf_token, booker):
    # The control: the same POST with the session's token gets past CSRF to the view.
    booker_without_csrf_token.get("/portal/link/new/")
    token = booker_without_csrf_token.cookies["csrftoken"].value
    response = booker_without_csrf_token.post(
        "/portal/link/new/", {"email": booker.email, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_exemptions_are_still_exempt(booker_without_csrf_token):
    routes = {route.name: route for route in all_routes()}
    for name in CSRF_EXEMPT:
        assert name in routes, f"CSRF_EXEMPT names {name}, which is no longer a route"
        response = booker_without_csrf_token.post(
            routes[name].sample_url(), b"{}", content_type="application/json"
        )
        assert response.status_code != 403, name
