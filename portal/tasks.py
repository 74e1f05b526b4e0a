"""Celery entry points for the platform: applying Stripe's webhook events."""

from __future__ import annotations

import stripe
from celery import shared_task
from django.db import InterfaceError, OperationalError

from portal import stripe_events, withdrawals
from portal.emails import EMAIL_RETRY_ON, EMAIL_TASK
from portal.exceptions import Busy, PaymentError
from portal.models import StripeEvent, Withdrawal

# Applying an event we already acknowledged must not fail for good on something that passes:
# Stripe unreachable (the gateway raises PaymentError; the SDK's own connection error), a row
# lock busy past its timeout (Busy), or the database restarting or failing over (the worker drops
# the broken connection after the task, portal/celery.py, and the retry opens a fresh one).
# About ten minutes of retries; after that the beat sweep (stripe_event_sweep) takes over.
STRIPE_EVENT_RETRY_ON = (PaymentError, Busy, OperationalError, InterfaceError, stripe.APIConnectionError)


@shared_task(
    bind=True,
    autoretry_for=STRIPE_EVENT_RETRY_ON,
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
)
def stripe_event_process(self, event_id: int) -> None:
    event = StripeEvent.objects.filter(pk=event_id).first()
    if event is None or event.processed_at is not None:
        return
    stripe_events.stripe_event_process(event=event)


@shared_task
def stripe_event_sweep() -> int:
    """Every five minutes (celery beat): apply again the stored events still unprocessed a while
    after they arrived (their task gave up, or was never queued). Returns how many it applied."""
    return stripe_events.stripe_event_sweep()


# An email's retries, also when the refund's provider is down or a row lock is busy.
@shared_task(**{**EMAIL_TASK, "autoretry_for": (*EMAIL_RETRY_ON, PaymentError, Busy)})
def withdrawal_settle(self, withdrawal_id: int) -> None:
    """Acknowledge a booker's withdrawal by email and refund it (portal.withdrawals)."""
    withdrawal = Withdrawal.objects.filter(pk=withdrawal_id).first()
    if withdrawal is not None:
        withdrawals.withdrawal_settle(withdrawal=withdrawal)
