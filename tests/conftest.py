"""Personas and shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import OrganiserFactory, OrganiserStaffFactory, UserFactory
from tests.race_repeat import IN_CI, pytest_generate_tests  # noqa: F401  (race tests run RACE_REPEAT times)
from tests.stripe_helpers import WEBHOOK_SECRET, sign

# Playwright's sync API runs an event loop in the test thread; live_server tests need this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = "/usr/bin/chromium"


def pytest_sessionstart(session):
    """The compiled translations (locale/*/LC_MESSAGES/django.mo, never committed) as fresh as their
    .po files: `make install` compiles them, and a bare `pytest` after a .po changed (an edit, a
    merge) would otherwise test the old ones. Babel compiles, so no gettext is needed here."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source)
        part = mo.with_suffix(f".mo.{os.getpid()}")  # parallel runs never read a half-written file
        with part.open("wb") as target:
            write_mo(target, catalogue)
        part.replace(mo)


def pytest_collection_modifyitems(config, items):
    """Service-bound tests skip locally when the service is absent, and fail in CI."""
    missing = {
        "postgres": not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        "redis": not settings.REDIS_URL,
    }
    behind_pgbouncer = os.environ.get("BEHIND_PGBOUNCER") == "true"
    for item in items:
        if item.get_closest_marker("pgbouncer") and not behind_pgbouncer:
            item.add_marker(pytest.mark.skip(reason="runs through PgBouncer: .ci/pgbouncer-tests"))
        for marker, absent in missing.items():
            if absent and item.get_closest_marker(marker):
                item.add_marker(
                    pytest.mark.usefixtures("_fail_missing_service")
                    if IN_CI
                    else pytest.mark.skip(reason=f"needs {marker}: set DATABASE_URL / REDIS_URL")
                )


@pytest.fixture(autouse=True, scope="session")
def _media_root(tmp_path_factory):
    # Uploads (organiser logos, the demo's too) go to a folder of the test run, never var/media/.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache (Redis in CI); no test inherits another's.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_between_tests():
    # A request through the test client activates its language in this thread and leaves it
    # there (each real request sets its own); a test after it must not read French messages.
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"The browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def _fail_missing_service():
    pytest.fail("CI must provide Postgres and Redis (DATABASE_URL, REDIS_URL)")


@pytest.fixture
def organiser(db):
    # The tenant whose data the test is about.
    return OrganiserFactory(slug="riverside", name="Riverside")


@pytest.fixture
def other_organiser(db):
    # A second tenant: nothing of theirs may ever show up for the first.
    return OrganiserFactory(slug="elsewhere", name="Elsewhere")


@pytest.fixture
def booker(db):
    # Our booker, with an account.
    return UserFactory(email="booker@example.com", name="Bea Booker")


@pytest.fixture
def other_booker(db):
    # Another booker: their things must stay invisible to ours.
    return UserFactory(email="other@example.com", name="Otto Other")


@pytest.fixture
def client_as_booker(client, booker):
    client.force_login(booker)
    return client


@pytest.fixture
def staff(organiser):
    # Organiser staff of `organiser` only.
    return OrganiserStaffFactory(organiser=organiser).user


@pytest.fixture
def other_staff(other_organiser):
    return OrganiserStaffFactory(organiser=other_organiser).user


@pytest.fixture
def client_as_staff(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def htmx():
    return {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def webhook_secret(settings):
    """Our Stripe webhook secret: the one tests.stripe_helpers.sign signs with."""
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.fixture
def deliver(client, webhook_secret, django_capture_on_commit_callbacks):
    """POST a signed event as Stripe does, running the task it queues (Celery is eager)."""

    def deliver(payload: str, signature: str | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("stripe_webhook"),
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature if signature is not None else sign(payload),
            )

    return deliver
