"""`send_once`'s lock belongs to the transaction that checks, sends and stamps, so it works behind
PgBouncer in transaction mode (where statements outside a transaction may each run on another
server connection) and it goes when that transaction ends, however it ends."""

from __future__ import annotations

import os

import psycopg
import pytest
from django.db import connection

from bookings.models import Booking
from portal.emails import SendInProgress, send_once
from tests.factories import BookingFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LOCK = "bookings.booking.confirmation_sent_at.{}"


def other_client(**options) -> psycopg.Connection:
    """Another client of the same database, the way the test's own connection reaches it (through
    PgBouncer in the PgBouncer run)."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
        **options,
    )


def advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
        )
        return cursor.fetchone()[0]


def send_confirmation(booking, send):
    return send_once(
        rows=Booking.objects.filter(status=Booking.Status.CONFIRMED),
        pk=booking.pk,
        sent_field="confirmation_sent_at",
        send=send,
    )


def test_the_lock_is_held_by_the_sending_transaction_and_goes_with_it(organiser):
    booking = BookingFactory(organiser=organiser, status=Booking.Status.CONFIRMED)
    seen = {}

    def send(row):
        seen["in a transaction"] = connection.in_atomic_block
        seen["locks"] = advisory_locks_held()

    assert send_confirmation(booking, send) is True

    assert seen == {"in a transaction": True, "locks": 1}
    assert advisory_locks_held() == 0
    booking.refresh_from_db()
    assert booking.confirmation_sent_at is not None


def test_a_failed_send_stamps_nothing_and_leaves_no_lock(organiser):
    booking = BookingFactory(organiser=organiser, status=Booking.Status.CONFIRMED)

    def send(row):
        raise OSError("the mail server hung up")

    with pytest.raises(OSError):
        send_confirmation(booking, send)

    assert advisory_locks_held() == 0
    booking.refresh_from_db()
    assert booking.confirmation_sent_at is None


def test_while_another_worker_holds_the_lock_nothing_is_sent(organiser):
    booking = BookingFactory(organiser=organiser, status=Booking.Status.CONFIRMED)
    sent = []

    with other_client() as sending:
        sending.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK.format(booking.pk)])
        with pytest.raises(SendInProgress):
            send_confirmation(booking, sent.append)
        sending.rollback()  # that worker died before stamping: its lock went with it

    assert send_confirmation(booking, sent.append) is True
    assert len(sent) == 1


@pytest.mark.pgbouncer
def test_through_pgbouncer_a_send_leaves_no_lock_behind_on_a_pooled_server_connection(organiser):
    booking = BookingFactory(organiser=organiser, status=Booking.Status.CONFIRMED)
    with other_client() as busy:

        def send(row):
            # Another client starts a transaction mid-send and keeps it open. PgBouncer gives it
            # the most recently used idle server connection: with a lock taken by a statement of
            # its own, that was the one holding send_once's lock, whose unlock then ran elsewhere.
            busy.execute("SELECT 1")

        assert send_confirmation(booking, send) is True
        assert advisory_locks_held() == 0
        busy.rollback()
    assert advisory_locks_held() == 0


@pytest.mark.pgbouncer
def test_these_tests_really_run_through_pgbouncer_in_transaction_mode():
    with psycopg.connect(
        os.environ["PGBOUNCER_ADMIN_URL"], autocommit=True, cursor_factory=psycopg.ClientCursor
    ) as admin:
        config = {row[0]: row[1] for row in admin.execute("SHOW CONFIG").fetchall()}
        pools = [row[0] for row in admin.execute("SHOW POOLS").fetchall()]
    assert config["pool_mode"] == "transaction"
    assert connection.settings_dict["NAME"] in pools
    # PgBouncer 1.18 cannot keep prepared statements for a client, nor a cursor WITH HOLD.
    assert "prepare_threshold" not in connection.settings_dict["OPTIONS"]
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
