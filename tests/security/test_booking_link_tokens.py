"""A View booking link's token never reaches a log, whichever way the request goes.

(Tampered, foreign, expired, rotated and wrong-salt tokens, and "never logs anyone in", are
tested in tests/bookings/test_booking_links.py.) Here: the configured handlers' output, as it
would land in a log file, across real requests through the link view."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from bookings import links
from tests.factories import AttendeeFactory


def configured_stream_handlers() -> list[logging.StreamHandler]:
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    found = []
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and handler not in found:  # not pytest's
                found.append(handler)
    return found


@pytest.fixture
def log_output():
    """Everything our LOGGING handlers write, at DEBUG, into one buffer."""
    buffer = io.StringIO()
    handlers = configured_stream_handlers()
    assert handlers, "LOGGING configures no stream handlers: this test would see nothing"
    old_streams = [handler.setStream(buffer) for handler in handlers]
    names = ["", "django", "django.request", "django.server", "bookings", "portal", "celery"]
    old_levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield buffer
    for handler, stream in zip(handlers, old_streams, strict=True):
        handler.setStream(stream)
    for name, level in old_levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def booking(organiser):
    return AttendeeFactory(booking__organiser=organiser).booking


@pytest.mark.django_db
def test_no_log_line_carries_the_token_of_a_good_bad_or_expired_link(client, booking, log_output, caplog):
    token = links.make_token(booking)
    url = reverse("bookings:booking_link", args=[token])

    with caplog.at_level(logging.DEBUG):
        assert client.get(url).status_code == 302
        assert client.get(url[:-3] + "Zz/").status_code == 404  # tampered: "Not Found: <path>"
        with time_machine.travel(booking.event.ends_at + timedelta(days=91), tick=False):
            assert client.get(url).status_code == 404  # expired
        # What runserver's request handler logs for each request (django.core.servers.basehttp).
        logging.getLogger("django.server").info('"%s" %s %s', f"GET {url} HTTP/1.1", "302", "0")

    written = log_output.getvalue()
    assert "Not Found: /portal/link/[redacted]" in written  # the 404s were logged, redacted
    assert '"GET /portal/link/[redacted]/ HTTP/1.1" 302' in written
    assert token not in written and token[:20] not in written
    for record in caplog.records:
        assert token[:20] not in record.getMessage(), record.name


@pytest.mark.django_db
def test_a_traceback_quoting_the_link_is_redacted_too(booking, log_output):
    token = links.make_token(booking)
    try:
        raise RuntimeError(f"while handling <WSGIRequest: GET '/portal/link/{token}/'>")
    except RuntimeError:
        logging.getLogger("django.request").exception("Internal Server Error: /portal/link/%s/", token)

    written = log_output.getvalue()
    assert "RuntimeError: while handling <WSGIRequest: GET '/portal/link/[redacted]/'>" in written
    assert token[:20] not in written
