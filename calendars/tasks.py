"""Celery entry points for calendars: the reminders' beat job and one email per reminder.

The services enqueue `reminder_send` (imported there as `reminder_send_task`), so this module
imports its services when a task runs, not when it loads."""

from __future__ import annotations

from celery import shared_task

from calendars import emails
from portal.emails import EMAIL_RETRY_ON as RETRY_ON


@shared_task(
    bind=True,
    autoretry_for=RETRY_ON,
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def reminder_send(self, reminder_id: int) -> bool:
    return emails.reminder_send(reminder_id=reminder_id)


@shared_task
def reminders_due() -> int:
    """Every five minutes: reminders that fell due are made and their emails enqueued."""
    from calendars import services  # the services enqueue this module's tasks: imported at run time

    return len(services.reminders_due())
