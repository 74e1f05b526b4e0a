"""Demo memberships for seed_demo: plans at riverside-yoga (Monthly Unlimited may be paused;
Off-Peak is another monthly plan to switch to), and for the demo booker an active and an ended
membership with invoices. Idempotent: every row is found by a natural key."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.utils import timezone

from memberships.models import Membership, MembershipBookingUse, MembershipInvoice, MembershipPlan
from portal.payments import add_interval

# Fixed codes, so the demo's URLs stay the same from one run to the next.
ACTIVE_CODE = uuid.UUID("5a1e0b7e-0000-4000-8000-000000000001")
ENDED_CODE = uuid.UUID("5a1e0b7e-0000-4000-8000-000000000002")


def seed_memberships(organiser, booker) -> None:
    monthly, _ = MembershipPlan.objects.update_or_create(
        organiser=organiser,
        name="Monthly Unlimited",
        defaults={
            "description": "Come as often as you like, and save on workshops.",
            "price": 5500,
            "interval": MembershipPlan.Interval.MONTH,
            "discount_percent": 20,
            "included_bookings": 4,
            "position": 0,
            # Members may take a break: up to four weeks, twice in any 12 months.
            "pause_allowed": True,
            "pause_max_weeks": 4,
            "pauses_per_year": 2,
        },
    )
    # Another monthly plan, so a member of Monthly Unlimited can switch (and see the proration).
    MembershipPlan.objects.update_or_create(
        organiser=organiser,
        name="Off-Peak",
        defaults={
            "description": "Weekday daytime classes at a member price.",
            "price": 3500,
            "interval": MembershipPlan.Interval.MONTH,
            "discount_percent": 10,
            "included_bookings": 0,
            "position": 2,
        },
    )
    friends, _ = MembershipPlan.objects.update_or_create(
        organiser=organiser,
        name="Friends of the Studio",
        defaults={
            "description": "Support the studio and get money off every class.",
            "price": 9000,
            "interval": MembershipPlan.Interval.YEAR,
            "discount_percent": 10,
            "included_bookings": 0,
            "position": 1,
        },
    )

    # Active for three months; the current period renews in three days (09:00, studio time).
    renews = datetime.combine(timezone.localdate() + timedelta(days=3), time(9))
    active = _membership(
        ACTIVE_CODE,
        monthly,
        booker,
        status=Membership.Status.ACTIVE,
        started=_local(organiser, add_interval(renews, "month", count=-3)),
        period_start=_local(organiser, add_interval(renews, "month", count=-1)),
        period_end=_local(organiser, renews),
    )
    for months_ago in (3, 2, 1):
        period_start = add_interval(renews, "month", count=-months_ago)
        _invoice(
            active,
            f"RY-M-{4 - months_ago:04d}",
            _local(organiser, period_start),
            _local(organiser, add_interval(period_start, "month")),
            monthly.price,
        )

    # A yearly membership that ended (cancelled at the end of its year) three months ago.
    ended_start = _local(
        organiser, add_interval(datetime.combine(timezone.localdate(), time(9)), "month", count=-15)
    )
    ended = _membership(
        ENDED_CODE,
        friends,
        booker,
        status=Membership.Status.CANCELED,
        started=ended_start,
        period_start=ended_start,
        period_end=add_interval(ended_start, "year"),
        ended=True,
    )
    _invoice(ended, "RY-F-0001", ended_start, add_interval(ended_start, "year"), friends.price)


def _local(organiser, naive: datetime) -> datetime:
    return timezone.make_aware(naive, organiser.tzinfo)


def _membership(code, plan, booker, *, status, started, period_start, period_end, ended=False) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        code=code,
        defaults={
            "organiser": plan.organiser,
            "plan": plan,
            "user": booker,
            "status": status,
            "gateway": "offline",
            "customer_reference": "offline_cus_demo",
            "subscription_reference": f"offline_sub_demo_{code.hex[-4:]}",
            "started_at": started,
            "current_period_start": period_start,
            "current_period_end": period_end,
            "cancel_at_period_end": ended,
            "ended_at": period_end if ended else None,
            "card_brand": "Visa",
            "card_last4": "4242",
        },
    )
    return membership


def _invoice(membership, number, period_start, period_end, amount) -> None:
    MembershipInvoice.objects.update_or_create(
        reference=f"offline_in_demo_{number.lower()}",
        defaults={
            "organiser": membership.organiser,
            "membership": membership,
            "number": number,
            "status": MembershipInvoice.Status.PAID,
            "amount_due": amount,
            "amount_paid": amount,
            "currency": membership.organiser.currency,
            "issued_at": period_start,
            "period_start": period_start,
            "period_end": period_end,
        },
    )


def seed_included_booking_use(booking) -> int:
    """`booking` took one of the active membership's included bookings this period; returns how
    many are left (the demo booker's Monthly Unlimited: 3 of 4)."""
    active = Membership.objects.select_related("plan").get(code=ACTIVE_CODE)
    MembershipBookingUse.objects.update_or_create(
        membership=active,
        booking_reference=booking.reference,
        defaults={
            "organiser": active.organiser,
            "period_start": active.current_period_start,
            "tickets": 1,
            "returned_at": None,
        },
    )
    return active.included_bookings_left
