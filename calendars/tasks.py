"""Celery entry points for calendars: the reminders' beat job and one email per reminder.

The services enqueue `reminder_send` (imported there as `reminder_send_task`), so this module
imports its services when a task runs, not when it loads."""

from __future__ import annotations

from celery import shared_task

from calendars import emails
from portal.emails import EMAIL_RETRY_ON as RETRY_ON
from portal.emails import EMAIL_TASK


@shared_task(**EMAIL_TASK)
def reminder_send(self, reminder_id: int) -> bool:
    return emails.reminder_send(reminder_id=reminder_id)


@shared_task(bind=True)
def reminders_send(self, reminder_ids: list[int]) -> int:
    """A batch of reminders, each sent once (send_once): a batch run again after its worker was
    killed sends only what that worker had not. One that fails now (the mail server, a lock
    another worker holds) goes on alone as `reminder_send`, with its own retries."""
    sent = 0
    for reminder_id in reminder_ids:
        try:
            sent += emails.reminder_send(reminder_id=reminder_id)
        except RETRY_ON:
            reminder_send.apply_async((reminder_id,), countdown=30)
    return sent


@shared_task
def reminders_due() -> int:
    """Every five minutes: reminders that fell due are made and their emails enqueued."""
    from calendars import services  # the services enqueue this module's tasks: imported at run time

    return len(services.reminders_due())
