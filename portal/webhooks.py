"""The platform's one Stripe webhook endpoint. It verifies, stores and acknowledges; a task applies
(portal.stripe_events hands each event to the app it concerns).

Stripe retries a webhook until it gets a 2xx, and may deliver an event twice or out of order:
the unique StripeEvent.event_id makes a replay a no-op, and the task applies Stripe's current
state (fetched), never the event's possibly stale copy.
"""

from __future__ import annotations

import json
import logging

import stripe
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal import stripe_events

logger = logging.getLogger(__name__)

# Stripe's default: a signature older than five minutes is a replay, not a retry (retries re-sign).
TOLERANCE_SECONDS = 300


@csrf_exempt
@require_POST
def stripe_webhook(request):
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("stripe.webhook_without_secret")
        return HttpResponseBadRequest("Webhooks are not configured.")
    payload = request.body.decode("utf-8", errors="replace")
    try:
        stripe.Webhook.construct_event(
            payload, request.headers.get("Stripe-Signature", ""), secret, tolerance=TOLERANCE_SECONDS
        )
    except (ValueError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest("Bad signature.")
    try:
        event = json.loads(payload)
        event_id, event_type = event["id"], event["type"]
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest("Not a Stripe event.")
    stored = stripe_events.stripe_event_record(event=event)
    logger.info("stripe.event %s %s %s", event_id, event_type, "stored" if stored else "skipped")
    return HttpResponse(status=200)
