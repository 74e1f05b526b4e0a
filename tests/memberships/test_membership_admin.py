from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from memberships.admin import NOT_YOUR_BOOKER
from memberships.models import Membership
from tests.factories import BookingFactory
from tests.memberships.factories import MembershipPlanFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:memberships_membership_add")


def test_staff_give_a_booker_a_complimentary_membership(client_as_staff, plan, booker):
    BookingFactory(organiser=plan.organiser, user=booker)  # one of their own bookers
    ends_on = timezone.localdate().replace(year=timezone.localdate().year + 1)

    response = client_as_staff.post(ADD, {"plan": plan.pk, "email": "BOOKER@example.com", "ends_on": ends_on})

    assert response.status_code == 302
    membership = Membership.objects.get(user=booker)
    assert (membership.organiser, membership.gateway, membership.status) == (
        plan.organiser,
        "manual",
        "active",
    )
    assert membership.cancel_at_period_end  # it ends on the chosen day and is never billed
    assert membership.ends_on.astimezone(plan.organiser.tzinfo).date() == ends_on


def test_a_complimentary_membership_needs_a_booker_account(client_as_staff, plan):
    response = client_as_staff.post(
        ADD, {"plan": plan.pk, "email": "nobody@example.com", "ends_on": "2099-01-01"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == [NOT_YOUR_BOOKER]


def test_staff_cannot_give_another_organisers_plan(client_as_staff, other_organiser, booker):
    theirs = MembershipPlanFactory(organiser=other_organiser)

    response = client_as_staff.post(ADD, {"plan": theirs.pk, "email": booker.email, "ends_on": "2099-01-01"})

    assert response.context["adminform"].form.errors["plan"]
    assert not Membership.objects.exists()


def test_a_plans_price_locks_once_someone_has_joined(client_as_staff, membership, plan):
    response = client_as_staff.get(reverse("admin:memberships_membershipplan_change", args=[plan.pk]))

    assert "price" not in response.context["adminform"].form.fields
    assert "discount_percent" in response.context["adminform"].form.fields


def test_organisers_set_a_plans_pause_rules(client_as_staff, plan):
    change = reverse("admin:memberships_membershipplan_change", args=[plan.pk])
    fields = client_as_staff.get(change).context["adminform"].form.fields
    assert {"pause_allowed", "pause_max_weeks", "pauses_per_year"} <= set(fields)

    data = {
        "name": plan.name,
        "description": "",
        "price": plan.price,
        "interval": plan.interval,
        "discount_percent": plan.discount_percent,
        "included_bookings": 0,
        "is_offered": "on",
        "position": 0,
        "pause_allowed": "on",
        "pause_max_weeks": 60,
        "pauses_per_year": 2,
    }
    refused = client_as_staff.post(change, data)
    assert refused.context["adminform"].form.errors["pause_max_weeks"]

    client_as_staff.post(change, {**data, "pause_max_weeks": 6})
    plan.refresh_from_db()
    assert (plan.pause_allowed, plan.pause_max_weeks, plan.pauses_per_year) == (True, 6, 2)


def test_organisers_read_a_memberships_pauses(client_as_staff, membership):
    from tests.memberships.factories import MembershipPauseFactory

    MembershipPauseFactory(membership=membership)

    response = client_as_staff.get(reverse("admin:memberships_membership_change", args=[membership.pk]))

    assert "Membership pauses" in response.content.decode()


def test_organisers_read_a_memberships_plan_switches(client_as_staff, membership, organiser):
    from memberships import changes

    dearer = MembershipPlanFactory(organiser=organiser, name="Unlimited Plus", price=6000)
    at = timezone.now().replace(microsecond=0)
    changes.membership_switch(membership=membership, plan=dearer, proration_date=at)

    response = client_as_staff.get(reverse("admin:memberships_membership_change", args=[membership.pk]))

    html = response.content.decode()
    assert response.status_code == 200 and "Switched plan" in html and "Unlimited Plus" in html
