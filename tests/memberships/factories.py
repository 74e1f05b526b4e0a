"""Membership factories. Each takes its organiser from its parent, so nothing straddles tenants."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from memberships.models import (
    Membership,
    MembershipBookingUse,
    MembershipChange,
    MembershipInvoice,
    MembershipPause,
    MembershipPlan,
)
from tests.factories import OrganiserFactory, TenantFactory, UserFactory


class MembershipPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MembershipPlan

    organiser = factory.SubFactory(OrganiserFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    price = 3000
    interval = MembershipPlan.Interval.MONTH
    discount_percent = 10


class MembershipFactory(TenantFactory):
    _parent = "plan"

    class Meta:
        model = Membership

    organiser = factory.SubFactory(OrganiserFactory)
    plan = factory.SubFactory(MembershipPlanFactory, organiser=factory.SelfAttribute("..organiser"))
    user = factory.SubFactory(UserFactory)
    status = Membership.Status.ACTIVE
    gateway = "offline"
    customer_reference = factory.Sequence(lambda n: f"offline_cus_{n}")
    subscription_reference = factory.Sequence(lambda n: f"offline_sub_{n}")
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))
    current_period_start = factory.SelfAttribute("started_at")
    current_period_end = factory.LazyAttribute(lambda m: m.current_period_start + timedelta(days=30))


class MembershipInvoiceFactory(TenantFactory):
    _parent = "membership"

    class Meta:
        model = MembershipInvoice

    organiser = factory.SubFactory(OrganiserFactory)
    membership = factory.SubFactory(MembershipFactory, organiser=factory.SelfAttribute("..organiser"))
    reference = factory.Sequence(lambda n: f"offline_in_{n}")
    number = factory.Sequence(lambda n: f"INV-{n:04d}")
    status = MembershipInvoice.Status.PAID
    amount_due = 3000
    amount_paid = 3000
    currency = "GBP"


class MembershipBookingUseFactory(TenantFactory):
    _parent = "membership"

    class Meta:
        model = MembershipBookingUse

    organiser = factory.SubFactory(OrganiserFactory)
    membership = factory.SubFactory(MembershipFactory, organiser=factory.SelfAttribute("..organiser"))
    booking_reference = factory.Sequence(lambda n: f"BOOK{n:04d}")
    period_start = factory.LazyFunction(timezone.now)


class MembershipPauseFactory(TenantFactory):
    _parent = "membership"

    class Meta:
        model = MembershipPause

    organiser = factory.SubFactory(OrganiserFactory)
    membership = factory.SubFactory(MembershipFactory, organiser=factory.SelfAttribute("..organiser"))
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=100))
    resumes_at = factory.LazyAttribute(lambda p: p.starts_at + timedelta(weeks=2))
    ended_at = factory.SelfAttribute("resumes_at")


class MembershipChangeFactory(TenantFactory):
    _parent = "membership"

    class Meta:
        model = MembershipChange

    organiser = factory.SubFactory(OrganiserFactory)
    membership = factory.SubFactory(MembershipFactory, organiser=factory.SelfAttribute("..organiser"))
    kind = MembershipChange.Kind.RESUMED
    key = factory.Sequence(lambda n: f"change-{n}")
    plan = factory.SelfAttribute("membership.plan")


MEMBERSHIP_FACTORIES = [
    MembershipPlanFactory,
    MembershipFactory,
    MembershipInvoiceFactory,
    MembershipBookingUseFactory,
    MembershipPauseFactory,
    MembershipChangeFactory,
]
