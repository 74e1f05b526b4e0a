"""Buying a gift voucher emails the buyer once, in their language, with its receipt (page and
PDF); the code goes to the recipient in an email of its own."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from tests.stripe_helpers import event
from tests.vouchers.factories import VoucherFactory
from vouchers import services
from vouchers.emails import voucher_send_purchase
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def buy(booker, organiser, key="gift-1", recipient_email="rae@example.com"):
    return services.voucher_buy(
        user=booker,
        organiser=organiser,
        value=2500,
        recipient_name="Rae",
        recipient_email=recipient_email,
        success_url="/ok",
        cancel_url="/no",
        idempotency_key=key,
    )


def to_buyer(booker):
    return [m for m in mail.outbox if m.to == [booker.email]]


def test_buying_a_voucher_emails_the_buyer_once_with_its_receipt_and_the_recipient_the_code(
    organiser, booker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = buy(booker, organiser).voucher
    with django_capture_on_commit_callbacks(execute=True):
        buy(booker, organiser)  # the same form posted again

    assert sorted(m.to[0] for m in mail.outbox) == [booker.email, "rae@example.com"]
    (receipt,) = to_buyer(booker)
    assert "£25.00" in receipt.subject and "Rae" in receipt.body
    assert f"/receipts/voucher/{voucher.public_id}/" in receipt.body
    assert f"/receipts/voucher/{voucher.public_id}/pdf/" in receipt.body
    assert voucher.display_code not in receipt.body  # the code is the recipient's
    assert voucher_send_purchase(voucher_id=voucher.pk) is False


def test_a_voucher_without_a_recipient_email_still_gets_one_receipt_email(
    organiser, booker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = buy(booker, organiser, recipient_email="").voucher

    assert len(mail.outbox) == 2 and all(m.to == [booker.email] for m in mail.outbox)
    assert sum(f"/receipts/voucher/{voucher.public_id}/" in m.body for m in mail.outbox) == 1


def test_the_email_speaks_the_buyers_language(organiser, booker, django_capture_on_commit_callbacks):
    booker.language = "de"
    booker.save()
    with django_capture_on_commit_callbacks(execute=True):
        voucher = buy(booker, organiser).voucher

    (receipt,) = to_buyer(booker)
    assert f"/receipts/voucher/{voucher.public_id}/?lang=de" in receipt.body
    assert f"/receipts/voucher/{voucher.public_id}/pdf/?lang=de" in receipt.body


def test_an_issued_voucher_sends_no_receipt(organiser, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = services.voucher_issue(organiser=organiser, value=1000, recipient_email="kim@example.com")

    assert [m.to for m in mail.outbox] == [["kim@example.com"]]
    assert voucher_send_purchase(voucher_id=voucher.pk) is False


def test_a_voucher_paid_through_stripe_is_emailed_once_however_often_the_webhook_comes(
    organiser, booker, deliver
):
    pending = VoucherFactory(
        organiser=organiser,
        buyer=booker,
        buyer_email=booker.email,
        source="bought",
        status="pending",
        paid_at=None,
    )
    session = {
        "id": "cs_voucher_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": "pi_voucher_1",
        "metadata": {"voucher": str(pending.public_id), "organiser": organiser.slug},
    }

    deliver(event("evt_voucher_1", "checkout.session.completed", session))
    deliver(event("evt_voucher_2", "checkout.session.completed", session))

    pending.refresh_from_db()
    assert pending.status == Voucher.Status.ACTIVE
    assert len(to_buyer(booker)) == 1
    assert f"/receipts/voucher/{pending.public_id}/" in to_buyer(booker)[0].body


def test_the_receipt_link_in_the_email_opens_for_the_buyer_only(
    organiser, booker, other_booker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        buy(booker, organiser)
    (receipt,) = to_buyer(booker)
    page, pdf = re.findall(rf"{re.escape(settings.SITE_URL)}(/portal/receipts/[^\s\"'<>]+)", receipt.body)[:2]

    owner, stranger = Client(), Client()
    owner.force_login(booker)
    stranger.force_login(other_booker)
    assert owner.get(page).status_code == 200
    assert owner.get(pdf)["Content-Type"] == "application/pdf"
    assert stranger.get(page).status_code == 404 and stranger.get(pdf).status_code == 404
