"""The embedded demo runs on SQLite, and runserver answers requests in threads. Two requests that
read and then write must queue for the database, not fail with "database is locked": SQLite gives
an immediate SQLITE_BUSY to a transaction that read and then wants to write while another did the
same, whatever the timeout. Transactions therefore start IMMEDIATE (they take the write lock at
BEGIN) and wait up to 20 s for it.

The bookers run in a subprocess with their own SQLite file: the test process's database (Postgres
in CI) and its settings stay as they are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BOOKERS = """
import json, os, sys, threading

import django

django.setup()
from django.core.management import call_command
from django.db import connection

call_command("migrate", verbosity=0)
from bookings import services
from tests.factories import EventFactory, OrganiserFactory, TicketTypeFactory

ticket = TicketTypeFactory(event=EventFactory(organiser=OrganiserFactory(), capacity=100), price=0)
barrier, errors, booked = threading.Barrier(8), [], []


def book(n):
    barrier.wait()
    try:
        for i in range(5):
            booked.append(
                services.booking_create(
                    request=services.BookingRequest(
                        event=ticket.event,
                        booker=services.Booker(name=f"Booker {n}", email=f"booker{n}@example.com"),
                        tickets=[services.TicketRequest(ticket_type=ticket, attendee_name=f"Guest {n}.{i}")],
                        idempotency_key=f"k-{n}-{i}",
                    )
                ).pk
            )
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


threads = [threading.Thread(target=book, args=(n,)) for n in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"booked": len(set(booked)), "errors": errors}))
"""


@pytest.mark.race(max_repeat=1)  # eight threads, forty bookings, one SQLite file: slow to repeat
def test_concurrent_demo_bookings_on_sqlite_wait_for_each_other_instead_of_failing(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_TESTING": "true",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }

    result = subprocess.run(
        [sys.executable, "-c", BOOKERS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"booked": 40, "errors": []}
