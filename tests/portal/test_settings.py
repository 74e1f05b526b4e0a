"""Configuration errors stop start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-key-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "portal.example",
    "SITE_URL": "https://portal.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_HOST": "smtp.portal.example",
    "PAYMENT_GATEWAY": "offline",
}


def manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "EMAIL_HOST",
            "EMAIL_TO_FILES",
            "PAYMENT_GATEWAY",
            "STRIPE_SECRET_KEY",
            "SECRET_KEY_FILE",
            "SITE_URL",
        }
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, "PORTAL_TESTING": "false", **env},
        timeout=60,
    )


@pytest.mark.parametrize(
    "variable,value",
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://root@localhost/portal"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "localhost:6379"),
        ("EMAIL_PORT", "twenty-five"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(variable, value):
    result = manage("check", **{variable: value, "EMAIL_HOST": "smtp.example"})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_needs_a_secret_key_and_allowed_hosts(missing):
    result = manage("check", **{**PRODUCTION, missing: ""})

    assert result.returncode != 0
    assert missing in result.stderr.splitlines()[-1]


def test_the_deploy_check_is_clean_in_the_production_shape():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_behind_pgbouncer_prepared_statements_and_server_side_cursors_can_be_turned_off():
    show = (
        "from django.conf import settings; db = settings.DATABASES['default'];"
        " print(db['OPTIONS'].get('prepare_threshold'), db['DISABLE_SERVER_SIDE_CURSORS'])"
    )
    direct = manage("shell", "--no-imports", "-c", show, **PRODUCTION)
    pooled = manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        **PRODUCTION,
        DATABASE_PREPARED_STATEMENTS="false",
        DATABASE_SERVER_SIDE_CURSORS="false",
    )

    assert direct.stdout.split() == ["5", "False"], direct.stderr
    assert pooled.stdout.split() == ["None", "True"], pooled.stderr  # what PgBouncer 1.18 needs
