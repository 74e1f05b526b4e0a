"""Rate limits count per client, and a stranger cannot spend a booker's budget.

Behind the https proxy every request comes from the proxy's address: the trusted-proxy setting
(TRUSTED_PROXY_COUNT or TRUSTED_CLIENT_IP_HEADER, read by allauth and by `portal.ratelimit`)
gives each client its own budget. Voucher codes count failures only, and limits that a wrong
guess spends are per (client, email) pair, so ten wrong guesses with someone else's email lock
out the guesser, never the booker.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from bookings.models import Booking
from calendars import services as calendar_services
from calendars.views import FEED_GUESSES
from portal import ratelimit
from tests.factories import PASSWORD, BookingFactory, EventFactory, TicketTypeFactory
from tests.portal.test_settings import PRODUCTION, manage
from tests.vouchers.factories import VoucherFactory
from vouchers.models import Voucher
from vouchers.services import CODE_FAILURES_PER_HOUR

PROXY = "10.0.0.2"  # the https proxy in front of the app: every request arrives from it
BEHIND_ONE_PROXY = override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)


def through_proxy(client_address: str) -> Client:
    """A browser at `client_address`, seen through the proxy (which appends it to X-Forwarded-For)."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)


def directly(client_address: str) -> Client:
    return Client(REMOTE_ADDR=client_address)


# The client's address --------------------------------------------------------------------------


def request(**meta):
    return RequestFactory().get("/", REMOTE_ADDR=PROXY, **meta)


def test_without_a_trusted_proxy_forwarded_headers_are_ignored():
    assert ratelimit.client_ip(request(HTTP_X_FORWARDED_FOR="203.0.113.9")) == PROXY


@BEHIND_ONE_PROXY
def test_behind_one_trusted_proxy_the_address_it_saw_is_the_client():
    # A client may send its own X-Forwarded-For; only the entry our proxy appended is trusted.
    assert ratelimit.client_ip(request(HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")) == "203.0.113.9"


@override_settings(ALLAUTH_TRUSTED_CLIENT_IP_HEADER="X-Real-IP")
def test_a_trusted_client_ip_header_names_the_client():
    assert ratelimit.client_ip(request(HTTP_X_REAL_IP="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")) == (
        "203.0.113.9"
    )


def test_ipv6_clients_are_counted_by_their_network():
    # One IPv6 host holds a whole /64: counting single addresses would give it endless budgets.
    first = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::1")
    second = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert ratelimit.client_ip(first) == ratelimit.client_ip(second) == "2001:db8:1:2::"


def test_the_trusted_proxy_is_one_environment_setting_read_by_allauth():
    def seen(**env) -> list[str]:
        code = "from django.conf import settings as s; "
        code += "print(s.ALLAUTH_TRUSTED_PROXY_COUNT, s.ALLAUTH_TRUSTED_CLIENT_IP_HEADER)"
        result = manage("shell", "-c", code, **PRODUCTION, **env)
        return result.stdout.strip().splitlines()[-1].split() if result.stdout else [result.stderr]

    assert seen() == ["0", "None"]
    assert seen(TRUSTED_PROXY_COUNT="1") == ["1", "None"]
    assert seen(TRUSTED_CLIENT_IP_HEADER="X-Real-IP") == ["0", "X-Real-IP"]


@pytest.mark.parametrize(
    "env",
    [{"TRUSTED_PROXY_COUNT": "-1"}, {"TRUSTED_PROXY_COUNT": "1", "TRUSTED_CLIENT_IP_HEADER": "X-Real-IP"}],
)
def test_a_trusted_proxy_setting_that_makes_no_sense_stops_the_start(env):
    result = manage("check", **PRODUCTION, **env)
    assert result.returncode != 0 and "TRUSTED_" in result.stderr.splitlines()[-1]


# Voucher codes --------------------------------------------------------------------------------


@pytest.fixture
def shop(organiser):
    event = EventFactory(organiser=organiser, capacity=100)
    return event, TicketTypeFactory(event=event, price=1250)


def book_with_code(client, shop, code, email="victim@example.com", key=None):
    event, ticket = shop
    return client.post(
        reverse("event_book", args=[event.organiser.slug, event.code]),
        {
            f"qty_{ticket.pk}": 1,
            "booker_name": "Vic Booker",
            "booker_email": email,
            "idempotency_key": key or f"{code}-{email}",
            "attendee_0_name": "Vic",
            "voucher_code": code,
        },
    )


def guess_wrong(client, shop, times, email="victim@example.com"):
    for n in range(times):
        response = book_with_code(client, shop, f"AAAA-AAAA-AAAA-{n:04d}", email)
        assert "We don&#x27;t know that voucher code" in response.content.decode()


@pytest.mark.django_db
def test_a_stranger_guessing_with_a_bookers_email_does_not_lock_out_their_voucher(shop, organiser):
    voucher = VoucherFactory(organiser=organiser, value=5000)
    stranger = directly("198.51.100.66")
    guess_wrong(stranger, shop, CODE_FAILURES_PER_HOUR)
    assert (
        "Too many voucher codes tried"
        in book_with_code(stranger, shop, "AAAA-AAAA-AAAA-BBBB").content.decode()
    )

    response = book_with_code(directly("203.0.113.5"), shop, voucher.code)

    assert response.status_code == 302
    assert Booking.objects.get().booker_email == "victim@example.com"


@pytest.mark.django_db
@BEHIND_ONE_PROXY
def test_behind_the_proxy_one_guesser_does_not_spend_everyones_budget(shop, organiser):
    voucher = VoucherFactory(organiser=organiser, value=5000)
    guesser = through_proxy("198.51.100.66")
    for n in range(3):  # a guesser cycling through emails, up to the address's own limit
        guess_wrong(guesser, shop, CODE_FAILURES_PER_HOUR, email=f"guess{n}@example.com")

    assert "Too many voucher codes tried" in book_with_code(guesser, shop, voucher.code).content.decode()
    assert book_with_code(through_proxy("203.0.113.5"), shop, voucher.code).status_code == 302


@pytest.mark.django_db
def test_the_guesser_is_stopped_even_with_the_right_code(shop, organiser):
    voucher = VoucherFactory(organiser=organiser, value=5000)
    guesser = directly("198.51.100.66")
    guess_wrong(guesser, shop, CODE_FAILURES_PER_HOUR)

    response = book_with_code(guesser, shop, voucher.code)

    assert "Too many voucher codes tried" in response.content.decode()
    assert not Booking.objects.exists()
    assert Voucher.objects.get(pk=voucher.pk).balance == voucher.value


@pytest.mark.django_db
def test_right_codes_never_count_towards_the_limit(shop, organiser):
    booker = directly("203.0.113.5")
    for n in range(CODE_FAILURES_PER_HOUR + 2):
        voucher = VoucherFactory(organiser=organiser, value=5000)
        assert book_with_code(booker, shop, voucher.code, key=f"right-{n}").status_code == 302
    assert Booking.objects.count() == CODE_FAILURES_PER_HOUR + 2


# Passwords ----------------------------------------------------------------------------------


def log_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.mark.django_db
def test_a_stranger_failing_logins_does_not_lock_the_booker_out(booker):
    # A proved address: an unproved one is asked to confirm before any password login.
    EmailAddress.objects.create(user=booker, email=booker.email, primary=True, verified=True)
    stranger = directly("198.51.100.66")
    for _ in range(6):
        log_in(stranger, booker.email, "wrong-password")
    assert "Too many failed login attempts" in log_in(stranger, booker.email, PASSWORD).content.decode()

    mine = directly("203.0.113.5")
    assert log_in(mine, booker.email, PASSWORD).status_code == 302
    assert mine.session["_auth_user_id"] == str(booker.pk)


@pytest.mark.django_db
def test_a_stranger_failing_admin_logins_does_not_lock_the_staff_member_out(staff):
    url = reverse("admin:login")
    stranger = directly("198.51.100.66")
    for _ in range(12):
        stranger.post(url, {"username": staff.email, "password": "wrong"})
    assert stranger.post(url, {"username": staff.email, "password": PASSWORD}).status_code == 429

    mine = directly("203.0.113.5")
    assert mine.post(url, {"username": staff.email, "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
@BEHIND_ONE_PROXY
def test_behind_the_proxy_new_link_requests_count_per_client(organiser, mailoutbox):
    BookingFactory(organiser=organiser, booker_email="me@example.com")
    junk = through_proxy("198.51.100.66")
    for n in range(25):
        junk.post(reverse("bookings:booking_link_request"), {"email": f"junk{n}@example.com"})

    through_proxy("203.0.113.5").post(reverse("bookings:booking_link_request"), {"email": "me@example.com"})

    assert [m.to for m in mailoutbox] == [["me@example.com"]]


@BEHIND_ONE_PROXY
@pytest.mark.django_db
def test_behind_the_proxy_calendar_feed_guesses_count_per_client(booker):
    """Unknown feed addresses spend the guesser's budget; the booker's calendar, fetched from
    another address, goes on working."""
    feed = calendar_services.feed_get_or_create(user=booker)
    guesser = through_proxy("198.51.100.66")
    for n in range(FEED_GUESSES["per_client"]):
        assert guesser.get(reverse("calendars:feed", args=[f"guess-{n}"])).status_code == 404
    assert guesser.get(reverse("calendars:feed", args=[feed.token])).status_code == 429

    assert through_proxy("203.0.113.5").get(reverse("calendars:feed", args=[feed.token])).status_code == 200
