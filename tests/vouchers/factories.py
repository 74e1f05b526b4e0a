"""Voucher factories. Each takes its organiser from its parent, so nothing straddles tenants."""

from __future__ import annotations

import factory
from django.utils import timezone

from tests.factories import BookingFactory, OrganiserFactory, TenantFactory
from vouchers.models import Voucher, VoucherRedemption


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    organiser = factory.SubFactory(OrganiserFactory)
    source = Voucher.Source.ISSUED
    status = Voucher.Status.ACTIVE
    value = 5000
    balance = factory.SelfAttribute("value")
    currency = factory.SelfAttribute("organiser.currency")
    recipient_name = "Rae Recipient"
    recipient_email = factory.Sequence(lambda n: f"recipient{n}@example.com")
    paid_at = factory.LazyFunction(timezone.now)


class VoucherRedemptionFactory(TenantFactory):
    _parent = "voucher"

    class Meta:
        model = VoucherRedemption

    organiser = factory.SubFactory(OrganiserFactory)
    voucher = factory.SubFactory(VoucherFactory, organiser=factory.SelfAttribute("..organiser"))
    booking = factory.SubFactory(
        BookingFactory, organiser=factory.SelfAttribute("..organiser"), total=0, payment_method="voucher"
    )
    amount = 1000


VOUCHER_FACTORIES = [VoucherFactory, VoucherRedemptionFactory]
