"""Bookings and waiting-list places made with an address join the account that proves it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.claims import Found
from bookings.models import Booking, WaitingListEntry


@transaction.atomic
def bookings_claim_for_verified_email(*, user, email: str) -> int:
    """Give a user the bookings and waiting-list places made with an email they have proved is
    theirs. Only accounts.services.email_proved and claim_attach call it (through
    accounts.claims), which decide when a proof is enough."""
    claimed = Booking.objects.filter(user__isnull=True, booker_email__iexact=email).update(
        user=user, updated_at=timezone.now()
    )
    claimed += WaitingListEntry.objects.filter(user__isnull=True, email__iexact=email).update(
        user=user, updated_at=timezone.now()
    )
    return claimed


def bookings_found_for_email(*, user, email: str) -> list:
    """What `bookings_claim_for_verified_email` would attach, for the owner to look at first."""
    found = [
        Found(
            kind="Booking",
            description=f"{b.event.title}, {timezone.localtime(b.event.starts_at, b.organiser.tzinfo):%a %d %b %Y} "
            f"with {b.organiser.name} (ref. {b.reference})",
        )
        for b in Booking.objects.filter(user__isnull=True, booker_email__iexact=email)
        .select_related("event", "organiser")
        .order_by("event__starts_at")
    ]
    found += [
        Found(
            kind="Waiting list",
            description=f"{w.event.title} with {w.organiser.name} ({w.quantity} place(s))",
        )
        for w in WaitingListEntry.objects.filter(user__isnull=True, email__iexact=email)
        .select_related("event", "organiser")
        .order_by("created_at")
    ]
    return found
