"""Celery entry points for bookings: each loads rows by id and calls one service.

The services enqueue these tasks (imported there as `<name>_task`), so a task imports its service
when it runs, not when this module loads.
"""

from __future__ import annotations

from celery import shared_task

from bookings import emails
from bookings.models import Booking, Refund
from portal.emails import EMAIL_RETRY_ON as RETRY_ON
from portal.emails import EMAIL_TASK
from portal.exceptions import Busy, PaymentError

# Tasks that pay money back and then email: slower retries, as a payment provider may be down.
SETTLING = {
    "bind": True,
    "autoretry_for": RETRY_ON,
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**EMAIL_TASK)
def booking_send_confirmation(self, booking_id: int) -> bool:
    return emails.booking_send_confirmation(booking_id=booking_id)


@shared_task(bind=True, autoretry_for=RETRY_ON, retry_backoff=30, max_retries=5)
def booking_send_new_links(self, email: str) -> int:
    return emails.booking_send_new_links(email=email)


def _retry_refund_later(task, exc: Exception) -> None:
    """The refund stays pending with its error shown in the admin, where it can be retried; the
    task tries again in five minutes. In-process (the embedded default) it just stops, so the
    organiser's request does not fail."""
    if task.request.is_eager:
        return
    raise task.retry(exc=exc, countdown=300, max_retries=5) from exc


@shared_task(**SETTLING)
def booking_settle_cancellation(self, booking_id: int) -> None:
    """Refund and email one cancelled booking, cancelled by the organiser or the booker (idempotent)."""
    from bookings import services

    booking = Booking.objects.select_related("event", "organiser").get(pk=booking_id)
    try:
        services.booking_settle_cancellation(booking=booking)
    except (PaymentError, Busy) as exc:
        _retry_refund_later(self, exc)


@shared_task(**SETTLING)
def tickets_cancellation_settle(self, cancellation_id: int) -> None:
    """Pay the refund of some cancelled tickets, then email the booker once (idempotent)."""
    from bookings import services

    refund = Refund.objects.filter(cancellation_id=cancellation_id).first()
    try:
        if refund is not None:
            services.refund_pay(refund=refund)
    except (PaymentError, Busy) as exc:
        _retry_refund_later(self, exc)
        return
    emails.tickets_send_cancelled(cancellation_id=cancellation_id)


@shared_task(**SETTLING)
def transfer_settle(self, transfer_id: int) -> None:
    """Pay a transfer's refund, if any, then email the booker once (idempotent)."""
    from bookings import services

    refund = Refund.objects.filter(transfer_id=transfer_id).first()
    try:
        if refund is not None:
            services.refund_pay(refund=refund)
    except (PaymentError, Busy) as exc:
        _retry_refund_later(self, exc)
        return
    emails.transfer_send_confirmation(transfer_id=transfer_id)


@shared_task(**SETTLING)
def refund_pay(self, refund_id: int) -> None:
    """Pay one recorded refund (idempotent): a booker chose credit or the card refund now."""
    from bookings import services

    try:
        services.refund_pay(refund=Refund.objects.get(pk=refund_id))
    except (PaymentError, Busy) as exc:
        _retry_refund_later(self, exc)


@shared_task
def refunds_pay_after_credit_offer() -> int:
    """Beat: card refunds whose offer of credit ran out unanswered are paid."""
    from bookings import services

    return services.refunds_pay_after_credit_offer()


@shared_task(**EMAIL_TASK)
def detail_edit_send_confirmation(self, edit_id: int) -> bool:
    return emails.detail_edit_send_confirmation(edit_id=edit_id)


@shared_task(**EMAIL_TASK)
def ticket_gift_send_offer(self, gift_id: int) -> bool:
    return emails.ticket_gift_send_offer(gift_id=gift_id)


@shared_task(**EMAIL_TASK)
def ticket_gift_send_accepted(self, gift_id: int) -> bool:
    return emails.ticket_gift_send_accepted(gift_id=gift_id)


@shared_task(**EMAIL_TASK)
def ticket_gift_send_expired(self, gift_id: int) -> bool:
    return emails.ticket_gift_send_expired(gift_id=gift_id)


@shared_task
def ticket_gifts_expire_due() -> int:
    """Beat: offers of a ticket that ran out unaccepted are closed and their givers told."""
    from bookings import services

    return services.ticket_gifts_expire_due()


@shared_task(**EMAIL_TASK)
def waiting_list_send_offer(self, entry_id: int) -> bool:
    return emails.waiting_list_send_offer(entry_id=entry_id)


@shared_task(bind=True, autoretry_for=RETRY_ON, retry_backoff=30, max_retries=5)
def waiting_list_send_confirmation(self, entry_id: int, joined: bool = False) -> bool:
    return emails.waiting_list_send_confirmation(entry_id=entry_id, joined=joined)


@shared_task
def waiting_list_offer_due() -> int:
    """Every few minutes: expired offers pass on, raised capacities are offered."""
    from bookings import services

    return services.waiting_list_offer_due()
