"""Celery entry points for passes: each loads rows by id and calls one function."""

from __future__ import annotations

from celery import shared_task

from portal.emails import EMAIL_RETRY_ON


@shared_task(
    bind=True,
    autoretry_for=EMAIL_RETRY_ON,
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def pass_send_purchase(self, pass_id: int) -> bool:
    from passes import emails

    return emails.pass_send_purchase(pass_id=pass_id)
