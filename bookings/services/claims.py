"""Bookings and waiting-list places made with an address join the account that proves it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

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
            kind=gettext("Booking"),
            description=gettext("%(event)s, %(date)s with %(organiser)s (ref. %(reference)s)")
            % {
                "event": b.event.title,
                "date": date_format(
                    timezone.localtime(b.event.starts_at, b.organiser.tzinfo), gettext("D d M Y")
                ),
                "organiser": b.organiser.name,
                "reference": b.reference,
            },
        )
        for b in Booking.objects.filter(user__isnull=True, booker_email__iexact=email)
        .select_related("event", "organiser")
        .order_by("event__starts_at")
    ]
    found += [
        Found(
            kind=gettext("Waiting list"),
            description=ngettext(
                "%(event)s with %(organiser)s (%(count)s place)",
                "%(event)s with %(organiser)s (%(count)s places)",
                w.quantity,
            )
            % {"event": w.event.title, "organiser": w.organiser.name, "count": w.quantity},
        )
        for w in WaitingListEntry.objects.filter(user__isnull=True, email__iexact=email)
        .select_related("event", "organiser")
        .order_by("created_at")
    ]
    return found
