"""What deleting an account does to what each app keeps about the booker.

accounts sits below the apps that hold a booker's data, so each app registers here (by key, from
its AppConfig.ready) how to erase what it holds, as pretix's data shredders do:

- `anonymise(erasure)`: replace the booker's personal values in the app's rows, and add to the
  erasure the names it found on them. All of them run in the one transaction that deletes the
  user, so a failure anywhere changes nothing.
- `scrub(erasure)`: free text that may quote the booker (a copy of a Stripe object), scrubbed of
  every address and name the anonymisers found; runs after all of them, in the same transaction.
- `end(user=...)`: first, outside any transaction, end what a payment gateway must stop (renewals);
  returns how many it ended, or raises a PortalError that tells the booker why nothing was deleted.
- `blocks(user=...)`: under the user's lock, a message when something `end` stops was started
  since, which stops the deletion.
- `notes(user=...)`: lines for the confirmation page, saying what will happen to it.

The order of registration never matters: every hook of a kind runs before any hook of the next.
The test that reads every column of every table after a deletion
(tests/accounts/test_account_delete.py) fails when a model keeps personal data nobody erases.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model, Q

from portal.models import StripeEvent, Withdrawal

DELETED_NAME = "Deleted booker"
DELETED_ATTENDEE = "Deleted attendee"
DELETED_ANSWER = "(deleted)"


@dataclass
class Erasure:
    """The booker being erased, as the anonymisers see them."""

    user: Model
    emails: frozenset[str]  # their login address and every one they proved, lower-cased
    placeholder_email: str
    names: set[str]  # the names they went by: the account's, and the ones anonymisers find
    changed: list[tuple[type[Model], list]] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def by_email(self, field_name: str, lookup: str = "iexact") -> Q:
        """Rows whose `field_name` is one of their addresses. Only addresses the booker proved (or
        logs in with): an unproved address may be someone else's."""
        q = Q(pk__in=[])
        for email in self.emails:
            q |= Q(**{f"{field_name}__{lookup}": email})
        return q

    def anonymised(self, model: type[Model], ids, *, count_as: str = "") -> None:
        """Record rows an anonymiser changed: the admin's history names objects by their str(),
        which for some is a name or an email, and it is rewritten for these."""
        ids = list(ids)
        self.changed.append((model, ids))
        if count_as:
            self.counts[count_as] += len(ids)

    def redact(self, value):
        """`value` (a JSON-like structure) with every address and name of theirs replaced."""
        needles = sorted(self.emails | {n for n in self.names if len(n) >= 3}, key=len, reverse=True)
        return _redact(value, needles, self.placeholder_email)


def _redact(value, needles: list[str], placeholder_email: str):
    if isinstance(value, dict):
        return {k: _redact(v, needles, placeholder_email) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, needles, placeholder_email) for v in value]
    if isinstance(value, str):
        for needle in needles:
            replacement = placeholder_email if "@" in needle else DELETED_NAME
            value = re.sub(re.escape(needle), replacement, value, flags=re.IGNORECASE)
    return value


@dataclass(frozen=True)
class Shredder:
    anonymise: Callable[[Erasure], object] | None = None
    scrub: Callable[[Erasure], object] | None = None
    end: Callable[..., int] | None = None  # (*, user) -> how many were ended
    blocks: Callable[..., str | None] | None = None  # (*, user) -> why the deletion stops, or None
    notes: Callable[..., list[str]] | None = None  # (*, user) -> lines for the confirmation page


_SHREDDERS: dict[str, Shredder] = {}


def register(key: str, *, anonymise=None, scrub=None, end=None, blocks=None, notes=None) -> None:
    _SHREDDERS[key] = Shredder(anonymise=anonymise, scrub=scrub, end=end, blocks=blocks, notes=notes)


def _each(hook: str):
    for key in sorted(_SHREDDERS):
        function = getattr(_SHREDDERS[key], hook)
        if function is not None:
            yield key, function


def end(*, user) -> dict[str, int]:
    return {key: function(user=user) for key, function in _each("end")}


def blocked(*, user) -> str | None:
    return next((reason for _, function in _each("blocks") if (reason := function(user=user))), None)


def erase(erasure: Erasure) -> Erasure:
    """Run every anonymiser, then every scrubber. Call it inside the deletion's transaction."""
    for _, function in _each("anonymise"):
        function(erasure)
    for _, function in _each("scrub"):
        function(erasure)
    return erasure


def notes(*, user) -> list[str]:
    return [line for _, function in _each("notes") for line in function(user=user)]


def withdrawals_anonymise(erasure: Erasure) -> None:
    """Her withdrawals from contracts (portal.withdrawals) stay, for the organiser's accounts, with
    the address the acknowledgement went to and any name in the contract's description replaced.
    portal sits below accounts, so accounts registers this for it."""
    rows = Withdrawal.objects.filter(Q(user=erasure.user) | erasure.by_email("email"))
    for withdrawal in rows:
        withdrawal.email = erasure.placeholder_email
        withdrawal.description = erasure.redact(withdrawal.description)[:300]
        withdrawal.save(update_fields=["email", "description", "updated_at"])
        erasure.anonymised(Withdrawal, [withdrawal.pk])


def stripe_events_scrub(erasure: Erasure) -> None:
    """The Stripe objects portal keeps (webhook events) may quote the booker's name and address.
    portal sits below accounts, so accounts registers this for it."""
    for event in StripeEvent.objects.filter(erasure.by_email("data", "icontains")):
        event.data = erasure.redact(event.data)
        event.save(update_fields=["data", "updated_at"])
