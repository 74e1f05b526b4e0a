"""The demo has a pass type, and the demo booker a pass with uses left and a voucher with a
balance; seeding twice changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from passes.models import Pass, PassType
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def seed():
    call_command("seed_demo", stdout=open("/dev/null", "w"))


def rows():
    return [
        sorted(
            model.objects.values_list(
                *[f.attname for f in model._meta.concrete_fields if f.attname != "updated_at"]
            )
        )
        for model in (PassType, Pass, Voucher)
    ]


def test_the_demo_booker_has_a_pass_and_vouchers_and_seeding_twice_changes_nothing(client):
    seed()
    first = rows()
    seed()
    assert rows() == first

    assert PassType.objects.filter(organiser__slug="riverside-yoga").exists()
    assert Pass.objects.filter(user__email="demo@example.com", uses_left__gt=0).exists()
    client.login(username="demo@example.com", password="portal-demo-2026")
    passes = client.get(reverse("passes:pass_list")).content.decode()
    vouchers = client.get(reverse("vouchers:voucher_list")).content.decode()
    assert "Five-class pass" in passes and "3 of 5" in passes
    assert "RVSY-GAGF-TVCH-R2R7" in vouchers and "£18.00 of £30.00" in vouchers
    assert "RVSY-GFTF-RNDV-CH22" in vouchers  # bought for Sam
