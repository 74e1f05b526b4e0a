"""A booker with a browser deletes their account through the confirm step."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User
from bookings.models import Booking
from memberships.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL, PASSWORD = "demo@example.com", "portal-demo-2026"


def log_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/?next=/portal/events/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(f"{live_server.url}/portal/events/")


def test_a_booker_deletes_their_account_through_the_confirm_dialog(live_server, page):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    bookings_before = Booking.objects.count()
    memberships = list(Membership.objects.filter(user__email=EMAIL, status__in=Membership.CURRENT))
    assert memberships, "the demo booker has an active membership"
    log_in(page, live_server)

    page.get_by_role("link", name=f"Account ({EMAIL})").click()
    page.wait_for_url(f"{live_server.url}/portal/account/")
    page.get_by_role("link", name="Delete account…").click()
    dialog = page.locator("#modal dialog")
    dialog.wait_for()
    assert page.url == f"{live_server.url}/portal/account/"  # htmx: the dialog opened in place
    assert "cannot be undone" in dialog.inner_text()
    assert "membership" in dialog.inner_text()  # the demo booker's active membership is named

    dialog.get_by_label("Your password").fill("not-my-password")
    dialog.get_by_role("button", name="Delete my account").click()
    page.locator("#modal dialog >> text=That password is not right").wait_for()
    assert User.objects.filter(email=EMAIL).exists()

    page.locator("#modal dialog").get_by_label("Your password").fill(PASSWORD)
    page.locator("#modal dialog").get_by_role("button", name="Delete my account").click()

    page.wait_for_url(f"{live_server.url}/")
    assert "Your account has been deleted" in page.locator("#messages").inner_text()
    assert page.get_by_role("link", name="Log in").is_visible()
    assert not User.objects.filter(email=EMAIL).exists()
    assert Booking.objects.count() == bookings_before
    assert not Booking.objects.filter(booker_email=EMAIL).exists()
    for membership in memberships:
        membership.refresh_from_db()
        assert membership.cancel_at_period_end and membership.user is None


def test_keep_my_account_closes_the_dialog(live_server, page):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    log_in(page, live_server)
    page.goto(f"{live_server.url}/portal/account/")

    page.get_by_role("link", name="Delete account…").click()
    page.locator("#modal dialog").get_by_role("link", name="Keep my account").click()

    assert page.locator("#modal dialog").count() == 0
    assert User.objects.filter(email=EMAIL).exists()


def test_without_javascript_the_confirm_step_is_a_page(live_server, browser):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/portal/account/")

    page.get_by_role("link", name="Delete account…").click()
    page.wait_for_url(f"{live_server.url}/portal/account/delete/")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()

    page.wait_for_url(f"{live_server.url}/")
    assert "Your account has been deleted" in page.locator("#messages").inner_text()
    assert not User.objects.filter(email=EMAIL).exists()
    context.close()
