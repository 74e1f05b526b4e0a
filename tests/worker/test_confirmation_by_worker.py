"""The confirmation email, sent by a real Celery worker from Redis."""

from __future__ import annotations

import email
import os
import re
import time

import pytest
from django.db import connection
from django.test import Client

from bookings import services
from bookings.models import Booking
from bookings.tasks import booking_send_confirmation
from tests.factories import EventFactory, TicketTypeFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_for_files(folder, count, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.eml")) if folder.exists() else []
        if len(files) >= count:
            return files
        time.sleep(0.2)
    pytest.fail(f"expected {count} email(s) in {folder}")


def test_a_worker_sends_one_confirmation_with_a_working_link(celery_worker_process, celery_client, organiser):
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=0)

    booking = services.booking_create(
        request=services.BookingRequest(
            event=ticket.event,
            booker=services.Booker(name="Wendy Worker", email="wendy@example.com"),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Wendy")],
            idempotency_key="w1",
        )
    )  # commits, and on commit the task goes to Redis

    (sent,) = wait_for_files(celery_worker_process, 1)
    message = email.message_from_bytes(sent.read_bytes())
    assert message["To"] == "wendy@example.com"
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    url = re.search(r"View booking: (\S+)", text.get_payload(decode=True).decode()).group(1)
    page = Client().get(url, follow=True)
    assert page.status_code == 200 and "Wendy" in page.content.decode()

    # At-least-once delivery: the same task again must not send a second email.
    duplicate = celery_client.send_task(booking_send_confirmation.name, args=[booking.pk])
    assert duplicate.get(timeout=30) is False
    assert len(list(celery_worker_process.glob("*.eml"))) == 1
    assert Booking.objects.get(pk=booking.pk).confirmation_sent_at is not None


def _worker_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def _book_and_wait_until_sent(ticket, n: int, folder) -> None:
    booking = services.booking_create(
        request=services.BookingRequest(
            event=ticket.event,
            booker=services.Booker(name=f"Booker {n}", email=f"booker-{n}@example.com"),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name=f"Booker {n}")],
            idempotency_key=f"keep-{n}",
        )
    )
    wait_for_files(folder, n)
    deadline = time.monotonic() + 10
    while Booking.objects.get(pk=booking.pk).confirmation_sent_at is None:
        assert time.monotonic() < deadline, "the worker never marked the email sent"
        time.sleep(0.05)


@pytest.mark.skipif(
    os.environ.get("BEHIND_PGBOUNCER") == "true",
    reason="behind PgBouncer the Postgres backends are its pool's, shared by every client",
)
def test_a_worker_keeps_its_database_connection_from_one_task_to_the_next(celery_worker_process, organiser):
    """Celery's Django fixup would close it around every task: a new Postgres backend per email
    costs more than the email itself."""
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=0)

    # A connection left by an earlier test's worker (still closing on a busy machine) is not ours.
    others = _worker_backends()
    _book_and_wait_until_sent(ticket, 1, celery_worker_process)
    after_first = _worker_backends() - others
    for n in (2, 3):
        _book_and_wait_until_sent(ticket, n, celery_worker_process)

    assert len(after_first) == 1
    assert _worker_backends() - others == after_first
