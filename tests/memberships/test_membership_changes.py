"""A member's changes to a running membership: cancel with a reason, resume a cancelled one,
pause and resume, switch plan. Offline (our rows are the record) and with a Stripe stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from memberships import changes, services
from memberships.models import Membership, MembershipInvoice, MembershipPause
from memberships.services import MembershipError
from tests.memberships.factories import MembershipFactory, MembershipPauseFactory, MembershipPlanFactory

pytestmark = pytest.mark.django_db


def as_stripe(membership, reference="sub_fake"):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", subscription_reference=reference)
    membership.refresh_from_db()
    return membership


@pytest.fixture
def pausable(plan):
    plan.pause_allowed, plan.pause_max_weeks, plan.pauses_per_year = True, 4, 2
    plan.save()
    return plan


# Cancel with a reason ----------------------------------------------------------------------


def test_a_cancellation_keeps_the_reason_given(membership):
    cancelled = services.membership_cancel(membership=membership, reason="too_expensive")

    assert cancelled.cancel_reason == "too_expensive"
    assert cancelled.get_cancel_reason_display() == "It costs too much"


def test_a_reason_is_optional_and_an_unknown_one_is_not_kept(membership):
    cancelled = services.membership_cancel(membership=membership, reason="<script>")

    assert cancelled.cancel_at_period_end and cancelled.cancel_reason == ""


# Resume a cancelled membership -------------------------------------------------------------


def test_a_cancelled_membership_resumes_and_renews_again(membership):
    services.membership_cancel(membership=membership, reason="moving")

    resumed = changes.membership_resume(membership=membership)

    assert not resumed.cancel_at_period_end
    assert resumed.renews_on == membership.current_period_end
    assert resumed.cancel_reason == "" and resumed.cancel_requested_at is None
    resumed.refresh_from_db()
    assert resumed.status == Membership.Status.ACTIVE and not resumed.cancel_at_period_end


def test_a_resumed_offline_membership_is_billed_at_the_period_end(membership):
    services.membership_cancel(membership=membership)
    changes.membership_resume(membership=membership)

    services.membership_advance_due(now=membership.current_period_end + timedelta(minutes=1))

    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert membership.invoices.count() == 2


def test_resuming_twice_changes_nothing_the_second_time(membership):
    services.membership_cancel(membership=membership)
    first = changes.membership_resume(membership=membership)

    second = changes.membership_resume(membership=membership)

    assert second.cancel_undone_at == first.cancel_undone_at


def test_an_ended_membership_cannot_be_resumed(ended_membership):
    with pytest.raises(MembershipError, match="has ended"):
        changes.membership_resume(membership=ended_membership)


def test_a_cancelled_membership_whose_period_is_over_cannot_be_resumed(membership):
    services.membership_cancel(membership=membership)
    Membership.objects.filter(pk=membership.pk).update(current_period_end=timezone.now() - timedelta(hours=1))

    with pytest.raises(MembershipError, match="has ended"):
        changes.membership_resume(membership=membership)


def test_a_complimentary_membership_cannot_be_resumed(plan, booker):
    gift = MembershipFactory(plan=plan, user=booker, gateway="manual", cancel_at_period_end=True)

    with pytest.raises(MembershipError, match="complimentary"):
        changes.membership_resume(membership=gift)


def test_resuming_with_stripe_applies_stripes_answer_with_a_key_per_cancellation(membership, fake_stripe):
    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")
    services.membership_cancel(membership=membership, reason="schedule")
    requested = Membership.objects.get(pk=membership.pk).cancel_requested_at

    resumed = changes.membership_resume(membership=membership)

    assert fake_stripe.calls[-1] == (
        "reactivate",
        {
            "reference": "sub_fake",
            "idempotency_key": f"membership-{membership.code}-resume-{int(requested.timestamp())}-0",
        },
    )
    assert not resumed.cancel_at_period_end and resumed.cancel_reason == ""


def test_a_cancellation_made_at_stripe_resumed_twice_is_two_requests(membership, fake_stripe):
    as_stripe(membership)
    for _ in range(2):  # cancelled in Stripe's Billing Portal: we only hear of it by webhook
        fake_stripe.set_subscription("sub_fake", cancel_at_period_end=True)
        services.membership_sync_subscription(subscription_reference="sub_fake")
        changes.membership_resume(membership=membership)

    keys = [call[1]["idempotency_key"] for call in fake_stripe.calls if call[0] == "reactivate"]
    assert len(keys) == 2 and keys[0] != keys[1]


def test_cancelling_again_after_resuming_is_a_new_request_to_stripe(membership, fake_stripe):
    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")
    services.membership_cancel(membership=membership)
    changes.membership_resume(membership=membership)

    services.membership_cancel(membership=membership)

    keys = [call[1]["idempotency_key"] for call in fake_stripe.calls if call[0] == "cancel"]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert Membership.objects.get(pk=membership.pk).cancel_at_period_end


@pytest.mark.postgres
def test_resuming_locks_the_membership_row(membership):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.membership_cancel(membership=membership)
    with CaptureQueriesContext(connection) as queries:
        changes.membership_resume(membership=membership)

    assert any("FOR UPDATE" in q["sql"] for q in queries.captured_queries)


# Pause and resume --------------------------------------------------------------------------


def test_pausing_stops_the_benefits_until_the_chosen_day(membership, pausable, booker, organiser):
    now = timezone.now()

    paused = changes.membership_pause(membership=membership, weeks=2, now=now)

    assert paused.status == Membership.Status.PAUSED
    resumes = paused.paused_until.astimezone(organiser.tzinfo)
    assert resumes.date() == (now.astimezone(organiser.tzinfo) + timedelta(weeks=2)).date()
    assert (resumes.hour, resumes.minute) == (0, 0)  # the start of that day, the studio's time
    assert services.membership_discount_for(user=booker, organiser=organiser) == (0, None)
    pause = MembershipPause.objects.get(membership=membership)
    assert (pause.organiser, pause.starts_at, pause.resumes_at, pause.ended_at) == (
        organiser,
        now,
        paused.paused_until,
        None,
    )


def test_the_member_is_emailed_once_that_the_membership_is_paused_and_until_when(
    membership, pausable, mailoutbox, django_capture_on_commit_callbacks
):
    from memberships.emails import membership_pause_send_email

    with django_capture_on_commit_callbacks(execute=True):
        paused = changes.membership_pause(membership=membership, weeks=2)
        changes.membership_pause(membership=membership, weeks=2)  # a double submit

    pause = MembershipPause.objects.get(membership=membership)
    assert membership_pause_send_email(pause_id=pause.pk) is False  # a retried task sends nothing
    [email] = mailoutbox
    assert email.subject == "Your Monthly Unlimited membership is paused"
    assert email.to == [membership.user.email]
    resumes = services.local_date(paused.paused_until, membership.organiser)
    assert f"is paused until {resumes}" in email.body
    assert "starts again by itself" in email.body
    assert MembershipPause.objects.get(pk=pause.pk).email_sent_at is not None


def test_pausing_twice_changes_nothing_the_second_time(membership, pausable):
    first = changes.membership_pause(membership=membership, weeks=2)

    second = changes.membership_pause(membership=membership, weeks=3)

    assert second.paused_until == first.paused_until
    assert MembershipPause.objects.filter(membership=membership).count() == 1


def test_a_plan_that_does_not_allow_pausing_refuses(membership):
    with pytest.raises(MembershipError, match="cannot be paused"):
        changes.membership_pause(membership=membership, weeks=1)
    assert Membership.objects.get(pk=membership.pk).status == Membership.Status.ACTIVE


@pytest.mark.parametrize("weeks", [0, 5])
def test_a_pause_longer_than_the_plan_allows_is_refused(membership, pausable, weeks):
    with pytest.raises(MembershipError, match="1 to 4 weeks"):
        changes.membership_pause(membership=membership, weeks=weeks)


def test_pauses_are_limited_per_twelve_months(membership, pausable):
    MembershipPauseFactory(membership=membership, starts_at=timezone.now() - timedelta(days=300))
    MembershipPauseFactory(membership=membership, starts_at=timezone.now() - timedelta(days=100))
    MembershipPauseFactory(membership=membership, starts_at=timezone.now() - timedelta(days=400))  # too old

    with pytest.raises(MembershipError, match="2 pauses in any 12 months") as error:
        changes.membership_pause(membership=membership, weeks=1)

    again = services.local_date(timezone.now() + timedelta(days=65), membership.organiser)
    assert str(again) in str(error.value)


def test_a_cancelled_or_overdue_membership_cannot_be_paused(membership, pausable):
    services.membership_cancel(membership=membership)
    with pytest.raises(MembershipError, match="cancelled"):
        changes.membership_pause(membership=membership, weeks=1)

    Membership.objects.filter(pk=membership.pk).update(cancel_at_period_end=False, status="past_due")
    with pytest.raises(MembershipError, match="Only an active membership"):
        changes.membership_pause(membership=membership, weeks=1)


def test_a_renewal_inside_a_pause_is_not_charged(membership, pausable):
    end = membership.current_period_end
    changes.membership_pause(membership=membership, weeks=4, now=end - timedelta(days=1))

    services.membership_advance_due(now=end + timedelta(minutes=1))

    renewal = MembershipInvoice.objects.filter(membership=membership).order_by("-issued_at").first()
    assert (renewal.status, renewal.amount_paid, renewal.period_start) == ("void", 0, end)


def test_the_pause_ends_by_itself_on_the_chosen_day(membership, pausable, booker, organiser):
    paused = changes.membership_pause(membership=membership, weeks=1)

    assert changes.membership_pause_end_due(now=paused.paused_until - timedelta(minutes=1)) == 0
    assert changes.membership_pause_end_due(now=paused.paused_until + timedelta(minutes=1)) == 1

    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE and membership.paused_until is None
    assert MembershipPause.objects.get(membership=membership).ended_at is not None
    assert services.membership_discount_for(user=booker, organiser=organiser)[0] == 10


def test_a_pause_that_cannot_end_at_stripe_does_not_stop_the_others(
    membership, pausable, fake_stripe, plan, booker
):
    from portal.exceptions import PaymentError

    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")
    changes.membership_pause(membership=membership, weeks=1)
    offline = MembershipFactory(plan=MembershipPlanFactory(organiser=plan.organiser, pause_allowed=True))
    changes.membership_pause(membership=offline, weeks=1)

    def unreachable(**kwargs):
        raise PaymentError("Stripe could not be reached just now.")

    fake_stripe.unpause_subscription = unreachable
    later = timezone.now() + timedelta(weeks=2)

    assert changes.membership_pause_end_due(now=later) == 1
    assert Membership.objects.get(pk=offline.pk).status == Membership.Status.ACTIVE
    assert Membership.objects.get(pk=membership.pk).status == Membership.Status.PAUSED  # next hour


def test_a_member_resumes_early_and_resuming_twice_is_harmless(membership, pausable):
    changes.membership_pause(membership=membership, weeks=3)

    first = changes.membership_pause_end(membership=membership)
    second = changes.membership_pause_end(membership=membership)

    assert first.status == second.status == Membership.Status.ACTIVE
    assert MembershipPause.objects.filter(membership=membership, ended_at__isnull=True).count() == 0


def test_pausing_with_stripe_pauses_collection_and_follows_stripe(membership, pausable, fake_stripe):
    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")

    paused = changes.membership_pause(membership=membership, weeks=2)

    name, call = fake_stripe.calls[-1]
    assert name == "pause" and call["reference"] == "sub_fake"
    assert call["idempotency_key"] == f"membership-{membership.code}-pause-1"
    assert paused.status == Membership.Status.PAUSED and paused.paused_until == call["resumes_at"]
    assert MembershipPause.objects.get(membership=membership).resumes_at == call["resumes_at"]

    resumed = changes.membership_pause_end(membership=membership)

    assert fake_stripe.calls[-1][0] == "unpause"
    assert resumed.status == Membership.Status.ACTIVE and resumed.paused_until is None
    assert MembershipPause.objects.get(membership=membership).ended_at is not None


def test_a_pause_ended_by_stripe_is_closed_when_the_webhook_syncs_it(membership, pausable, fake_stripe):
    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")
    changes.membership_pause(membership=membership, weeks=2)
    fake_stripe.set_subscription("sub_fake", status="active", paused_until=None)  # Stripe resumed it

    services.membership_sync_subscription(subscription_reference="sub_fake")

    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert MembershipPause.objects.get(membership=membership).ended_at is not None


@pytest.mark.postgres
def test_pausing_and_switching_lock_the_membership_row(membership, pausable, organiser):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    other = MembershipPlanFactory(organiser=organiser, price=4000, pause_allowed=True)
    now = timezone.now().replace(microsecond=0)
    for change in (
        lambda: changes.membership_switch(membership=membership, plan=other, proration_date=now),
        lambda: changes.membership_pause(membership=membership, weeks=1),
        lambda: changes.membership_pause_end(membership=membership),
    ):
        with CaptureQueriesContext(connection) as queries:
            change()
        assert any("FOR UPDATE" in q["sql"] for q in queries.captured_queries)


# Switch plan -------------------------------------------------------------------------------


@pytest.fixture
def dearer(organiser):
    return MembershipPlanFactory(organiser=organiser, name="Unlimited Plus", price=6000, discount_percent=25)


def halfway(membership):
    start = datetime(2030, 3, 1, tzinfo=UTC)
    Membership.objects.filter(pk=membership.pk).update(
        current_period_start=start, current_period_end=start + timedelta(days=30)
    )
    membership.refresh_from_db()
    return start + timedelta(days=15)


def test_the_offline_preview_prorates_both_plans_for_the_rest_of_the_period(membership, dearer):
    at = halfway(membership)

    preview = changes.membership_switch_preview(membership=membership, plan=dearer, now=at)

    assert (preview.credit, preview.charge, preview.net) == (1500, 3000, 1500)
    assert preview.next_invoice_amount == 6000 + 1500
    assert preview.next_invoice_at == membership.current_period_end


def test_switching_offline_moves_to_the_new_plan_and_bills_the_difference_next(membership, dearer, booker):
    at = halfway(membership)

    switched = changes.membership_switch(membership=membership, plan=dearer, proration_date=at, now=at)

    assert switched.plan == dearer and switched.proration_pending == 1500
    assert services.membership_discount_for(user=booker, organiser=dearer.organiser)[0] == 25
    services.membership_advance_due(now=membership.current_period_end + timedelta(minutes=1))
    renewal = MembershipInvoice.objects.filter(membership=membership).order_by("-issued_at").first()
    assert renewal.amount_paid == 7500
    assert Membership.objects.get(pk=membership.pk).proration_pending == 0


def test_switching_to_a_cheaper_plan_leaves_a_credit_on_the_next_invoice(membership, organiser):
    cheaper = MembershipPlanFactory(organiser=organiser, name="Off-peak", price=1000)
    at = halfway(membership)

    preview = changes.membership_switch_preview(membership=membership, plan=cheaper, now=at)
    changes.membership_switch(membership=membership, plan=cheaper, proration_date=at, now=at)

    assert (preview.net, preview.net_credit, preview.next_invoice_amount) == (-1000, 1000, 0)
    assert Membership.objects.get(pk=membership.pk).proration_pending == -1000


def test_a_second_switch_in_the_same_period_previews_both_differences(membership, dearer, organiser):
    at = halfway(membership)
    changes.membership_switch(membership=membership, plan=dearer, proration_date=at, now=at)  # +1500
    back = MembershipPlanFactory(organiser=organiser, name="Back again", price=3000)
    membership.refresh_from_db()

    preview = changes.membership_switch_preview(membership=membership, plan=back, now=at)

    assert preview.net == -1500
    assert preview.next_invoice_amount == 3000  # 3000 - 1500 + the earlier 1500


def test_confirming_the_same_switch_twice_bills_once(membership, dearer):
    at = halfway(membership)

    changes.membership_switch(membership=membership, plan=dearer, proration_date=at, now=at)
    again = changes.membership_switch(membership=membership, plan=dearer, proration_date=at, now=at)

    assert again.proration_pending == 1500


def test_an_old_quote_is_refused(membership, dearer):
    at = halfway(membership)

    with pytest.raises(MembershipError, match="out of date"):
        changes.membership_switch(
            membership=membership, plan=dearer, proration_date=at, now=at + timedelta(hours=1)
        )
    assert Membership.objects.get(pk=membership.pk).plan_id == membership.plan_id


def test_only_the_same_organisers_offered_plans(membership, other_organiser, organiser):
    elsewhere = MembershipPlanFactory(organiser=other_organiser)
    withdrawn = MembershipPlanFactory(organiser=organiser, is_offered=False)

    for plan, message in [
        (elsewhere, "not available"),
        (withdrawn, "not available"),
        (membership.plan, "already on"),
    ]:
        with pytest.raises(MembershipError, match=message):
            changes.membership_switch_preview(membership=membership, plan=plan)


def test_a_plan_already_held_cannot_be_switched_to(membership, dearer, booker):
    MembershipFactory(plan=dearer, user=booker)

    with pytest.raises(MembershipError, match="already hold"):
        changes.membership_switch_preview(membership=membership, plan=dearer)


def test_a_paused_or_cancelled_membership_cannot_switch(membership, dearer):
    membership = services.membership_cancel(membership=membership)
    with pytest.raises(MembershipError, match="cancelled"):
        changes.membership_switch_preview(membership=membership, plan=dearer)

    Membership.objects.filter(pk=membership.pk).update(cancel_at_period_end=False, status="paused")
    membership.refresh_from_db()
    with pytest.raises(MembershipError, match="Only an active membership"):
        changes.membership_switch_preview(membership=membership, plan=dearer)


def test_switching_with_stripe_sends_the_previewed_moment_and_follows_stripe(membership, dearer, fake_stripe):
    as_stripe(membership)
    fake_stripe.set_subscription("sub_fake")
    at = timezone.now().replace(microsecond=0)

    preview = changes.membership_switch_preview(membership=membership, plan=dearer, now=at)
    switched = changes.membership_switch(
        membership=membership, plan=dearer, proration_date=preview.proration_date
    )

    name, call = fake_stripe.calls[-1]
    assert name == "switch"
    assert call["proration_date"] == at and call["new_amount"] == 6000
    assert (
        call["idempotency_key"] == f"membership-{membership.code}-switch-{dearer.code}-{int(at.timestamp())}"
    )
    assert call["metadata"]["plan"] == str(dearer.code)
    assert switched.plan == dearer and switched.proration_pending == 0  # Stripe keeps the proration


def test_a_plan_switched_at_stripe_is_followed_by_the_webhook(membership, dearer, fake_stripe):
    as_stripe(membership)
    fake_stripe.set_subscription(
        "sub_fake", metadata={"membership": str(membership.code), "plan": str(dearer.code)}
    )

    services.membership_sync_subscription(subscription_reference="sub_fake")

    assert Membership.objects.get(pk=membership.pk).plan == dearer


# Retried after a Stripe error: the same idempotency key, so Stripe applies the change once -----


@pytest.fixture
def flaky(monkeypatch):
    import stripe

    from portal import payments
    from tests.security.test_stripe_reliability import FlakyStripe

    def install(subscription, fail_first):
        recorder = FlakyStripe(
            {"/v1/subscriptions/sub_1": subscription, "/v1/products": {"id": "prod_2", "object": "product"}},
            fail_first=fail_first,
        )
        gateway = payments.StripeGateway("sk_test_recorded")
        gateway.client = stripe.StripeClient("sk_test_recorded", http_client=recorder, max_network_retries=0)
        monkeypatch.setattr("memberships.changes.get_gateway", lambda: gateway)
        monkeypatch.setattr("memberships.services.get_gateway", lambda: gateway)
        return recorder

    return install


def retried(call):
    from portal.exceptions import PaymentError

    with pytest.raises(PaymentError):
        call()
    return call()


STRIPE_SUBSCRIPTION = {
    "id": "sub_1",
    "object": "subscription",
    "status": "active",
    "customer": "cus_1",
    "items": {
        "object": "list",
        "data": [
            {
                "id": "si_1",
                "object": "subscription_item",
                "price": {"id": "price_1", "object": "price", "product": "prod_1"},
                "current_period_start": 1_790_000_000,
                "current_period_end": 1_792_600_000,
            }
        ],
    },
}


def test_a_pause_retried_after_a_stripe_error_sends_the_same_key(flaky, membership, pausable):
    as_stripe(membership, "sub_1")
    resumes = int(changes.pause_resumes_at(membership, 2).timestamp())
    paused = {**STRIPE_SUBSCRIPTION, "pause_collection": {"behavior": "void", "resumes_at": resumes}}
    recorder = flaky(paused, fail_first=["/v1/subscriptions/sub_1"])

    result = retried(lambda: changes.membership_pause(membership=membership, weeks=2))

    assert recorder.keys("/v1/subscriptions/sub_1") == [f"membership-{membership.code}-pause-1"] * 2
    assert result.status == Membership.Status.PAUSED
    assert MembershipPause.objects.filter(membership=membership).count() == 1


def test_a_switch_retried_after_a_stripe_error_sends_the_same_keys(flaky, membership, organiser):
    dearer = MembershipPlanFactory(organiser=organiser, price=6000)
    as_stripe(membership, "sub_1")
    switched = {
        **STRIPE_SUBSCRIPTION,
        "metadata": {"membership": str(membership.code), "plan": str(dearer.code)},
    }
    recorder = flaky(switched, fail_first=["/v1/subscriptions/sub_1"])
    at = timezone.now().replace(microsecond=0)

    result = retried(lambda: changes.membership_switch(membership=membership, plan=dearer, proration_date=at))

    key = f"membership-{membership.code}-switch-{dearer.code}-{int(at.timestamp())}"
    assert recorder.keys("/v1/subscriptions/sub_1") == [key] * 2
    assert set(recorder.keys("/v1/products")) == {f"{key}-product"}
    assert result.plan == dearer


def test_the_pause_email_speaks_the_members_language(
    membership, pausable, mailoutbox, django_capture_on_commit_callbacks
):
    membership.user.language = "de"
    membership.user.save()

    with django_capture_on_commit_callbacks(execute=True):
        changes.membership_pause(membership=membership, weeks=1)

    [email] = mailoutbox
    assert email.subject == "Ihre Mitgliedschaft Monthly Unlimited ist pausiert"
    assert "startet an diesem Tag von selbst wieder" in email.body
