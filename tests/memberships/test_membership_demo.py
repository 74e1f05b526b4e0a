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
def test_the_demo_has_a_pausable_plan_and_another_monthly_plan_to_switch_to():
    from memberships import selectors
    from memberships.changes import membership_pause_check

    call_command("seed_demo", stdout=open("/dev/null", "w"))

    active = Membership.objects.get(user__email="demo@example.com", status="active")
    assert active.plan.pause_allowed and active.can_pause
    membership_pause_check(active, weeks=active.plan.pause_max_weeks)  # the rules allow it
    assert [plan.name for plan in selectors.membership_switch_plan_list(membership=active)] == ["Off-Peak"]
