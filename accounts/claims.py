"""What was made for an email address before an account proved it, and how it joins the account.

accounts sits below bookings and vouchers, so those apps register here (by key, in their
AppConfig.ready) what they keep for an address: `find` lists it for the owner to look at, and
`attach` makes it the account's. accounts decides when (accounts.services.email_proved)."""

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


_CLAIMERS: dict[str, Claimer] = {}


def register(key: str, *, find, attach) -> None:
    _CLAIMERS[key] = Claimer(find=find, attach=attach)


def find(*, user, email: str) -> list[Found]:
    return [found for key in sorted(_CLAIMERS) for found in _CLAIMERS[key].find(user=user, email=email)]


def attach(*, user, email: str) -> int:
    return sum(_CLAIMERS[key].attach(user=user, email=email) for key in sorted(_CLAIMERS))
