"""A confirmation email goes out exactly once even when a real Celery worker is killed while it
is talking to the mail server, and when two workers take the same task at the same moment.

The worker holds a Postgres advisory lock in the transaction that checks, sends and stamps
(`portal.emails.send_once`); Celery acks late, so Redis hands an unacked task out again after the
visibility timeout; the redelivered task finds the email unsent (the killed worker's transaction
was rolled back, and its lock with it) and sends it. `.ci/pgbouncer-tests` runs these again
through PgBouncer in transaction mode."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from bookings import services
from bookings.models import Booking
from bookings.tasks import booking_send_confirmation
from portal.celery import app as celery_app
from tests.factories import BookingFactory, EventFactory, TicketTypeFactory
from tests.smtp import RecordingSMTP, StallingSMTP
from tests.worker.conftest import ROOT, _wait_for_ready

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp_servers():
    servers = []

    def start(kind, **kwargs):
        server = kind(**kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- Real workers ------------------------------------------------------------------------------


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    pidfile: Path
    logfile: Path
    mail_dir: Path
    log: object = field(repr=False)

    @property
    def pid(self) -> int:
        return int(self.pidfile.read_text())

    def kill(self):
        """SIGKILL: no warm shutdown, no ack, no goodbye to Postgres or Redis."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Starts real workers on the test database and Redis; every one is stopped afterwards (by its
    pidfile, then by its process), however the test ends."""
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}"
    workers: list[Worker] = []

    def start(name: str, *, smtp_port: int | None = None, visibility_timeout: int | None = None) -> Worker:
        folder = tmp_path / name
        folder.mkdir()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_RESULT_BACKEND": settings.REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_FILE_PATH": str(folder / "mail"),
            "PORTAL_TESTING": "false",
            # One task at a time, so that two workers started together each take one of two tasks.
            "CELERY_WORKER_PREFETCH_MULTIPLIER": "1",
        }
        env.pop("EMAIL_HOST", None)
        if smtp_port is not None:
            env |= {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port), "EMAIL_USE_TLS": "false"}
        if visibility_timeout is not None:
            env["CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        log = open(folder / "worker.log", "w")
        worker = Worker(
            name=name,
            process=subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "--pool=solo",
                    "--loglevel=info",
                    f"--hostname={name}@%h",
                    f"--pidfile={folder / 'worker.pid'}",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            ),
            pidfile=folder / "worker.pid",
            logfile=folder / "worker.log",
            mail_dir=folder / "mail",
            log=log,
        )
        workers.append(worker)
        _wait_for_ready(worker.logfile, worker.process)
        return worker

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = previous
        for worker in workers:
            if worker.process.poll() is None:
                try:
                    os.kill(worker.pid if worker.pidfile.exists() else worker.process.pid, signal.SIGTERM)
                    worker.process.wait(timeout=20)
                except (ProcessLookupError, ValueError, subprocess.TimeoutExpired):
                    worker.process.kill()
                    worker.process.wait(timeout=10)
            worker.log.close()


def lock_is_free(booking_id: int) -> bool:
    """Whether no worker holds send_once's lock for this booking's confirmation (taken and given
    back at once if free: a transaction's lock, so that it works through PgBouncer too)."""
    name = f"bookings.booking.confirmation_sent_at.{booking_id}"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [name])
        return cursor.fetchone()[0]


def wait_until(condition, timeout: float, what: str, *logs: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} within {timeout}s\n" + "\n".join(f"--- {p}\n{p.read_text()}" for p in logs))


def emails_to(folder: Path, address: str) -> list[email.message.Message]:
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    messages = [email.message_from_bytes(f.read_bytes()) for f in files]
    return [m for m in messages if m["To"] == address]


# --- Tests -------------------------------------------------------------------------------------


def test_a_worker_killed_while_sending_the_confirmation_leaves_exactly_one_email(
    start_worker, smtp_servers, organiser
):
    stalling = smtp_servers(StallingSMTP)
    first = start_worker("first", smtp_port=stalling.port)
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=0)

    booking = services.booking_create(
        request=services.BookingRequest(
            event=ticket.event,
            booker=services.Booker(name="Kim Killed", email="kim@example.com"),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Kim")],
            idempotency_key="killed-1",
        )
    )  # on commit, the confirmation task goes to Redis

    # The first worker took the task, holds the send lock and is waiting for the mail server.
    assert stalling.connected.wait(15), first.logfile.read_text()
    delivered_at = time.monotonic()
    assert not lock_is_free(booking.pk)
    first.kill()

    # Its connection closed with it, and the lock went too.
    wait_until(lambda: lock_is_free(booking.pk), 10, "the killed worker's lock was not released")
    assert Booking.objects.get(pk=booking.pk).confirmation_sent_at is None

    # A new worker with a short visibility timeout restores the unacked task at start-up (the
    # message must be older than the timeout by then) and sends the email.
    time.sleep(max(0.0, delivered_at + 3.5 - time.monotonic()))
    second = start_worker("second", visibility_timeout=3)
    wait_until(
        lambda: Booking.objects.get(pk=booking.pk).confirmation_sent_at is not None,
        30,
        "the redelivered task did not send the confirmation",
        second.logfile,
    )
    time.sleep(1)  # anything sent twice would show up by now
    (sent,) = emails_to(second.mail_dir, "kim@example.com")
    text = next(part for part in sent.walk() if part.get_content_type() == "text/plain")
    assert "Kim" in text.get_payload(decode=True).decode()
    assert not emails_to(first.mail_dir, "kim@example.com")


def test_two_workers_given_the_same_confirmation_task_at_once_send_one_email(
    start_worker, smtp_servers, organiser
):
    slow = smtp_servers(RecordingSMTP, delay=1.0)
    workers = [start_worker(name, smtp_port=slow.port) for name in ("left", "right")]
    booking = BookingFactory(
        organiser=organiser, status=Booking.Status.CONFIRMED, booker_email="twice@example.com"
    )
    client = celery_app.__class__("race-client", broker=settings.REDIS_URL, backend=settings.REDIS_URL)
    try:
        results = [client.send_task(booking_send_confirmation.name, args=[booking.pk]) for _ in range(2)]
        # One sends (True); the other either found it sent (False) or found the lock held and
        # was rescheduled (RETRY, SendInProgress), to find it sent later.
        wait_until(
            lambda: all(r.state in {"SUCCESS", "RETRY"} for r in results),
            30,
            "the two tasks did not finish",
            *(w.logfile for w in workers),
        )
        outcomes = sorted(str(r.result) if r.state == "SUCCESS" else "retry" for r in results)
        assert outcomes in (["False", "True"], ["True", "retry"]), outcomes
    finally:
        client.close()

    assert [m["To"] for m in slow.messages] == ["twice@example.com"]
    assert Booking.objects.get(pk=booking.pk).confirmation_sent_at is not None
    # Both workers really took a task (one each: prefetch 1, acked late).
    assert all("booking_send_confirmation" in w.logfile.read_text() for w in workers)
