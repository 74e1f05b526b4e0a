"""No capability token reaches a log line the project's own logging writes.

A token in a URL (a View booking link, a waiting-list offer or confirmation link, allauth's
email-confirmation and password-reset keys) opens something for whoever holds it. Each is sent
through a full request with the test client; every line the configured handlers write (their
filters and formatters, as in production), plus the access line the development server writes
for that request, must be free of it. A View booking link is exchanged on its first request for a
session grant and a redirect to the token-free booking URL.
"""

from __future__ import annotations

import io
import logging
import re
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import links
from bookings.models import Refund, WaitingListEntry
from tests.factories import AttendeeFactory, EventFactory, RefundFactory, UserFactory, WaitingListEntryFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def project_log_lines():
    """Everything the handlers configured in settings.LOGGING write, as they write it."""
    written = io.StringIO()
    configured = set(settings.LOGGING["handlers"])
    handlers = {
        handler
        for name in ["", "django", "django.server", "django.request", "bookings", "portal"]
        for handler in logging.getLogger(name).handlers
        if handler.name in configured
    }
    assert handlers, "no configured handler found"
    old = {handler: handler.setStream(written) for handler in handlers}
    try:
        yield written
    finally:
        for handler, stream in old.items():
            handler.setStream(stream)


def access_line(method: str, path: str, status: int) -> None:
    """The line `manage.py runserver` logs for a request (WSGIRequestHandler.log_request)."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request, handler.requestline = None, f"{method} {path} HTTP/1.1"
    handler.log_request(status, 0)


def fetch(client: Client, method: str, path: str, **data):
    response = getattr(client, method.lower())(path, data)
    access_line(method, path, response.status_code)
    return response


def assert_not_in(token: str, text: str) -> None:
    assert text, "nothing was logged: the check would pass trivially"
    # Any 12 characters of the token's secret part are as good as a leak.
    for piece in {token, token[-40:], token[:40]}:
        assert piece not in text, f"token in the log:\n{text}"


@pytest.fixture
def booking(organiser):
    return AttendeeFactory(booking__organiser=organiser).booking


def test_a_view_booking_link_is_exchanged_once_for_a_grant_and_a_token_free_url(client, booking):
    token = links.make_token(booking)
    with project_log_lines() as log:
        opened = fetch(client, "GET", reverse("bookings:booking_link", args=[token]))
        detail = fetch(client, "GET", opened["Location"])

    assert opened.status_code == 302
    assert opened["Location"] == reverse("bookings:booking_detail", args=[booking.reference])
    assert token not in opened["Location"]
    assert "no-store" in opened["Cache-Control"] and opened["Referrer-Policy"] == "same-origin"
    assert detail.status_code == 200 and token not in detail.content.decode()
    assert_not_in(token, log.getvalue())


def test_a_broken_or_revoked_link_is_not_logged_either(client, booking):
    token = links.make_token(booking)
    links.revoke_links(booking)  # its payload still names the booking and the old secret
    with project_log_lines() as log:
        assert fetch(client, "GET", reverse("bookings:booking_link", args=[token])).status_code == 404
        fetch(client, "GET", reverse("bookings:booking_link", args=[token[:-4] + "abcd"]))

    assert "Not Found" in log.getvalue()  # Django's warning for the 404, path and all
    assert_not_in(token, log.getvalue())


def test_a_waiting_list_offer_token_is_not_logged(client, organiser):
    event = EventFactory(organiser=organiser)
    entry = WaitingListEntryFactory(event=event, organiser=organiser, status=WaitingListEntry.Status.OFFERED)
    token = links.waiting_list_offer_token(entry)
    path = reverse("event_book", args=[organiser.slug, event.code])
    with project_log_lines() as log:
        fetch(client, "GET", f"{path}?offer={token}")
        fetch(client, "GET", f"{path}?qty_1=1&offer={token}&x=1")

    assert_not_in(token, log.getvalue())


def test_a_waiting_list_confirmation_token_is_not_logged(client, organiser):
    event = EventFactory(organiser=organiser, capacity=0)
    entry = WaitingListEntryFactory(
        event=event, organiser=organiser, status=WaitingListEntry.Status.UNCONFIRMED
    )
    url = links.waiting_list_confirm_url(entry)
    path = url.removeprefix(settings.SITE_URL)
    token = path.rstrip("/").rsplit("/", 1)[1]
    with project_log_lines() as log:
        assert fetch(client, "GET", path).status_code == 200
        assert fetch(client, "POST", path).status_code == 302
        assert fetch(client, "GET", path[:-5] + "abcd/").status_code == 404

    assert_not_in(token, log.getvalue())


def test_a_refund_choice_token_is_not_logged(client, booking):
    refund = RefundFactory(booking=booking, organiser=booking.organiser, amount=1500, method="original")
    Refund.objects.filter(pk=refund.pk).update(credit_offer_until=timezone.now() + timedelta(days=7))
    path = links.refund_choice_url(refund).removeprefix(settings.SITE_URL)
    token = path.rstrip("/").rsplit("/", 1)[1]
    with project_log_lines() as log:
        assert fetch(client, "GET", path).status_code == 200
        assert fetch(client, "GET", path[:-5] + "abcd/").status_code == 404

    assert_not_in(token, log.getvalue())


def test_allauth_keys_in_urls_are_not_logged(client):
    user = UserFactory(email="kit@example.com")
    address = EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    confirm_key = EmailConfirmationHMAC(address).key
    reset_key = default_token_generator.make_token(user)
    reset_path = reverse("account_reset_password_from_key", args=[user_pk_to_url_str(user), reset_key])
    with project_log_lines() as log:
        fetch(client, "GET", reverse("account_confirm_email", args=[confirm_key]))
        fetch(client, "GET", reset_path)
        fetch(client, "GET", reverse("account_confirm_email", args=[confirm_key + "x"]))

    assert_not_in(confirm_key, log.getvalue())
    assert_not_in(reset_key, log.getvalue())


def test_the_project_runs_gunicorn_without_an_access_log():
    """gunicorn writes no access log unless asked to: asking would put every first request's
    token in it, unfiltered. Access logs belong to the https proxy (see README Security)."""
    for name in ["Dockerfile", "docker-compose.yml"]:
        text = (ROOT / name).read_text()
        assert "gunicorn" in text
        assert not re.search(r"access.?log", text, re.IGNORECASE), name
    assert not list(ROOT.glob("gunicorn*.py"))
