"""Writes: the feed's secret address, the booker's reminder choices, and reminders falling due."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from calendars.models import CalendarFeed, ReminderOptOut, new_feed_token


def feed_get_or_create(*, user) -> CalendarFeed:
    try:
        with transaction.atomic():
            feed, _ = CalendarFeed.objects.get_or_create(user=user)
    except IntegrityError:  # a second tab made it at the same moment
        feed = CalendarFeed.objects.get(user=user)
    return feed


def feed_rotate(*, user) -> CalendarFeed:
    """A new secret address: the old one answers 404 from now on."""
    feed = feed_get_or_create(user=user)
    feed.token = new_feed_token()
    feed.save(update_fields=["token", "updated_at"])
    return feed


def reminders_choose(*, user, organisers, on: set[int]) -> None:
    """Reminders from each of `organisers` (the booker's own) on if its id is in `on`, else off.
    Saving the same choice again changes nothing."""
    with transaction.atomic():
        for organiser in organisers:
            if organiser.pk in on:
                ReminderOptOut.objects.filter(user=user, organiser=organiser).delete()
            else:
                ReminderOptOut.objects.get_or_create(user=user, organiser=organiser, defaults={"email": ""})


def reminders_unsubscribe(*, organiser, email: str, user=None) -> None:
    """The one-click unsubscribe of a reminder: no more reminders from `organiser` to `email` (and
    to the account the booking belongs to, if any). Idempotent."""
    with transaction.atomic():
        if user is not None:
            ReminderOptOut.objects.get_or_create(user=user, organiser=organiser, defaults={"email": ""})
        if not ReminderOptOut.objects.filter(
            user__isnull=True, organiser=organiser, email__iexact=email
        ).exists():
            ReminderOptOut.objects.create(organiser=organiser, email=email.lower())
