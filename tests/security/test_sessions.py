"""Sessions and logins: rate limits that count in a shared cache, a new session key at login, a
dead session after logout, and the same answer for known and unknown emails."""

from __future__ import annotations

import re

import pytest
from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.checks import run_checks
from django.test import Client, override_settings
from django.urls import reverse

from bookings import links
from tests.factories import PASSWORD, BookingFactory, UserFactory
from tests.portal.test_settings import PRODUCTION, manage

CSRF = re.compile(r'(csrftoken": "|name="csrfmiddlewaretoken" value=")[^"]+')
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}


def login(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.fixture
def proved(booker):
    # Password logins need a confirmed address (ACCOUNT_EMAIL_VERIFICATION = "mandatory").
    EmailAddress.objects.create(user=booker, email=booker.email, primary=True, verified=True)
    return booker


# Rate limits


def test_allauth_rate_limits_are_on():
    assert getattr(settings, "ACCOUNT_RATE_LIMITS", None) is not False
    limits = allauth_settings.RATE_LIMITS
    for action in ["login_failed", "reset_password", "request_login_code", "login"]:
        assert limits.get(action), f"allauth's {action} rate limit is off"


@pytest.mark.django_db
def test_failed_logins_are_rate_limited_even_with_the_right_password_after(client, booker):
    for _ in range(5):
        assert login(client, booker.email, "wrong-password").status_code == 200
    response = login(client, booker.email)

    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_production_rate_limits_count_in_redis():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        **PRODUCTION,
    )
    assert result.stdout.strip().splitlines()[-1] == "django.core.cache.backends.redis.RedisCache", (
        result.stderr
    )


@pytest.mark.parametrize("caches", [LOCMEM, DUMMY])
def test_a_per_process_cache_in_production_is_a_start_up_warning(caches):
    with override_settings(DEBUG=False, CACHES=caches):
        ids = [message.id for message in run_checks()]
    assert "portal.W001" in ids


def test_a_shared_cache_in_production_raises_no_warning():
    with override_settings(DEBUG=False, CACHES=REDIS):
        assert "portal.W001" not in [message.id for message in run_checks()]
    with override_settings(DEBUG=True, CACHES=LOCMEM):  # the embedded demo is one process
        assert "portal.W001" not in [message.id for message in run_checks()]


def test_switching_allauth_rate_limits_off_in_production_is_a_start_up_warning():
    with override_settings(DEBUG=False, CACHES=REDIS, ACCOUNT_RATE_LIMITS=False):
        assert "portal.W002" in [message.id for message in run_checks()]


def test_manage_check_warns_when_production_has_no_redis():
    result = manage("check", **{**PRODUCTION, "REDIS_URL": ""})
    assert "portal.W001" in result.stderr


@pytest.mark.django_db
def test_the_admin_login_is_rate_limited(client, staff):
    url = reverse("admin:login")
    for _ in range(10):
        assert client.post(url, {"username": staff.email, "password": "wrong"}).status_code == 200
    response = client.post(url, {"username": staff.email, "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_admin_login_still_works_under_the_limit(client, staff):
    client.post(reverse("admin:login"), {"username": staff.email, "password": "wrong"})
    response = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


@pytest.mark.django_db
def test_the_admin_login_limit_counts_per_address_across_emails(client, staff):
    for n in range(30):
        client.post(reverse("admin:login"), {"username": f"guess{n}@example.com", "password": "x"})
    response = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 429


# Session keys


@pytest.mark.django_db
def test_logging_in_gives_a_new_session_key(client, proved, booker, organiser):
    # A session that exists before login (here: a View booking link's grant) must not survive it,
    # or a planted session id would become a logged-in one (session fixation).
    client.get(reverse("bookings:booking_link", args=[links.make_token(BookingFactory(organiser=organiser))]))
    before = client.cookies["sessionid"].value

    assert login(client, booker.email).status_code == 302
    after = client.cookies["sessionid"].value

    assert after != before
    assert not SessionStore().exists(before)
    assert client.session["_auth_user_id"] == str(booker.pk)


@pytest.mark.django_db
def test_logging_in_by_emailed_code_gives_a_new_session_key(client, booker, mailoutbox):
    client.post(reverse("account_request_login_code"), {"email": booker.email})
    before = client.cookies["sessionid"].value
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mailoutbox[-1].body, re.M).group(1)

    client.post(reverse("account_confirm_login_code"), {"code": code})

    assert client.session.get("_auth_user_id") == str(booker.pk)
    assert client.cookies["sessionid"].value != before


@pytest.mark.django_db
def test_after_logout_the_old_session_cookie_is_anonymous(client, proved, booker):
    login(client, booker.email)
    old = client.cookies["sessionid"].value
    assert client.get(reverse("bookings:event_list")).status_code == 200

    client.post(reverse("account_logout"))

    replay = Client()
    replay.cookies["sessionid"] = old
    response = replay.get(reverse("bookings:event_list"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert not SessionStore().exists(old)


@pytest.mark.django_db
def test_logout_needs_a_post(client_as_booker):
    # A GET (an <img src> on another site) must not end the session; allauth shows a confirm page.
    client_as_booker.get(reverse("account_logout"))
    assert client_as_booker.get(reverse("bookings:event_list")).status_code == 200


# The same answer for any email


def _page(response, email) -> str:
    return CSRF.sub("CSRF", response.content.decode()).replace(email, "EMAIL")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name,field",
    [
        ("account_reset_password", "email"),
        ("account_request_login_code", "email"),
        ("bookings:booking_link_request", "email"),
    ],
)
def test_requests_by_email_answer_the_same_for_known_unknown_and_guest_emails(url_name, field, organiser):
    UserFactory(email="known@example.com")
    BookingFactory(organiser=organiser, booker_email="guest@example.com")  # booked, no account
    answers = []
    for email in ["known@example.com", "unknown@example.com", "guest@example.com"]:
        client = Client()
        response = client.post(reverse(url_name), {field: email}, follow=True)
        answers.append(
            (
                response.status_code,
                [(re.sub(r"[^/]+@[^/]+", "EMAIL", url), status) for url, status in response.redirect_chain],
                _page(response, email),
            )
        )
    assert answers[0] == answers[1] == answers[2]


@pytest.mark.django_db
def test_a_wrong_password_answers_the_same_for_known_and_unknown_emails(booker):
    pages = []
    for email in [booker.email, "unknown@example.com"]:
        response = login(Client(), email, "wrong-password")
        pages.append((response.status_code, _page(response, email)))
    assert pages[0] == pages[1]
