"""Celery entry points for passes: each loads rows by id and calls one function."""

from __future__ import annotations

from celery import shared_task

from portal.emails import EMAIL_TASK


@shared_task(**EMAIL_TASK)
def pass_send_purchase(self, pass_id: int) -> bool:
    from passes import emails

    return emails.pass_send_purchase(pass_id=pass_id)
