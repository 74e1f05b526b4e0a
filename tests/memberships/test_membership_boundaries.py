"""The Memberships section never shows another booker's membership, whatever the address says."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memberships.models import Membership
from tests.memberships.factories import MembershipFactory, MembershipPlanFactory

pytestmark = pytest.mark.django_db


def test_another_bookers_checkout_session_in_the_address_shows_nothing_of_theirs(
    client_as_booker, other_booker, organiser
):
    plan = MembershipPlanFactory(organiser=organiser, name="Their Unlimited")
    MembershipFactory(
        plan=plan, user=other_booker, status=Membership.Status.PENDING, checkout_reference="cs_theirs"
    )

    response = client_as_booker.get(reverse("memberships:membership_list"), {"session": "cs_theirs"})

    assert response.status_code == 200
    assert response.context["joining"] is None
    assert b"Their Unlimited" not in response.content
