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


def test_the_demo_booker_has_a_recent_pass_within_its_withdrawal_period(client):
    from passes.demo import RECENT_PASS_CODE
    from portal import withdrawals

    seed()
    client.login(username="demo@example.com", password="portal-demo-2026")
    passes = client.get(reverse("passes:pass_list")).content.decode()
    assert "Ten-class pass" in passes and "10 of 10" in passes
    assert reverse("withdrawal_confirm", kwargs={"kind": "pass", "code": RECENT_PASS_CODE}) in passes
    old = Pass.objects.get(user__email="demo@example.com", pass_type__name="Five-class pass")
    contract = withdrawals.withdrawal_contract_get(user=old.user, kind="pass", code=str(old.code))
    assert not withdrawals.withdrawal_open(contract)  # bought 20 days ago
