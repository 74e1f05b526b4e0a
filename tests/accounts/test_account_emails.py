"""allauth's emails (reset links, login codes, confirmations, notices) are rendered in the request
and sent by a Celery task after the transaction commits, exactly once and retried like every other
email: a slow or failing mail server never holds up or breaks a login page."""

from __future__ import annotations

from smtplib import SMTPException

import pytest
from allauth.account.adapter import get_adapter
from allauth.core.context import request_context
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, transaction
from django.urls import reverse

from accounts import emails
from accounts.models import AccountEmail
from accounts.tasks import account_email_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """The ids of the messages handed to the task, which does not run."""
    ids = []
    monkeypatch.setattr(account_email_send, "delay", ids.append)
    return ids


def test_a_reset_email_is_queued_by_the_request_and_sent_by_the_task(client, booker, mailoutbox, queued):
    client.post(reverse("account_reset_password"), {"email": booker.email})

    assert mailoutbox == []  # nothing sent inside the request
    (email_id,) = queued
    assert account_email_send(email_id) is True

    (message,) = mailoutbox
    assert message.to == [booker.email]
    assert "/accounts/password/reset/key/" in message.body


def test_the_task_sends_once_however_often_it_runs(client, booker, mailoutbox, queued):
    client.post(reverse("account_reset_password"), {"email": booker.email})
    (email_id,) = queued

    results = [account_email_send(email_id) for _ in range(3)]

    assert results == [True, False, False]
    assert len(mailoutbox) == 1


def test_a_sent_message_is_not_kept(client, booker, queued):
    # It holds a reset key or a login code: once delivered, there is no reason to store it.
    client.post(reverse("account_reset_password"), {"email": booker.email})
    (email_id,) = queued
    assert AccountEmail.objects.filter(pk=email_id, sent_at__isnull=True).exists()

    account_email_send(email_id)

    assert not AccountEmail.objects.filter(pk=email_id).exists()


def test_a_failed_send_is_left_unsent_for_the_retry(client, booker, mailoutbox, queued, monkeypatch):
    client.post(reverse("account_reset_password"), {"email": booker.email})
    (email_id,) = queued
    real_send = EmailMultiAlternatives.send
    monkeypatch.setattr(
        EmailMultiAlternatives, "send", lambda *a, **k: (_ for _ in ()).throw(SMTPException())
    )

    with pytest.raises(SMTPException):
        emails.account_email_send(email_id=email_id)
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)

    assert emails.account_email_send(email_id=email_id) is True
    assert len(mailoutbox) == 1


def test_the_task_retries_like_the_other_email_tasks():
    assert {SMTPException, OSError, OperationalError, InterfaceError} <= set(account_email_send.autoretry_for)
    assert account_email_send.retry_backoff and account_email_send.max_retries >= 3


def test_an_email_asked_for_inside_a_transaction_waits_for_its_commit(
    rf, booker, mailoutbox, django_capture_on_commit_callbacks
):
    request = rf.get("/")
    with django_capture_on_commit_callbacks() as callbacks, request_context(request), transaction.atomic():
        get_adapter(request).send_notification_mail(
            "account/email/password_changed", booker, email=booker.email
        )
        assert mailoutbox == []

    assert mailoutbox == []  # rolled forward only when the real commit runs the callback
    for callback in callbacks:
        callback()
    assert [message.to for message in mailoutbox] == [[booker.email]]


def test_the_eager_demo_still_delivers_at_once(client, booker, mailoutbox):
    # Without a broker (make run, the tests) Celery runs the task in-process: the mail is there.
    client.post(reverse("account_reset_password"), {"email": booker.email})

    assert len(mailoutbox) == 1
    assert not AccountEmail.objects.exists()
