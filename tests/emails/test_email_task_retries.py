"""Every task that sends an email retries when the mail server or the database connection fails,
so a restart loses no email (portal.emails.EMAIL_TASK)."""

from __future__ import annotations

from smtplib import SMTPException

from django.db import InterfaceError, OperationalError

from portal.celery import app

APPS = ("accounts", "bookings", "calendars", "memberships", "passes", "vouchers", "portal")


def email_tasks():
    app.loader.import_default_modules()
    return [
        task
        for name, task in app.tasks.items()
        if name.startswith(APPS)
        and "_send" in name.rsplit(".", 1)[-1]
        and not name.endswith("reminders_send")
    ]


def test_every_email_task_retries_when_the_mail_server_or_database_fails():
    tasks = email_tasks()

    assert len(tasks) >= 15, [t.name for t in tasks]
    for task in tasks:
        assert {SMTPException, OperationalError, InterfaceError} <= set(task.autoretry_for or ()), task.name
        assert task.retry_backoff and task.max_retries >= 5, task.name
