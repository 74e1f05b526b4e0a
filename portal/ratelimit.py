from __future__ import annotations

import hashlib

from django.core.cache import cache


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def rate_limited(request, action: str, subject: str, *, limit: int, period: int) -> bool:
    """Count one attempt at `action` for this client and for `subject` (an email, a code);
    True once either has made more than `limit` attempts within `period` seconds."""
    over = False
    for who in (f"ip:{_client_ip(request)}", f"subject:{subject}"):
        key = "rl:" + hashlib.sha256(f"{action}|{who}".encode()).hexdigest()
        cache.add(key, 0, timeout=period)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=period)
            count = 1
        over = over or count > limit
    return over
