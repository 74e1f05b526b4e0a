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


@shared_task(
    bind=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
)
def booking_settle_event_cancellation(self, booking_id: int) -> None:
    """Refund and email one booking of an event the organiser cancelled (idempotent)."""
    from bookings import organiser_services
    from bookings.models import Booking
    from portal.exceptions import Busy, PaymentError

    booking = Booking.objects.select_related("event", "organiser").get(pk=booking_id)
    try:
        organiser_services.booking_settle_event_cancellation(booking=booking)
    except (PaymentError, Busy) as exc:
        # The refund stays pending with its error shown in the admin, where it can be retried.
        if self.request.is_eager:
            return  # in-process (the embedded default): don't fail the organiser's request
        raise self.retry(exc=exc, countdown=300, max_retries=5) from exc
