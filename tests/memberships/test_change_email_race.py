"""Five requests make the same change to a membership at the same moment, on real Postgres
transactions (a double submit, two tabs): the member is emailed about it exactly once."""

from __future__ import annotations

import pytest
from django.core import mail

from memberships import changes, services
from memberships.models import Membership, MembershipChange
from tests.memberships.factories import MembershipFactory
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_five_resumes_of_one_cancellation_at_stripe_email_once(organiser, booker, fake_stripe):
    membership = MembershipFactory(
        organiser=organiser, user=booker, gateway="stripe", subscription_reference="sub_fake"
    )
    fake_stripe.set_subscription("sub_fake")
    services.membership_cancel(membership=membership)

    at_once(5, lambda n: changes.membership_resume(membership=Membership.objects.get(pk=membership.pk)))

    assert not Membership.objects.get(pk=membership.pk).cancel_at_period_end
    assert MembershipChange.objects.filter(membership=membership, kind="resumed").count() == 1
    assert len([m for m in mail.outbox if "membership continues" in m.subject]) == 1


def test_five_early_ends_of_one_pause_email_once(organiser, booker):
    membership = MembershipFactory(
        organiser=organiser, user=booker, plan__pause_allowed=True, plan__pause_max_weeks=4
    )
    changes.membership_pause(membership=membership, weeks=2)

    at_once(5, lambda n: changes.membership_pause_end(membership=Membership.objects.get(pk=membership.pk)))

    assert Membership.objects.get(pk=membership.pk).status == Membership.Status.ACTIVE
    assert len([m for m in mail.outbox if "membership is active again" in m.subject]) == 1
