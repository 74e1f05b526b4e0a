"""The booking form's key: a double submit of one form makes one booking, and only the browser
session the form was given to can land on the booking an earlier submit made.

A key is a random nonce and its HMAC under a secret kept in the session. Another browser (or the
same one after logging out, which flushes the session) cannot present a key of this session, so
replaying a key it copied from a page, a log or a shared computer's history never reaches the
booking made with it. The secret survives logging in (Django keeps the session's data)."""

from __future__ import annotations

import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

SESSION_KEY = "booking_form_secret"
_SALT = "bookings.form-key"
_HALF = 32  # hex characters: 128-bit nonce and MAC, 64 in all (the model's max_length)


def issue(session) -> str:
    """A fresh key for a form rendered to this session (which it creates if need be)."""
    secret = session.get(SESSION_KEY)
    if not secret:
        secret = secrets.token_hex(16)
        session[SESSION_KEY] = secret
    nonce = secrets.token_hex(_HALF // 2)
    return nonce + _mac(secret, nonce)


def issued_to(session, key: str) -> bool:
    secret = session.get(SESSION_KEY)
    if not secret or len(key) != 2 * _HALF:
        return False
    return constant_time_compare(key[_HALF:], _mac(secret, key[:_HALF]))


def _mac(secret: str, nonce: str) -> str:
    return salted_hmac(_SALT, nonce, secret=secret, algorithm="sha256").hexdigest()[:_HALF]
