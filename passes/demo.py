"""Demo passes and vouchers for seed_demo: a pass type at riverside-yoga, and for the demo booker a
pass with uses left, a gift voucher they received (part spent) and one they bought for a friend.
Idempotent: every row is found by a natural key, and times are whole days from today."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.utils import timezone

from passes.models import Pass, PassType
from vouchers.models import Voucher

# Fixed codes, so the demo's URLs and voucher codes stay the same from one run to the next.
PASS_CODE = uuid.UUID("9a55e5e5-0000-4000-8000-000000000001")
RECEIVED_VOUCHER = ("RVSYGAGFTVCHR2R7", uuid.UUID("70c4e500-0000-4000-8000-000000000001"))
BOUGHT_VOUCHER = ("RVSYGFTFRNDVCH22", uuid.UUID("70c4e500-0000-4000-8000-000000000002"))


def _day(organiser, days: int, hour: int = 9) -> datetime:
    return timezone.make_aware(
        datetime.combine(timezone.localdate() + timedelta(days=days), time(hour)), organiser.tzinfo
    )


def seed_passes_and_vouchers(organiser, booker) -> None:
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
    code, public_id = RECEIVED_VOUCHER
    Voucher.objects.update_or_create(
        code=code,
        defaults={
            "public_id": public_id,
            "organiser": organiser,
            "source": Voucher.Source.BOUGHT,
            "status": Voucher.Status.ACTIVE,
            "value": 3000,
            "balance": 1800,
            "currency": organiser.currency,
            "expires_at": _day(organiser, 300),
            "buyer_email": "friend@example.com",
            "recipient_name": booker.name,
            "recipient_email": booker.email,
            "message": "Happy birthday! Enjoy some classes on me.",
            "paid_at": _day(organiser, -65),
            "payment_reference": "demo_voucher_received",
            "email_sent_at": _day(organiser, -65),
        },
    )
    code, public_id = BOUGHT_VOUCHER
    Voucher.objects.update_or_create(
        code=code,
        defaults={
            "public_id": public_id,
            "organiser": organiser,
            "source": Voucher.Source.BOUGHT,
            "status": Voucher.Status.ACTIVE,
            "value": 2500,
            "balance": 2500,
            "currency": organiser.currency,
            "expires_at": _day(organiser, 350),
            "buyer": booker,
            "buyer_email": booker.email,
            "recipient_name": "Sam",
            "recipient_email": "sam@example.com",
            "message": "For your first class with me!",
            "paid_at": _day(organiser, -15),
            "payment_reference": "demo_voucher_bought",
            "email_sent_at": _day(organiser, -15),
        },
    )
