from __future__ import annotations

from contextlib import contextmanager

from django.db import OperationalError, connection

from portal.exceptions import Busy


@contextmanager
def lock_timeout(seconds: int = 3):
    """Wait at most `seconds` for a row lock, then tell the user we're busy rather than hang."""
    assert connection.in_atomic_block, "row locks only make sense inside a transaction"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(seconds)}s'")
    try:
        yield
    except OperationalError as exc:
        if "lock timeout" in str(exc).lower():
            raise Busy() from exc
        raise


@contextmanager
def held_by_this_connection(name: str):
    """Yield True if this process now holds the lock called `name`, False if another does.

    A Postgres session-level advisory lock: no transaction stays open and no row is locked while
    the body runs (it may talk to an SMTP server), and if the process dies its connection closes
    and the lock goes with it, so a redelivered task can take over. Elsewhere (SQLite, the
    embedded default) there is one process, and the lock is always ours."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [name])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [name])
