"""Celery entry points for vouchers: each loads rows by id and calls one function."""

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
def voucher_send_code(self, voucher_id: int) -> bool:
    from vouchers import emails

    return emails.voucher_send_code(voucher_id=voucher_id)


@shared_task(
    bind=True,
    autoretry_for=EMAIL_RETRY_ON,
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def voucher_send_purchase(self, voucher_id: int) -> bool:
    from vouchers import emails

    return emails.voucher_send_purchase(voucher_id=voucher_id)
