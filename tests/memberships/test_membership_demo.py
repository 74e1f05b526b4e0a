from __future__ import annotations

import pytest
from django.core.management import call_command

from memberships.models import Membership
from memberships.services import membership_discount_for
from portal.models import Organiser


@pytest.mark.django_db
def test_the_demo_booker_has_an_active_and_an_ended_membership_with_invoices():
    call_command("seed_demo", stdout=open("/dev/null", "w"))

    riverside = Organiser.objects.get(slug="riverside-yoga")
    mine = Membership.objects.filter(user__email="demo@example.com")
    active = mine.get(status="active")
    ended = mine.get(status="canceled")
    assert active.organiser == ended.organiser == riverside
    assert active.invoices.count() == 3 and ended.invoices.count() == 1
    assert active.current_period_end > active.current_period_start
    assert membership_discount_for(user=active.user, organiser=riverside) == (20, active)
    assert not Membership.objects.filter(organiser__slug="little-explorers").exists()


@pytest.mark.django_db
def test_the_demo_member_has_included_bookings_left_and_one_spent_on_a_booking():
    from bookings.models import Booking
    from memberships.services import membership_benefit_for

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # twice: still one use

    active = Membership.objects.get(user__email="demo@example.com", status="active")
    used = Booking.objects.get(reference="RYDEMO07")
    assert active.booking_uses.get().booking_reference == used.reference
    assert membership_benefit_for(user=active.user, organiser=active.organiser).included_bookings_left == 3
    assert (used.total, used.included_amount, used.payment_method) == (0, 1200, "membership")
    assert used.included_reason == "Monthly Unlimited: 1 included booking (3 left this month)"
    assert [a.included for a in used.attendees.all()] == [True]  # which ticket it paid for
    assert used.event.starts_at > used.created_at and used.status == "confirmed"


@pytest.mark.django_db
def test_the_demo_has_a_pausable_plan_and_a_monthly_and_a_yearly_plan_to_switch_to():
    from memberships import selectors
    from memberships.changes import membership_pause_check

    call_command("seed_demo", stdout=open("/dev/null", "w"))

    active = Membership.objects.get(user__email="demo@example.com", status="active")
    assert active.plan.pause_allowed and active.can_pause
    membership_pause_check(active, weeks=active.plan.pause_max_weeks)  # the rules allow it
    plans = selectors.membership_switch_plan_list(membership=active)
    assert sorted((plan.name, plan.interval) for plan in plans) == [
        ("Friends of the Studio", "year"),
        ("Off-Peak", "month"),
    ]
