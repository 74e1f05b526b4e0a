"""Stripe's webhook events: stored once (portal.webhooks), then applied by the app they concern.

portal sits below the apps, so each app registers what it handles, from its AppConfig.ready():

- a Checkout Session goes to the handler registered for the kind its metadata names: every app
  puts its own key on the sessions it starts (`{"booking": reference}`, `{"pass": code}`,
  `{"voucher": id}`, `{"transfer": id}`, `{"membership": code}`). A session whose metadata names
  no registered kind goes to the handler registered for its mode, if any (memberships takes every
  "subscription" session). One handler per kind, so no registration order decides who handles
  a payment;
- any other event goes to the handler registered for its type (memberships: subscriptions,
  invoices and cards).

A handler is `handler(event_type: str, obj: dict)`, gets the event's object (the session, the
subscription...), and must be idempotent: an event is applied again after a failure, and Stripe
may deliver it twice or out of order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.models import StripeEvent

logger = logging.getLogger(__name__)

Handler = Callable[[str, dict], object]

CHECKOUT_EVENTS = frozenset({"checkout.session.completed", "checkout.session.expired"})

_CHECKOUT_HANDLERS: dict[str, Handler] = {}
_EVENT_HANDLERS: dict[str, Handler] = {}


def _register(registry: dict[str, Handler], key: str, handler: Handler, what: str) -> None:
    if registry.get(key, handler) != handler:
        raise ImproperlyConfigured(
            f"Two handlers for the Stripe {what} {key!r}: {registry[key]} and {handler}."
        )
    registry[key] = handler


def checkout_handler_register(kind: str, handler: Handler) -> None:
    """`handler` applies the Checkout Sessions whose metadata has the key `kind` (or, failing
    any, whose mode is `kind`)."""
    _register(_CHECKOUT_HANDLERS, kind, handler, "Checkout Session kind")


def event_handler_register(event_types: Iterable[str], handler: Handler) -> None:
    """`handler` applies the events of these types (not Checkout Sessions: see above)."""
    for event_type in event_types:
        if event_type in CHECKOUT_EVENTS:
            raise ImproperlyConfigured(f"{event_type} is dispatched by kind: use checkout_handler_register.")
        _register(_EVENT_HANDLERS, event_type, handler, "event type")


def handled_event_types() -> frozenset[str]:
    return CHECKOUT_EVENTS | frozenset(_EVENT_HANDLERS)


def checkout_handler_for(session: dict) -> Handler | None:
    metadata = session.get("metadata") or {}
    kinds = sorted(kind for kind in _CHECKOUT_HANDLERS if metadata.get(kind))
    if len(kinds) > 1:
        # Our sessions carry one kind each: a session naming two is not ours to guess about.
        logger.error("stripe.checkout_kinds_ambiguous %s %s", session.get("id", ""), ",".join(kinds))
        return None
    if kinds:
        return _CHECKOUT_HANDLERS[kinds[0]]
    return _CHECKOUT_HANDLERS.get(session.get("mode") or "")


def stripe_event_record(*, event: dict) -> StripeEvent | None:
    """Store a verified event once and queue its processing after the commit. Returns None for a
    duplicate or a type no app handles."""
    if event.get("type") not in handled_event_types():
        return None
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"],
                created=datetime.fromtimestamp(int(event.get("created") or time.time()), tz=UTC),
                data=(event.get("data") or {}).get("object") or {},
            )
    except IntegrityError:
        return None  # a replay: Stripe retries until it sees a 2xx
    # Inside the function: portal.tasks imports this module for the services its tasks call.
    from portal.tasks import stripe_event_process as stripe_event_process_task

    transaction.on_commit(lambda: stripe_event_process_task.delay(stored.pk))
    return stored


def stripe_event_process(*, event: StripeEvent) -> None:
    """Apply one stored event. Safe to run again: every handler fetches Stripe's current state or
    makes a conditional change."""
    if event.processed_at is not None:
        return
    if event.type in CHECKOUT_EVENTS:
        handler = checkout_handler_for(event.data)
    else:
        handler = _EVENT_HANDLERS.get(event.type)
    if handler is not None:
        handler(event.type, event.data)
    StripeEvent.objects.filter(pk=event.pk, processed_at=None).update(processed_at=timezone.now())


#: An event is swept once its own task has had time to apply it (or to retry for ten minutes),
#: and no longer than Stripe itself redelivers webhooks (three days); older ones are left to the
#: nightly reconciliation and to a person.
SWEEP_AFTER = timedelta(minutes=15)
SWEEP_UNTIL = timedelta(days=3)
SWEEP_BATCH = 200


def stripe_event_sweep(*, now: datetime | None = None) -> int:
    """Apply the stored events that are still unprocessed SWEEP_AFTER after they arrived.

    Safe alongside the events' own tasks and a second sweep: applying an event is idempotent and
    marks it processed. One event that still fails is logged and left for the next sweep; it
    never stops the others. Returns how many were applied."""
    now = now or timezone.now()
    due = list(
        StripeEvent.objects.filter(
            processed_at__isnull=True, created_at__lte=now - SWEEP_AFTER, created_at__gt=now - SWEEP_UNTIL
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    applied = 0
    for pk in due:
        event = StripeEvent.objects.filter(pk=pk, processed_at__isnull=True).first()
        if event is None:
            continue  # its own task got there first
        try:
            stripe_event_process(event=event)
        except Exception:  # noqa: BLE001 - one bad event must not hold up the ones behind it
            logger.warning("stripe.sweep_failed %s %s", event.event_id, event.type, exc_info=True)
            continue
        logger.info("stripe.swept %s %s", event.event_id, event.type)
        applied += 1
    return applied
