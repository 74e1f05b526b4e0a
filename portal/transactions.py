"""Work that must wait for the transaction that asked for it."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction


def after_commit(func: Callable[[], object]) -> None:
    """Run `func` when the current transaction commits, or at once outside one.

    This is `transaction.on_commit`, except that the transaction a test case wraps around each test
    does not count. Requests run in autocommit (ATOMIC_REQUESTS is off), so for work queued from a
    request this is exactly on_commit in production, and tests of a request see what a booker would
    (the email sent), instead of callbacks held back by a transaction that never commits."""
    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        transaction.on_commit(func)
    else:
        func()
