"""The portal as a person uses it: one live server and one seeded demo database per module.

Seeding the demo and logging in take longer than most of the checks, so a module shares them:
`demo_server` seeds the demo (plus a pass and a voucher for the demo booker when the demo has
none), starts a live server, and flushes the database when the module is done. Tests that change
something work on rows of their own (`fresh_booking`, `fresh_user`), so tests stay independent
of their order.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "portal-demo-2026"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)


@dataclass
class DemoServer:
    url: str
    storage_state: dict  # the demo booker, logged in

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def _test_database(django_db_setup, django_db_blocker):
    """pytest-django sets up the test database only when some collected test asks for `db`; when
    only these tests run, none does, so set it up here (never touch the real database)."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():
        yield
        return
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=0)


@pytest.fixture(scope="module")
def demo_server(_test_database, django_db_blocker, browser):
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=open(os.devnull, "w"))
        _demo_pass_and_voucher()
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            context = browser.new_context()
            page = context.new_page()
            log_in(page, server.url, DEMO_EMAIL, DEMO_PASSWORD)
            state = context.storage_state()
            context.close()
            yield DemoServer(url=server.url, storage_state=state)
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _db_for_the_test(request, django_db_blocker):
    """Tests on the shared server read and write the database directly (autocommit)."""
    if "demo_server" not in request.fixturenames:
        yield
        return
    with django_db_blocker.unblock():
        yield


def log_in(page, base_url: str, email: str, password: str, next_path: str = "/portal/events/"):
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(f"{base_url}{next_path}")


def _demo_pass_and_voucher():
    """The demo booker holds a pass and a voucher at riverside-yoga (unless the demo already has)."""
    from accounts.models import User
    from passes.models import Pass, PassType
    from portal.models import Organiser
    from vouchers.models import Voucher

    booker = User.objects.get(email=DEMO_EMAIL)
    riverside = Organiser.objects.get(slug="riverside-yoga")
    now = timezone.now()
    if not Pass.objects.filter(user=booker).exists():
        pass_type, _ = PassType.objects.get_or_create(
            organiser=riverside,
            name="5-class pass",
            defaults={"price": 5000, "uses_included": 5, "validity": "days", "validity_days": 90},
        )
        Pass.objects.create(
            organiser=riverside,
            pass_type=pass_type,
            user=booker,
            buyer_email=DEMO_EMAIL,
            status=Pass.Status.ACTIVE,
            uses_included=5,
            uses_left=3,
            valid_from=now - timedelta(days=10),
            valid_until=now + timedelta(days=80),
            price=5000,
            currency=riverside.currency,
            paid_at=now - timedelta(days=10),
        )
    if (
        not Voucher.objects.filter(buyer=booker).exists()
        and not Voucher.objects.filter(recipient_email=DEMO_EMAIL).exists()
    ):
        Voucher.objects.create(
            organiser=riverside,
            source=Voucher.Source.ISSUED,
            status=Voucher.Status.ACTIVE,
            value=2500,
            balance=2500,
            currency=riverside.currency,
            recipient_name="Demo Booker",
            recipient_email=DEMO_EMAIL,
            paid_at=now,
        )


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request):
    return VIEWPORTS[request.param]


@pytest.fixture
def new_page(browser, demo_server):
    """new_page(viewport=..., logged_in=True, javascript=True) -> a page in a context of its own."""
    contexts = []

    def make(viewport=DESKTOP, *, logged_in=True, javascript=True, storage_state=None, **kwargs):
        context = browser.new_context(
            viewport=viewport,
            java_script_enabled=javascript,
            storage_state=storage_state or (demo_server.storage_state if logged_in else None),
            **kwargs,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def fresh_booking(demo_server):
    """fresh_booking(event_title, tickets=("Drop-in",)) -> a new confirmed booking of the demo booker."""
    from accounts.models import User
    from bookings import capacity
    from bookings.models import Attendee, Booking, Event

    booker = User.objects.get(email=DEMO_EMAIL)

    def make(event_title: str = "Sunrise Flow", tickets=("Drop-in",)) -> Booking:
        event = Event.objects.get(title=event_title)
        types = {t.name: t for t in event.ticket_types.all()}
        total = sum(types[name].price for name in tickets)
        reference = "BT" + uuid.uuid4().hex[:6].upper()
        booking = Booking.objects.create(
            reference=reference,
            organiser=event.organiser,
            event=event,
            user=booker,
            booker_name="Demo Booker",
            booker_email=DEMO_EMAIL,
            status=Booking.Status.CONFIRMED,
            total=total,
            currency=event.organiser.currency,
            payment_method=Booking.PaymentMethod.CARD if total else Booking.PaymentMethod.FREE,
            payment_reference=f"demo_{reference.lower()}" if total else "",
            booked_from=f"/{event.organiser.slug}/",
        )
        for n, name in enumerate(tickets):
            Attendee.objects.create(
                organiser=event.organiser,
                booking=booking,
                ticket_type=types[name],
                name="Demo Booker" if n == 0 else f"Guest {n}",
                price=types[name].price,
            )
        capacity.seats_recount(events=Event.objects.filter(pk=event.pk), fix=True)  # as booking does
        return booking

    return make


@pytest.fixture
def fresh_user(demo_server):
    """fresh_user() -> (user, password): a booker of their own, with a verified address."""
    from allauth.account.models import EmailAddress

    from accounts.models import User

    def make():
        email = f"b{uuid.uuid4().hex[:8]}@example.com"
        password = "browser-test-2026"
        user = User.objects.create_user(email=email, password=password, name="Bo Browser")
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user, password

    return make


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def assert_accessible(page, what: str = "") -> None:
    """axe-core finds no serious or critical violation on the page as it is now (it needs
    JavaScript: in a context without it, axe's promise never settles)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    assert not bad, f"{what or page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad
    )


def assert_fits(page) -> None:
    """Nothing runs off the side of the screen (no sideways scrolling)."""
    assert no_horizontal_scroll(page), f"{page.url} scrolls sideways at {page.viewport_size}"


def wait_until(page, expression: str, timeout_ms: int = 10_000) -> None:
    """Poll a JavaScript expression until it is true. (page.wait_for_function evaluates strings
    with eval(), which the portal's Content-Security-Policy refuses.)"""
    for _ in range(timeout_ms // 20):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"still not true after {timeout_ms} ms: {expression}")


def settled(page) -> None:
    """Wait until htmx has finished swapping and settling (it wires up new links on settle,
    20 ms after the swap: a click before that would be a plain link's)."""
    wait_until(page, "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")
