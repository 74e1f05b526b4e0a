"""What was made for an email address before an account proved it, and how it joins the account.

accounts sits below bookings and vouchers, so those apps register here (by key, in their
AppConfig.ready) what they keep for an address: `find` lists it for the owner to look at,
`attach` makes it the account's, and `waiting` (optional) says whether something waits for an
account that does not exist yet. accounts decides when, as allauth tells it that an address was
proved (accounts.receivers, accounts.services.email_proved); the apps decide what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Found:
    kind: str  # "Booking", "Waiting list", "Gift voucher"
    description: str


@dataclass(frozen=True)
class Claimer:
    find: Callable[..., list[Found]]  # (*, user, email)
    attach: Callable[..., int]  # (*, user, email) -> how many rows joined the account
    waiting: Callable[..., bool] | None = None  # (*, email) -> something waits for its account


_CLAIMERS: dict[str, Claimer] = {}


def register(key: str, *, find, attach, waiting=None) -> None:
    _CLAIMERS[key] = Claimer(find=find, attach=attach, waiting=waiting)


def find(*, user, email: str) -> list[Found]:
    return [found for key in sorted(_CLAIMERS) for found in _CLAIMERS[key].find(user=user, email=email)]


def attach(*, user, email: str) -> int:
    return sum(_CLAIMERS[key].attach(user=user, email=email) for key in sorted(_CLAIMERS))


def waiting(*, email: str) -> bool:
    return any(c.waiting(email=email) for c in _CLAIMERS.values() if c.waiting is not None)
