"""Production refuses to run with settings that are only safe for the demo: a published or weak
SECRET_KEY (anyone could sign a confirmation key or a booking link), no payment gateway (the
offline one would accept every payment) and no mail server (every reset link and login code would
go to a file, or the console). The demo, with nothing set, keeps working."""

from __future__ import annotations

import re
import secrets

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from portal import payments
from tests.portal.test_settings import PRODUCTION, ROOT, manage

COMPOSE_KEY = "change-me-to-a-long-random-string-before-deploying"
EMBEDDED_KEY = "django-insecure-embedded-demo-key-never-use-in-production"
GOOD_KEY = "k3P9vQx-7LmZ2sWd_8RtYb4NcHf6JgUa1EoIpVnXzQ0wSe5yTr_AbCdEfGh"
# Everything production needs, so that each check below is about one thing.
SAFE = {
    "DEBUG": False,
    "SECRET_KEY": GOOD_KEY,
    "PAYMENT_GATEWAY": "offline",
    "STRIPE_SECRET_KEY": "",
    "EMAIL_HOST": "smtp.portal.example",
    "EMAIL_TO_FILES": False,
}


def errors(**overrides) -> set[str]:
    with override_settings(**{**SAFE, **overrides}):
        return {message.id for message in run_checks() if message.is_serious()}


# The secret key


@pytest.mark.parametrize(
    "key",
    [
        COMPOSE_KEY,  # docker-compose.yml's old default: 50 characters, so Django's own check passed it
        EMBEDDED_KEY,  # the demo's, in the repository
        "django-insecure-" + secrets.token_urlsafe(50),  # startproject's marker
        "please-change-me-" + secrets.token_urlsafe(40),
        "CHANGEME" + secrets.token_urlsafe(50),
        secrets.token_urlsafe(30),  # short
        "abcd" * 20,  # long, but four different characters
    ],
)
def test_a_published_or_weak_secret_key_is_an_error_in_production(key):
    assert "portal.E001" in errors(SECRET_KEY=key)


def test_a_long_random_secret_key_passes():
    assert "portal.E001" not in errors(SECRET_KEY=secrets.token_urlsafe(50))


def test_the_demo_keeps_its_embedded_key():
    assert "portal.E001" not in errors(DEBUG=True, SECRET_KEY=EMBEDDED_KEY)


@pytest.mark.parametrize("key", [COMPOSE_KEY, "change-me", "x" * 60])
def test_production_refuses_to_start_with_a_placeholder_or_weak_key(key):
    result = manage("check", "--deploy", **{**PRODUCTION, "SECRET_KEY": key})

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr.splitlines()[-1]


def test_docker_compose_has_no_default_secret_key():
    # A default would be public (it is in the repository): compose must stop without one.
    compose = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"^\s+SECRET_KEY: \$\{SECRET_KEY:\?[^}]+\}\s*$", compose, re.MULTILINE), compose
    assert COMPOSE_KEY not in compose


# The payment gateway


def test_production_without_a_payment_gateway_is_an_error():
    assert "portal.E002" in errors(PAYMENT_GATEWAY="")
    assert "portal.E002" in errors(PAYMENT_GATEWAY="stripe", STRIPE_SECRET_KEY="")  # no key to use
    assert "portal.E002" in errors(PAYMENT_GATEWAY="paypal")


def test_an_explicit_offline_gateway_or_a_stripe_key_passes():
    assert "portal.E002" not in errors(PAYMENT_GATEWAY="offline")
    assert "portal.E002" not in errors(PAYMENT_GATEWAY="stripe", STRIPE_SECRET_KEY="sk_live_x")


def test_production_without_stripe_or_an_explicit_offline_gateway_refuses_to_start():
    environment = {**PRODUCTION, "PAYMENT_GATEWAY": ""}

    result = manage("check", "--deploy", **environment)

    assert result.returncode != 0
    assert "PAYMENT_GATEWAY" in result.stderr.splitlines()[-1]
    assert "STRIPE_SECRET_KEY" in result.stderr.splitlines()[-1]


def test_a_stripe_key_alone_chooses_stripe_in_production():
    code = "from django.conf import settings; print(settings.PAYMENT_GATEWAY)"
    result = manage("shell", "-c", code, **{**PRODUCTION, "PAYMENT_GATEWAY": "", "STRIPE_SECRET_KEY": "sk_x"})

    assert result.stdout.strip().splitlines()[-1] == "stripe", result.stderr


def test_the_demo_takes_offline_payments_with_nothing_set():
    code = "from django.conf import settings; print(settings.PAYMENT_GATEWAY)"
    result = manage("shell", "-c", code)

    assert result.stdout.strip().splitlines()[-1] == "offline", result.stderr


def test_no_payment_is_taken_offline_unless_the_offline_gateway_was_chosen():
    # Whatever the settings say at run time, an unset gateway never falls back to "paid".
    with override_settings(PAYMENT_GATEWAY=""), pytest.raises(ImproperlyConfigured):
        payments.get_gateway()
    with override_settings(PAYMENT_GATEWAY="offline"):
        assert payments.get_gateway().name == "offline"


# Email


def test_production_without_a_mail_server_is_an_error():
    assert "portal.E003" in errors(EMAIL_HOST="")


def test_writing_mail_to_files_in_production_is_an_explicit_choice():
    assert "portal.E003" not in errors(EMAIL_HOST="", EMAIL_TO_FILES=True)


def test_production_without_a_mail_server_refuses_to_start():
    result = manage("check", "--deploy", **{**PRODUCTION, "EMAIL_HOST": ""})

    assert result.returncode != 0
    assert "EMAIL_HOST" in result.stderr.splitlines()[-1]


def test_every_refusal_is_named_at_once():
    environment = {**PRODUCTION, "SECRET_KEY": COMPOSE_KEY, "PAYMENT_GATEWAY": "", "EMAIL_HOST": ""}

    result = manage("check", **environment)

    assert result.returncode != 0
    for name in ["SECRET_KEY", "PAYMENT_GATEWAY", "EMAIL_HOST"]:
        assert name in result.stderr


# The site's address


def test_a_site_url_the_server_would_refuse_is_a_warning_in_production():
    # Every emailed link starts with SITE_URL: unset, it is the demo's http://127.0.0.1:8000.
    with override_settings(**SAFE, SITE_URL="http://127.0.0.1:8000", ALLOWED_HOSTS=["portal.example"]):
        assert "portal.W003" in {message.id for message in run_checks()}
    with override_settings(**SAFE, SITE_URL="https://portal.example", ALLOWED_HOSTS=["portal.example"]):
        assert "portal.W003" not in {message.id for message in run_checks()}
