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
