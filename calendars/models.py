"""A booker's calendar feed, their choice of reminders, and the reminders sent."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portal.models import BaseModel


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits: the feed's URL is its only key


class CalendarFeed(BaseModel):
    """The secret address of a booker's personal calendar feed: every booking of theirs, at every
    organiser. Rotating the token (a new row value) makes the old address answer 404."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)

    def __str__(self) -> str:
        return f"Calendar feed of user {self.user_id}"


class ReminderOptOut(BaseModel):
    """A booker turned reminders off for one organiser: by their account (the Account page) or by
    the address a reminder went to (its one-click unsubscribe, which guests have too)."""

    organiser = models.ForeignKey("portal.Organiser", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organiser", "user"],
                condition=models.Q(user__isnull=False),
                name="one_opt_out_per_user",
            ),
            models.UniqueConstraint(
                "organiser",
                Lower("email"),
                condition=models.Q(user__isnull=True),
                name="one_opt_out_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(email=""), name="opt_out_names_someone"
            ),
        ]

    def __str__(self) -> str:
        return f"No reminders from organiser {self.organiser_id}"


class Reminder(BaseModel):
    """One reminder of one booking, `hours_before` its event. The row is made when it falls due
    (once: the unique constraint) and stamped `sent_at` by `portal.emails.send_once`."""

    organiser = models.ForeignKey("portal.Organiser", on_delete=models.PROTECT, related_name="+")
    booking = models.ForeignKey("bookings.Booking", on_delete=models.CASCADE, related_name="+")
    hours_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "hours_before"], name="one_reminder_per_booking_and_time"
            )
        ]
        indexes = [models.Index(fields=["sent_at", "created_at"])]

    def __str__(self) -> str:
        return _("Reminder %(hours)s h before") % {"hours": self.hours_before}
