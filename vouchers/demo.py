"""Demo vouchers for seed_demo: for the demo booker at riverside-yoga, a gift voucher they received
(part spent) and one they bought for a friend. Idempotent: every row is found by a natural key,
and times are whole days from today."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.utils import timezone

from vouchers.models import Voucher

# Fixed codes, so the demo's URLs and voucher codes stay the same from one run to the next.
RECEIVED_VOUCHER = ("RVSYGAGFTVCHR2R7", uuid.UUID("70c4e500-0000-4000-8000-000000000001"))
BOUGHT_VOUCHER = ("RVSYGFTFRNDVCH22", uuid.UUID("70c4e500-0000-4000-8000-000000000002"))


def _day(organiser, days: int, hour: int = 9) -> datetime:
    return timezone.make_aware(
        datetime.combine(timezone.localdate() + timedelta(days=days), time(hour)), organiser.tzinfo
    )


def seed_vouchers(organiser, booker) -> None:
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
