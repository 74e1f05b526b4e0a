"""What calendars keeps about a booker, and how account deletion erases it (accounts.privacy,
registered in CalendarsConfig.ready): the feed goes (its address answers 404 from then on) and
so do their reminder choices."""

from __future__ import annotations

from django.db.models import Q

from accounts.privacy import Erasure
from calendars.models import CalendarFeed, ReminderOptOut


def calendars_anonymise(erasure: Erasure) -> None:
    CalendarFeed.objects.filter(user=erasure.user).delete()
    ReminderOptOut.objects.filter(Q(user=erasure.user) | erasure.by_email("email")).delete()
