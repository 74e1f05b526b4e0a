from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from memberships import services
from memberships.models import Membership, MembershipBookingUse
from memberships.services import MembershipError
from portal.models import Organiser
from portal.payments import add_interval
from tests.memberships.factories import MembershipFactory, MembershipPlanFactory

pytestmark = pytest.mark.django_db

URLS = {"success_url": "https://portal.test/ok", "cancel_url": "https://portal.test/no"}


# Discounts and included bookings, for the booking service ---------------------------------


def test_an_active_member_gets_the_plans_discount(membership, booker, organiser):
    assert services.membership_discount_for(user=booker, organiser=organiser) == (10, membership)


def test_no_discount_without_a_membership_at_that_organiser(
    membership, booker, other_booker, other_organiser
):
    assert services.membership_discount_for(user=other_booker, organiser=membership.organiser) == (0, None)
    assert services.membership_discount_for(user=booker, organiser=other_organiser) == (0, None)
    assert services.membership_discount_for(user=AnonymousUser(), organiser=membership.organiser) == (0, None)
    assert services.membership_discount_for(user=None, organiser=membership.organiser) == (0, None)


def test_an_ended_membership_gives_no_discount(ended_membership, booker, organiser):
    assert services.membership_discount_for(user=booker, organiser=organiser) == (0, None)


def test_a_cancelled_membership_keeps_its_discount_until_the_period_ends(membership, booker, organiser):
    services.membership_cancel(membership=membership)

    assert services.membership_discount_for(user=booker, organiser=organiser) == (10, membership)


def test_a_free_plan_organiser_gives_no_member_discount(membership, booker, organiser):
    organiser.plan = Organiser.Plan.FREE
    organiser.save()

    assert services.membership_discount_for(user=booker, organiser=organiser) == (0, None)


def test_the_biggest_discount_wins(membership, booker, organiser):
    better = MembershipFactory(
        plan=MembershipPlanFactory(organiser=organiser, discount_percent=25), user=booker
    )

    assert services.membership_discount_for(user=booker, organiser=organiser) == (25, better)


def test_included_bookings_are_counted_per_period(booker, organiser):
    plan = MembershipPlanFactory(organiser=organiser, discount_percent=0, included_bookings=2)
    membership = MembershipFactory(plan=plan, user=booker)

    services.membership_use_included_booking(membership=membership, booking_reference="AAAA1111")
    services.membership_use_included_booking(membership=membership, booking_reference="AAAA1111")  # no-op
    benefit = services.membership_benefit_for(user=booker, organiser=organiser)
    services.membership_use_included_booking(membership=membership, booking_reference="BBBB2222")

    assert benefit.included_bookings_left == 1
    with pytest.raises(MembershipError, match="all been used"):
        services.membership_use_included_booking(membership=membership, booking_reference="CCCC3333")
    assert MembershipBookingUse.objects.filter(membership=membership).count() == 2
    assert services.membership_discount_for(user=booker, organiser=organiser) == (0, None)


def test_a_new_period_brings_new_included_bookings(booker, organiser):
    plan = MembershipPlanFactory(organiser=organiser, included_bookings=1)
    membership = MembershipFactory(plan=plan, user=booker)
    services.membership_use_included_booking(membership=membership, booking_reference="AAAA1111")
    membership.current_period_start = membership.current_period_end
    membership.save()

    assert services.membership_benefit_for(user=booker, organiser=organiser).included_bookings_left == 1


# Subscribing -------------------------------------------------------------------------------


def test_offline_subscribing_goes_through_the_same_path_as_stripe(plan, booker):
    result = services.membership_subscribe(user=booker, plan=plan, **URLS)

    membership = result.membership
    assert result.redirect_url == ""
    assert membership.gateway == "offline"
    assert membership.subscription_reference.startswith("offline_sub_")
    assert membership.customer_reference.startswith("offline_cus_")
    assert membership.current_period_end == add_interval(membership.current_period_start, "month")
    assert membership.invoices.get().period_end == membership.current_period_end


def test_subscribing_with_stripe_reuses_the_pending_row_and_customer(plan, booker, fake_stripe):
    first = services.membership_subscribe(user=booker, plan=plan, **URLS)
    second = services.membership_subscribe(user=booker, plan=plan, **URLS)

    assert first.membership.pk == second.membership.pk
    assert [name for name, _ in fake_stripe.calls] == [
        "create_customer",
        "start_subscription",
        "start_subscription",
    ]
    _, customer = fake_stripe.calls[0]
    assert customer["idempotency_key"] == f"membership-{first.membership.code}-customer"
    _, checkout = fake_stripe.calls[1]
    assert checkout["idempotency_key"].startswith(f"membership-{first.membership.code}-checkout-")
    assert (checkout["amount"], checkout["currency"], checkout["interval"]) == (3000, "GBP", "month")


def test_an_ended_membership_can_be_joined_again(ended_membership, booker):
    result = services.membership_subscribe(user=booker, plan=ended_membership.plan, **URLS)

    assert result.membership.pk != ended_membership.pk
    assert result.membership.status == Membership.Status.ACTIVE


# Cancelling --------------------------------------------------------------------------------


def test_cancelling_with_stripe_applies_stripes_answer(membership, fake_stripe):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", subscription_reference="sub_fake")
    fake_stripe.set_subscription("sub_fake")

    cancelled = services.membership_cancel(membership=membership)

    assert fake_stripe.calls == [
        ("cancel", {"reference": "sub_fake", "idempotency_key": f"membership-{membership.code}-cancel"})
    ]
    assert cancelled.cancel_at_period_end and cancelled.ends_on == fake_stripe.period[1]


def test_a_stripe_membership_not_yet_confirmed_cannot_be_cancelled(membership, fake_stripe):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", subscription_reference="")

    with pytest.raises(MembershipError, match="still confirming"):
        services.membership_cancel(membership=membership)
    assert fake_stripe.calls == []


def test_an_ended_membership_cannot_be_cancelled(ended_membership):
    with pytest.raises(MembershipError, match="already ended"):
        services.membership_cancel(membership=ended_membership)


@pytest.mark.postgres
def test_cancelling_locks_the_membership_row(membership):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.membership_cancel(membership=membership)

    assert any("FOR UPDATE" in q["sql"] for q in queries.captured_queries)


# Offline renewals --------------------------------------------------------------------------


def test_an_offline_membership_renews_with_a_new_invoice(membership):
    end = membership.current_period_end

    services.membership_advance_due(now=end + timedelta(minutes=1))

    membership.refresh_from_db()
    assert membership.current_period_start == end
    assert membership.current_period_end == add_interval(end, "month")
    assert membership.invoices.count() == 2


def test_a_cancelled_offline_membership_ends_at_the_period_end(membership):
    services.membership_cancel(membership=membership)
    end = membership.current_period_end

    services.membership_advance_due(now=end + timedelta(minutes=1))

    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELED
    assert membership.ended_at == end
    assert membership.invoices.count() == 1


def test_stripe_memberships_are_left_to_stripe(membership):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe")

    assert services.membership_advance_due(now=membership.current_period_end + timedelta(days=1)) == 0


def test_a_month_on_from_the_31st_is_the_end_of_the_next_month():
    moment = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)

    assert add_interval(moment, "month") == datetime(2027, 2, 28, 9, 0, tzinfo=UTC)
    assert add_interval(moment, "year") == datetime(2028, 1, 31, 9, 0, tzinfo=UTC)


def test_local_dates_use_the_organisers_time_zone(organiser):
    organiser.time_zone = "America/New_York"

    assert services.local_date(datetime(2030, 3, 1, 2, 0, tzinfo=UTC), organiser) == "28 February 2030"
    assert services.local_date(None, organiser) == ""
    assert timezone.is_aware(timezone.now())
