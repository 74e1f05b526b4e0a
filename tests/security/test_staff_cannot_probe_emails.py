"""Organiser staff see only their own bookers: "Add membership" answers the same for an address
with an account on the platform (a booker of other organisers) and for one without any."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memberships.models import Membership
from tests.factories import BookingFactory, UserFactory
from tests.memberships.factories import MembershipFactory, MembershipPlanFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:memberships_membership_add")


@pytest.fixture
def plan(organiser):
    return MembershipPlanFactory(organiser=organiser, name="Monthly Unlimited")


def add(client, plan, email):
    return client.post(ADD, {"plan": plan.pk, "email": email, "ends_on": "2099-01-01"})


def errors(response):
    return response.context["adminform"].form.errors


def test_an_address_with_an_account_elsewhere_gets_the_same_answer_as_no_account(
    client_as_staff, plan, other_organiser
):
    elsewhere = UserFactory(email="elsewhere@example.com")
    BookingFactory(organiser=other_organiser, user=elsewhere, booker_email=elsewhere.email)

    known = add(client_as_staff, plan, elsewhere.email)
    unknown = add(client_as_staff, plan, "nobody@example.com")

    assert known.status_code == unknown.status_code == 200
    assert errors(known) == errors(unknown)
    assert not Membership.objects.exists()


def test_a_booker_who_booked_with_this_organiser_can_be_given_a_membership(client_as_staff, plan, organiser):
    mine = UserFactory(email="mine@example.com")
    BookingFactory(organiser=organiser, user=mine, booker_email=mine.email)

    assert add(client_as_staff, plan, "MINE@example.com").status_code == 302
    assert Membership.objects.get().user == mine


def test_a_former_member_of_this_organiser_can_be_given_one_again(client_as_staff, plan, organiser):
    former = UserFactory(email="former@example.com")
    MembershipFactory(plan=MembershipPlanFactory(organiser=organiser), user=former, status="canceled")

    assert add(client_as_staff, plan, former.email).status_code == 302
