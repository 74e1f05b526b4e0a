"""Celery entry points for accounts: each takes ids and calls one service."""

from __future__ import annotations

from celery import shared_task

from portal.emails import EMAIL_TASK


@shared_task
def account_sessions_end(user_id: int) -> int:
    from accounts import services

    return services.account_sessions_end(user_id=user_id)


@shared_task(**EMAIL_TASK)
def account_email_send(self, email_id: int) -> bool:
    from accounts import emails

    return emails.account_email_send(email_id=email_id)
