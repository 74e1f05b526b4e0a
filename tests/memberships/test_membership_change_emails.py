"""The member is emailed once about each change to a running membership: a plan switch (what it
costs and what is billed next, when), a cancellation taken back, and a pause ended (early by the
member, on its day by the beat task, or by Stripe), each with a link to the membership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from memberships import changes, services
from memberships.emails import membership_change_send_email
from memberships.models import Membership, MembershipChange
from tests.memberships.factories import MembershipPlanFactory

pytestmark = pytest.mark.django_db

START = datetime(2030, 3, 1, tzinfo=UTC)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a change and the email task it queues on commit (Celery is eager)."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


@pytest.fixture
def pausable(plan):
    plan.pause_allowed, plan.pause_max_weeks, plan.pauses_per_year = True, 4, 3
    plan.save()
    return plan


def about(kind):
    subjects = {
        "switched": "You're now on",
        "resumed": "membership continues",
        "unpaused": "membership is active again",
    }
    return [m for m in mail.outbox if subjects[kind] in m.subject]


def as_stripe(membership):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", subscription_reference="sub_fake")
    membership.refresh_from_db()
    return membership


def in_period(membership, days=30):
    Membership.objects.filter(pk=membership.pk).update(
        current_period_start=START, current_period_end=START + timedelta(days=days)
    )
    membership.refresh_from_db()
    return START + timedelta(days=15)


# Switch plan ---------------------------------------------------------------------------------


def test_a_switch_is_emailed_once_with_the_new_price_the_proration_and_the_next_invoice(
    membership, booker, organiser, run
):
    dearer = MembershipPlanFactory(organiser=organiser, name="Unlimited Plus", price=6000)
    at = in_period(membership)

    run(lambda: changes.membership_switch(membership=membership, plan=dearer, proration_date=at, now=at))
    run(lambda: changes.membership_switch(membership=membership, plan=dearer, proration_date=at, now=at))

    (email,) = about("switched")
    assert email.to == [booker.email] and "Unlimited Plus" in email.subject
    body = email.body
    assert "switched from Monthly Unlimited to Unlimited Plus" in body
    assert "Unlimited Plus costs £60.00 each month." in body
    assert "£15.00 back for the unused time on Monthly Unlimited, £30.00 for Unlimited Plus" in body
    assert "Next payment: £75.00 on 31 March 2030." in body
    assert f"{settings.SITE_URL}/portal/memberships/#membership-{membership.code}" in body
    assert "Unlimited Plus" in email.alternatives[0][0]
    change = MembershipChange.objects.get(membership=membership)
    assert change.email_sent_at is not None
    assert membership_change_send_email(change_id=change.pk) is False  # a retried task sends nothing


def test_a_switch_to_yearly_is_emailed_with_todays_invoice_and_the_renewal_a_year_on(
    membership, organiser, run
):
    yearly = MembershipPlanFactory(organiser=organiser, name="Yearly", price=30000, interval="year")
    at = in_period(membership)

    run(lambda: changes.membership_switch(membership=membership, plan=yearly, proration_date=at, now=at))

    (email,) = about("switched")
    assert "Yearly costs £300.00 each year." in email.body
    assert (
        "Invoiced today: £285.00 (£300.00 for the new period, less £15.00 for the unused time" in email.body
    )
    assert "It renews on 16 March 2031." in email.body


def test_a_switch_with_stripe_is_emailed_once(membership, organiser, fake_stripe, run):
    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")
    dearer = MembershipPlanFactory(organiser=organiser, name="Unlimited Plus", price=6000)
    at = timezone.now().replace(microsecond=0)

    run(lambda: changes.membership_switch(membership=membership, plan=dearer, proration_date=at))
    fake_stripe.set_subscription("sub_fake", metadata={"plan": str(dearer.code)})
    run(lambda: services.membership_sync_subscription(subscription_reference="sub_fake"))  # the webhook

    (email,) = about("switched")
    assert "switched from Monthly Unlimited to Unlimited Plus" in email.body


# Resume a cancelled membership ---------------------------------------------------------------


def test_taking_a_cancellation_back_is_emailed_once_with_the_next_payment(membership, booker, run):
    services.membership_cancel(membership=membership)

    resumed = run(lambda: changes.membership_resume(membership=membership))
    run(lambda: changes.membership_resume(membership=membership))

    (email,) = about("resumed")
    assert email.to == [booker.email]
    assert "You've taken back your cancellation" in email.body
    assert "Monthly Unlimited costs £30.00 each month." in email.body
    renews = timezone.localtime(resumed.current_period_end, resumed.organiser.tzinfo)
    assert f"Next payment: £30.00 on {renews.day} {renews:%B %Y}." in email.body


def test_cancelling_and_taking_it_back_again_is_a_second_email(membership, run):
    for _round in range(2):
        services.membership_cancel(membership=Membership.objects.get(pk=membership.pk))
        run(lambda: changes.membership_resume(membership=Membership.objects.get(pk=membership.pk)))

    assert len(about("resumed")) == 2


def test_taking_a_cancellation_back_with_stripe_is_emailed_once(membership, fake_stripe, run):
    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")
    services.membership_cancel(membership=membership)

    run(lambda: changes.membership_resume(membership=membership))
    run(lambda: services.membership_sync_subscription(subscription_reference="sub_fake"))

    assert len(about("resumed")) == 1


# Resume from a pause -------------------------------------------------------------------------


def test_ending_a_pause_early_is_emailed_once(membership, pausable, run):
    changes.membership_pause(membership=membership, weeks=3)

    run(lambda: changes.membership_pause_end(membership=membership))
    run(lambda: changes.membership_pause_end(membership=membership))

    (email,) = about("unpaused")
    assert "You've ended your pause early" in email.body
    assert "Next payment: £30.00 on" in email.body


def test_a_pause_that_ends_on_its_day_is_emailed_once(membership, pausable, run):
    paused = changes.membership_pause(membership=membership, weeks=1)
    later = paused.paused_until + timedelta(minutes=1)

    run(lambda: changes.membership_pause_end_due(now=later))
    run(lambda: changes.membership_pause_end_due(now=later))

    (email,) = about("unpaused")
    assert "Your pause is over" in email.body


def test_a_pause_ended_by_stripe_is_emailed_once_when_the_webhook_syncs_it(
    membership, pausable, fake_stripe, run
):
    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")
    changes.membership_pause(membership=membership, weeks=2)
    fake_stripe.set_subscription("sub_fake", status="active", paused_until=None)  # Stripe resumed it

    run(lambda: services.membership_sync_subscription(subscription_reference="sub_fake"))
    run(lambda: services.membership_sync_subscription(subscription_reference="sub_fake"))

    assert len(about("unpaused")) == 1


def test_a_pause_that_ends_with_the_membership_is_not_a_resume(membership, pausable, fake_stripe, run):
    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")
    changes.membership_pause(membership=membership, weeks=2)
    fake_stripe.set_subscription("sub_fake", status="canceled", paused_until=None)

    run(lambda: services.membership_sync_subscription(subscription_reference="sub_fake"))

    assert about("unpaused") == []


def test_the_change_emails_speak_the_members_language_and_link_in_it(membership, pausable, run):
    membership.user.language = "fr"
    membership.user.save()
    changes.membership_pause(membership=membership, weeks=2)

    run(lambda: changes.membership_pause_end(membership=membership))

    (email,) = [m for m in mail.outbox if f"#membership-{membership.code}" in m.body]
    assert f"/portal/memberships/?lang=fr#membership-{membership.code}" in email.body
