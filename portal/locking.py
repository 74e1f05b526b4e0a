from __future__ import annotations

from contextlib import contextmanager

from django.db import OperationalError, connection

from portal.exceptions import Busy

# Postgres's SQLSTATE for lock_not_available: a lock_timeout that ran out, or NOWAIT. The message
# text is translated by the server's lc_messages, so only the code identifies it.
LOCK_NOT_AVAILABLE = "55P03"


def is_lock_not_available(exc: BaseException) -> bool:
    """Whether a database error (Django's, wrapping the driver's as its cause) is a lock wait
    that ran out."""
    return any(getattr(e, "sqlstate", None) == LOCK_NOT_AVAILABLE for e in (exc, exc.__cause__))


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
        if is_lock_not_available(exc):
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
