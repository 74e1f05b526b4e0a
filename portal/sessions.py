"""The session engine: Django's cached_db, lighter for every new session (one booker's booking
without an account makes one; issue 12's contention benchmark)."""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore
from django.utils.crypto import get_random_string


class SessionStore(CachedDbSessionStore):
    def _get_new_session_key(self) -> str:
        """Django first asks the database whether a fresh random key is taken. The INSERT of a new
        session already refuses a taken key (`save(must_create=True)` raises CreateError and
        `create()` draws another), so the question only cost a query on every new session: one
        for each booker who books without an account (issue 12)."""
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        """A new session: Django's cached_db writes it to the cache twice (once inside `create()`,
        once after). `create()` writes the database and the cache once each."""
        if self.session_key is None:
            return self.create()
        return super().save(must_create)
