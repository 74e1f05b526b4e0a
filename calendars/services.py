"""Writes: the feed's secret address, the booker's reminder choices, and reminders falling due."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from bookings.models import Booking, BookingRules, Event
from calendars.models import CalendarFeed, Reminder, ReminderOptOut, new_feed_token
from calendars.tasks import reminders_send as reminders_send_task


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
    to the account the booking belongs to, if any). Idempotent, also when mail programs post twice
    at once (the unique constraints decide)."""
    try:
        with transaction.atomic():
            if user is not None:
                ReminderOptOut.objects.get_or_create(user=user, organiser=organiser, defaults={"email": ""})
            if not ReminderOptOut.objects.filter(
                user__isnull=True, organiser=organiser, email__iexact=email
            ).exists():
                ReminderOptOut.objects.create(organiser=organiser, email=email.lower())
    except IntegrityError:
        pass  # the other request made it: off either way


# Reminders --------------------------------------------------------------------------------------

# Every time before an event the rules can name, in hours (BookingRules.Reminders).
REMINDER_HOURS = sorted(
    {int(hours) for choice in BookingRules.Reminders.values for hours in choice.split(",") if hours}
)
DEFAULT_HOURS = BookingRules().reminder_hours  # an organiser without saved rules
# A reminder made but not sent this long after is enqueued again (its task was lost).
REMINDER_SWEEP_AFTER = timedelta(minutes=15)


def reminders_due(*, now=None) -> list[int]:
    """Make the reminders that have fallen due and enqueue their emails (on commit); returns the
    ids enqueued. Run by beat every few minutes; running it twice makes nothing twice (one row per
    booking and time, `one_reminder_per_booking_and_time`) and each email goes once (send_once).

    A reminder `hours` before an event is due from then until the event starts, for confirmed
    bookings made before then (a booking made an hour before gets no "tomorrow" email), whose
    booker has not turned this organiser's reminders off. When two are due at once (beat was
    down), only the nearer one goes."""
    now = now or timezone.now()
    events = list(
        Event.objects.scheduled()
        .filter(starts_at__gt=now, starts_at__lte=now + timedelta(hours=max(REMINDER_HOURS)))
        .only("pk", "organiser_id", "starts_at")
    )
    rules = _reminder_rules(events)
    made_since = timezone.now()
    for event in events:
        hours = rules.get(("event", event.pk), rules.get(("organiser", event.organiser_id), DEFAULT_HOURS))
        due = [h for h in hours if event.starts_at - timedelta(hours=h) <= now]
        if due:
            _reminders_make(event, min(due))
    ids = list(
        Reminder.objects.filter(sent_at__isnull=True, booking__event__starts_at__gt=now)
        .filter(
            Q(created_at__gte=made_since)
            | Q(created_at__lte=now - REMINDER_SWEEP_AFTER, created_at__gte=now - 2 * REMINDER_SWEEP_AFTER)
        )
        .values_list("pk", flat=True)
    )
    transaction.on_commit(partial(_enqueue, ids))
    return ids


def _hours(choice: str) -> list[int]:
    return [int(hours) for hours in choice.split(",") if hours]


def _reminder_rules(events: list[Event]) -> dict:
    """(kind, id) -> hours, for these events' own rules and their organisers' defaults."""
    found = BookingRules.objects.filter(
        Q(event__in=[e.pk for e in events])
        | Q(event__isnull=True, organiser__in={e.organiser_id for e in events})
    ).values_list("event_id", "organiser_id", "reminders")
    return {
        (("event", event_id) if event_id else ("organiser", organiser_id)): _hours(reminders)
        for event_id, organiser_id, reminders in found
    }


def _reminders_make(event: Event, hours: int) -> None:
    opted_out = ReminderOptOut.objects.filter(organiser=event.organiser_id).filter(
        Q(user__isnull=False, user=OuterRef("user"))
        | Q(user__isnull=True, email__iexact=OuterRef("booker_email"))
    )
    booking_ids = (
        Booking.objects.filter(
            event=event,
            status=Booking.Status.CONFIRMED,
            created_at__lte=event.starts_at - timedelta(hours=hours),
        )
        .filter(~Exists(opted_out))
        .exclude(
            pk__in=Reminder.objects.filter(hours_before=hours, booking__event=event).values("booking_id")
        )
        .values_list("pk", flat=True)
    )
    Reminder.objects.bulk_create(
        (
            Reminder(organiser_id=event.organiser_id, booking_id=pk, hours_before=hours)
            for pk in booking_ids.iterator()
        ),
        batch_size=2000,
        ignore_conflicts=True,
    )


# Reminders go to the queue in batches: a hundred thousand due in the same hour are a thousand
# tasks, so beat's job enqueues them in seconds and the worker spends its time on the emails.
REMINDER_BATCH = 100


def _enqueue(ids: list[int]) -> None:
    for start in range(0, len(ids), REMINDER_BATCH):
        reminders_send_task.delay(ids[start : start + REMINDER_BATCH])
