"""A reminder goes once even when two workers hold its task (a redelivery after a worker was
killed): the second waits for the first's transaction, whose advisory lock it finds held, then
finds the reminder stamped. A killed worker's lock goes with its transaction, stamping nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from calendars import emails
from calendars.models import Reminder
from portal.emails import SendInProgress
from tests.factories import AttendeeFactory, EventFactory
from tests.worker.test_send_lock import advisory_locks_held, other_client

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_reminder_whose_lock_another_worker_holds_is_not_sent_until_that_worker_is_gone(
    organiser, mailoutbox
):
    event = EventFactory(organiser=organiser, starts_at=timezone.now() + timedelta(hours=20))
    booking = AttendeeFactory(
        organiser=organiser,
        booking__event=event,
        booking__status=Booking.Status.CONFIRMED,
        ticket_type__event=event,
    ).booking
    # Made by beat's job, its task not run yet (outside a transaction, on_commit would run it now).
    reminder = Reminder.objects.create(organiser=organiser, booking=booking, hours_before=24)

    with other_client() as sending:
        sending.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"calendars.reminder.sent_at.{reminder.pk}"]
        )
        with pytest.raises(SendInProgress):
            emails.reminder_send(reminder_id=reminder.pk)
        sending.rollback()  # that worker died before stamping: its lock went with it

    assert emails.reminder_send(reminder_id=reminder.pk) is True
    assert emails.reminder_send(reminder_id=reminder.pk) is False
    assert len(mailoutbox) == 1 and advisory_locks_held() == 0
