"""Celery entry points for memberships: each loads rows by id and calls one service."""

from __future__ import annotations

import stripe
from celery import shared_task
from django.db import InterfaceError, OperationalError

from portal.emails import EMAIL_RETRY_ON
from portal.exceptions import Busy, PaymentError

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
    from memberships import services
    from memberships.models import StripeEvent

    event = StripeEvent.objects.filter(pk=event_id).first()
    if event is None or event.processed_at is not None:
        return
    services.stripe_event_process(event=event)


@shared_task
def stripe_event_sweep() -> int:
    """Every five minutes (celery beat): apply again the stored events still unprocessed a while
    after they arrived (their task gave up, or was never queued). Returns how many it applied."""
    from memberships import services

    return services.stripe_event_sweep()


@shared_task(
    bind=True,
    autoretry_for=EMAIL_RETRY_ON,
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def membership_send_email(self, membership_id: int, kind: str) -> bool:
    from memberships import emails

    return emails.membership_send_email(membership_id=membership_id, kind=kind)


@shared_task
def membership_advance_due() -> int:
    """Hourly (celery beat): renew or end offline memberships whose period is over."""
    from memberships import services

    return services.membership_advance_due()


@shared_task
def membership_reconcile(fix: bool = False) -> list[dict]:
    """Nightly (celery beat): compare Stripe memberships with Stripe and report mismatches, as
    warnings in the log and as the task's result. Changes nothing unless fix=True (see
    memberships/reconcile.py for why reporting is the default)."""
    from memberships import reconcile

    return [m.as_dict() for m in reconcile.membership_reconcile(fix=fix)]
