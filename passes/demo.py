"""Demo passes for seed_demo: a pass type at riverside-yoga, and for the demo booker a pass with
uses left. Idempotent: every row is found by a natural key, and times are whole days from today."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.utils import timezone

from passes.models import Pass, PassType

# Fixed codes, so the demo's URLs stay the same from one run to the next.
PASS_CODE = uuid.UUID("9a55e5e5-0000-4000-8000-000000000001")
# Bought online three days ago: within its 14-day withdrawal period (portal.withdrawals).
RECENT_PASS_CODE = uuid.UUID("9a55e5e5-0000-4000-8000-000000000002")


def _day(organiser, days: int, hour: int = 9) -> datetime:
    return timezone.make_aware(
        datetime.combine(timezone.localdate() + timedelta(days=days), time(hour)), organiser.tzinfo
    )


def seed_passes(organiser, booker) -> None:
    five, _ = PassType.objects.update_or_create(
        organiser=organiser,
        name="Five-class pass",
        defaults={
            "description": "Five classes of your choice within three months.",
            "price": 5000,
            "uses_included": 5,
            "validity": PassType.Validity.DAYS,
            "validity_days": 90,
            "scope": PassType.Scope.ALL_EVENTS,
        },
    )
    bought = _day(organiser, -20)
    Pass.objects.update_or_create(
        code=PASS_CODE,
        defaults={
            "organiser": organiser,
            "pass_type": five,
            "user": booker,
            "buyer_email": booker.email,
            "status": Pass.Status.ACTIVE,
            "uses_included": 5,
            "uses_left": 3,
            "valid_from": bought,
            "valid_until": bought + timedelta(days=90),
            "price": 5000,
            "currency": organiser.currency,
            "paid_at": bought,
            "payment_reference": "demo_pass",
        },
    )
    ten, _ = PassType.objects.update_or_create(
        organiser=organiser,
        name="Ten-class pass",
        defaults={
            "description": "Ten classes of your choice within six months.",
            "price": 9000,
            "uses_included": 10,
            "validity": PassType.Validity.DAYS,
            "validity_days": 180,
            "scope": PassType.Scope.ALL_EVENTS,
        },
    )
    recent = _day(organiser, -3, hour=18)
    Pass.objects.update_or_create(
        code=RECENT_PASS_CODE,
        defaults={
            "organiser": organiser,
            "pass_type": ten,
            "user": booker,
            "buyer_email": booker.email,
            "status": Pass.Status.ACTIVE,
            "uses_included": 10,
            "uses_left": 10,
            "valid_from": recent,
            "valid_until": recent + timedelta(days=180),
            "price": 9000,
            "currency": organiser.currency,
            "paid_at": recent,
            # Bought through the portal (its checkout's key and the offline gateway's payment), so
            # the demo booker may withdraw from it: "Withdraw from contract here" on its card.
            "idempotency_key": "demo-recent-pass",
            "payment_reference": "offline_pay_demo_recent_pass",
        },
    )
