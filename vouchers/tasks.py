"""Celery entry points for vouchers: each loads rows by id and calls one function."""

from __future__ import annotations

from celery import shared_task

from portal.emails import EMAIL_TASK


@shared_task(**EMAIL_TASK)
def voucher_send_code(self, voucher_id: int) -> bool:
    from vouchers import emails

    return emails.voucher_send_code(voucher_id=voucher_id)


@shared_task(**EMAIL_TASK)
def voucher_send_purchase(self, voucher_id: int) -> bool:
    from vouchers import emails

    return emails.voucher_send_purchase(voucher_id=voucher_id)
