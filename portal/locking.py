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


def held_for_this_transaction(name: str) -> bool:
    """Take the lock called `name` until the current transaction ends: True if this transaction
    now holds it, False if another does (nothing waits).

    A Postgres transaction-level advisory lock: it lives exactly as long as the transaction, so
    it works behind PgBouncer in transaction mode, where consecutive statements outside a
    transaction may run on different server connections (a session-level lock taken by one
    statement could be "released" on another connection and stay held for ever). If the process
    dies mid-transaction, Postgres (or PgBouncer, which drops a server connection whose client
    vanished mid-transaction) rolls it back and the lock goes with it. Elsewhere (SQLite, the
    embedded default) there is one process, and the lock is always ours."""
    assert connection.in_atomic_block, "the lock is released when the transaction ends"
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [name])
        return cursor.fetchone()[0]
