"""Buying a pass or a voucher never reaches across organisers or bookers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from passes import services as passes
from passes.models import Pass
from tests.passes.factories import PassTypeFactory
from vouchers import services as vouchers
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def test_another_organisers_pass_type_is_not_for_sale_under_this_organiser(
    client_as_booker, organiser, other_organiser
):
    theirs = PassTypeFactory(organiser=other_organiser, price=4500)
    url = reverse("passes_public:pass_buy", args=[organiser.slug, theirs.code])

    assert client_as_booker.get(url).status_code == 404
    assert client_as_booker.post(url, {"idempotency_key": "cross"}).status_code == 404
    assert not Pass.objects.exists()


def test_a_pass_type_not_on_sale_cannot_be_bought(client_as_booker, organiser):
    hidden = PassTypeFactory(organiser=organiser, price=4500, is_offered=False)
    url = reverse("passes_public:pass_buy", args=[organiser.slug, hidden.code])

    assert client_as_booker.post(url, {"idempotency_key": "hidden"}).status_code == 404
    assert not Pass.objects.exists()


def test_another_bookers_purchase_key_never_hands_over_their_pass(booker, other_booker, organiser):
    pass_type = PassTypeFactory(organiser=organiser, price=4500)
    urls = {"success_url": "http://testserver/ok", "cancel_url": "http://testserver/back"}
    theirs = passes.pass_buy(user=other_booker, pass_type=pass_type, idempotency_key="k1", **urls).pass_

    with pytest.raises(passes.PassError):
        passes.pass_buy(user=booker, pass_type=pass_type, idempotency_key="k1", **urls)

    assert list(Pass.objects.values_list("pk", "user")) == [(theirs.pk, other_booker.pk)]


def test_another_bookers_purchase_key_never_hands_over_their_voucher(booker, other_booker, organiser):
    order = {
        "organiser": organiser,
        "value": 2500,
        "recipient_name": "Rae",
        "recipient_email": "rae@example.com",
        "success_url": "http://testserver/ok",
        "cancel_url": "http://testserver/back",
        "idempotency_key": "k1",
    }
    theirs = vouchers.voucher_buy(user=other_booker, **order).voucher

    with pytest.raises(vouchers.VoucherError):
        vouchers.voucher_buy(user=booker, **order)

    assert list(Voucher.objects.values_list("pk", "buyer")) == [(theirs.pk, other_booker.pk)]
