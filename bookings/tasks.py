"""Celery entry points for bookings: each loads rows by id and calls one service."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task


@shared_task(
    bind=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def booking_send_confirmation(self, booking_id: int) -> bool:
    from bookings import emails

    return emails.booking_send_confirmation(booking_id=booking_id)


@shared_task(bind=True, autoretry_for=(SMTPException, OSError), retry_backoff=30, max_retries=5)
def booking_send_new_links(self, email: str) -> int:
    from bookings import emails

    return emails.booking_send_new_links(email=email)
