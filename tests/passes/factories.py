"""Pass factories. Each takes its organiser from its parent, so nothing straddles tenants."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from passes.models import Pass, PassRedemption, PassType
from tests.factories import BookingFactory, OrganiserFactory, TenantFactory, UserFactory


class PassTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PassType

    organiser = factory.SubFactory(OrganiserFactory)
    name = factory.Sequence(lambda n: f"Class pass {n}")
    price = 6000
    uses_included = 5
    validity = PassType.Validity.DAYS
    validity_days = 90


class PassFactory(TenantFactory):
    _parent = "pass_type"

    class Meta:
        model = Pass

    organiser = factory.SubFactory(OrganiserFactory)
    pass_type = factory.SubFactory(PassTypeFactory, organiser=factory.SelfAttribute("..organiser"))
    user = factory.SubFactory(UserFactory)
    buyer_email = factory.LazyAttribute(lambda p: p.user.email if p.user else "buyer@example.com")
    status = Pass.Status.ACTIVE
    uses_included = factory.SelfAttribute("pass_type.uses_included")
    uses_left = factory.SelfAttribute("uses_included")
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=60))
    price = factory.SelfAttribute("pass_type.price")
    currency = factory.SelfAttribute("organiser.currency")
    paid_at = factory.LazyFunction(timezone.now)


class PassRedemptionFactory(TenantFactory):
    _parent = "booker_pass"

    class Meta:
        model = PassRedemption

    organiser = factory.SubFactory(OrganiserFactory)
    booker_pass = factory.SubFactory(PassFactory, organiser=factory.SelfAttribute("..organiser"))
    booking = factory.SubFactory(
        BookingFactory,
        organiser=factory.SelfAttribute("..organiser"),
        total=0,
        payment_method="pass",
    )
    uses = 1


PASS_FACTORIES = [PassTypeFactory, PassFactory, PassRedemptionFactory]
