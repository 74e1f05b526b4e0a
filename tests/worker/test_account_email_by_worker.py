"""allauth's emails, like ours, are sent by a real Celery worker, not by the web request."""

from __future__ import annotations

import email
import time

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AccountEmail
from tests.worker.test_confirmation_by_worker import wait_for_files

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_password_reset_email_is_sent_by_the_worker(celery_worker_process, booker, settings):
    settings.SITE_URL = "https://portal.example"

    response = Client().post(reverse("account_reset_password"), {"email": booker.email})

    assert response.status_code == 302
    assert mail.outbox == []  # the request only queued it
    (sent,) = wait_for_files(celery_worker_process, 1)
    message = email.message_from_bytes(sent.read_bytes())
    assert message["To"] == booker.email
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    assert "https://portal.example/accounts/password/reset/key/" in text.get_payload(decode=True).decode()
    deadline = time.monotonic() + 10
    while AccountEmail.objects.exists():  # sent, then deleted: its key is not kept
        assert time.monotonic() < deadline, "the worker kept the sent message"
        time.sleep(0.05)
