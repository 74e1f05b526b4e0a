"""Rate limits on our own forms, counted in the cache (Redis in production).

A limit is a set of buckets, each with its own allowance over one period:
- `per_client`: this client's address (`client_ip`: the same address allauth's limits use).
- `per_pair`: this client's address together with `subject` (an email). Whatever a wrong
  guess spends is counted here, never per email alone: a stranger's guesses with someone's
  email must not lock that person out.
- `per_subject`: `subject` alone, whoever asks. Only for subjects a stranger cannot take from
  their owner: the owner's own account, or a mailbox that receives every request anyway.
"""

from __future__ import annotations

import hashlib
import ipaddress

from allauth import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from django.core.cache import cache


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or what the trusted proxy reports (settings
    ALLAUTH_TRUSTED_PROXY_COUNT / ALLAUTH_TRUSTED_CLIENT_IP_HEADER, read by allauth's adapter).
    An IPv6 client is its network (a /64 by default), as one host holds all of it."""
    address = get_adapter().get_client_ip(request)
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        prefix = allauth_settings.RATE_LIMIT_IPV6_PREFIX
        return str(ipaddress.IPv6Network(f"{parsed}/{prefix}", strict=False).network_address)
    return address


def _buckets(request, action, subject, per_client, per_pair, per_subject) -> list[tuple[str, int]]:
    buckets = []
    if per_client is not None:
        buckets.append((f"client:{client_ip(request)}", per_client))
    if per_pair is not None:
        buckets.append((f"pair:{client_ip(request)}|{subject}", per_pair))
    if per_subject is not None:
        buckets.append((f"subject:{subject}", per_subject))
    return [("rl:" + hashlib.sha256(f"{action}|{who}".encode()).hexdigest(), limit) for who, limit in buckets]


def rate_limited(
    request,
    action: str,
    *,
    period: int,
    subject: str = "",
    per_client: int | None = None,
    per_pair: int | None = None,
    per_subject: int | None = None,
) -> bool:
    """Count one attempt at `action` in every bucket given (see the module); True once any
    bucket holds more than its allowance within `period` seconds."""
    over = False
    for key, limit in _buckets(request, action, subject, per_client, per_pair, per_subject):
        cache.add(key, 0, timeout=period)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=period)
            count = 1
        over = over or count > limit
    return over


def rate_limit_reached(
    request,
    action: str,
    *,
    subject: str = "",
    per_client: int | None = None,
    per_pair: int | None = None,
    per_subject: int | None = None,
) -> bool:
    """Whether the next attempt would be refused, without counting it: for limits that count
    only failures (call `rate_limited` after each failure)."""
    keys = _buckets(request, action, subject, per_client, per_pair, per_subject)
    counts = cache.get_many([key for key, _ in keys])
    return any(counts.get(key, 0) >= limit for key, limit in keys)
