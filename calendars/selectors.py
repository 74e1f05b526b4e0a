"""Reads: a booker's feed and what it holds, and their reminder choices."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, DateTimeField, Max, OuterRef, Q, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from bookings.models import Booking
from bookings.selectors import organiser_list_for_booker
from calendars.models import CalendarFeed, ReminderOptOut

# A cancelled booking stays in the feed, marked CANCELLED, this long after it was cancelled (so
# every calendar polling the feed sees the cancellation), then goes. Past bookings stay as long,
# so a calendar does not wipe what just happened.
FEED_KEEPS = timedelta(days=30)


def feed_for(*, user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def _in_feed(now):
    since = now - FEED_KEEPS
    return Q(status=Booking.Status.CONFIRMED, event__ends_at__gt=since) | Q(
        status=Booking.Status.CANCELLED, cancelled_at__gt=since, event__ends_at__gt=since
    )


def feed_get_with_freshness(*, token: str) -> CalendarFeed | None:
    """The feed a token names, with what its ETag is made of, in one query: how many bookings it
    holds now and when the latest of them (or its event, or its organiser) changed. A calendar
    polling an unchanged feed costs this and nothing else."""
    rows = Booking.objects.filter(_in_feed(timezone.now()), user=OuterRef("user")).order_by().values("user")
    latest = rows.annotate(
        latest=Greatest(Max("updated_at"), Max("event__updated_at"), Max("organiser__updated_at"))
    ).values("latest")
    count = rows.annotate(n=Count("pk")).values("n")
    return (
        CalendarFeed.objects.filter(token=token)
        .annotate(latest=Subquery(latest, output_field=DateTimeField()), bookings=Subquery(count))
        .first()
    )


def feed_bookings(*, user) -> list[Booking]:
    return list(
        Booking.objects.filter(_in_feed(timezone.now()), user=user)
        .select_related("event", "organiser")
        .order_by("event__starts_at", "pk")
    )


def reminder_choices_for(*, user) -> list[tuple]:
    """(organiser, reminders on) for every organiser the booker has booked with."""
    off = set(ReminderOptOut.objects.filter(user=user).values_list("organiser_id", flat=True))
    return [(organiser, organiser.pk not in off) for organiser in organiser_list_for_booker(user=user)]
