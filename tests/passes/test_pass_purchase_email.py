"""Buying a pass emails the buyer once, in their language, with its receipt (page and PDF),
whether it is paid at once (offline) or when Stripe's webhook says the Checkout was paid."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from passes import services
from passes.emails import pass_send_purchase
from passes.models import Pass
from tests.passes.factories import PassFactory, PassTypeFactory
from tests.stripe_helpers import event

pytestmark = pytest.mark.django_db


def receipt_links(body: str) -> list[str]:
    return re.findall(rf"{re.escape(settings.SITE_URL)}(/portal/receipts/[^\s\"'<>]+)", body)


def buy(booker, pass_type, key="pass-1"):
    return services.pass_buy(
        user=booker, pass_type=pass_type, success_url="/ok", cancel_url="/no", idempotency_key=key
    )


def test_buying_a_pass_emails_the_buyer_once_with_links_to_its_receipt(
    organiser, booker, django_capture_on_commit_callbacks
):
    pass_type = PassTypeFactory(organiser=organiser, name="Ten classes", price=6000)
    with django_capture_on_commit_callbacks(execute=True):
        pass_ = buy(booker, pass_type).pass_
    with django_capture_on_commit_callbacks(execute=True):
        assert buy(booker, pass_type).pass_.pk == pass_.pk  # the same form posted again

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [booker.email] and "Ten classes" in message.subject
    assert "£60.00" in message.body
    assert f"/receipts/pass/{pass_.code}/" in message.body
    assert f"/receipts/pass/{pass_.code}/pdf/" in message.body
    assert f"/receipts/pass/{pass_.code}/" in message.alternatives[0][0]
    assert pass_send_purchase(pass_id=pass_.pk) is False  # a retried task sends nothing more
    pass_.refresh_from_db()
    assert pass_.purchase_email_sent_at is not None


def test_the_email_speaks_the_buyers_language_and_its_links_open_the_portal_in_it(
    organiser, booker, django_capture_on_commit_callbacks
):
    booker.language = "fr"
    booker.save()
    pass_type = PassTypeFactory(organiser=organiser)
    with django_capture_on_commit_callbacks(execute=True):
        pass_ = buy(booker, pass_type).pass_

    body = mail.outbox[0].body
    assert f"/receipts/pass/{pass_.code}/?lang=fr" in body
    assert f"/receipts/pass/{pass_.code}/pdf/?lang=fr" in body
    assert f"/passes/{pass_.code}/?lang=fr" in body


def test_a_pass_paid_through_stripe_is_emailed_once_however_often_the_webhook_comes(
    organiser, booker, deliver
):
    pending = PassFactory(organiser=organiser, user=booker, status=Pass.Status.PENDING, paid_at=None)
    session = {
        "id": "cs_pass_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": "pi_pass_1",
        "metadata": {"pass": str(pending.code), "organiser": organiser.slug},
    }

    assert deliver(event("evt_pass_1", "checkout.session.completed", session)).status_code == 200
    assert deliver(event("evt_pass_2", "checkout.session.completed", session)).status_code == 200

    pending.refresh_from_db()
    assert pending.status == Pass.Status.ACTIVE
    assert [m.to for m in mail.outbox] == [[booker.email]]
    assert f"/receipts/pass/{pending.code}/" in mail.outbox[0].body


def test_the_receipt_link_in_the_email_opens_for_the_buyer_only(
    organiser, booker, other_booker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        buy(booker, PassTypeFactory(organiser=organiser))
    page, pdf = receipt_links(mail.outbox[0].body)[:2]

    owner, stranger, visitor = Client(), Client(), Client()
    owner.force_login(booker)
    stranger.force_login(other_booker)
    assert owner.get(page).status_code == 200
    assert owner.get(pdf)["Content-Type"] == "application/pdf"
    assert stranger.get(page).status_code == 404 and stranger.get(pdf).status_code == 404
    assert visitor.get(page).status_code == 302  # to log in first
