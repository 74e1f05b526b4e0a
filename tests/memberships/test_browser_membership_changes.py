"""A booker with a browser pauses (and resumes) and switches plan through the Manage menu's dialogs,
at desktop and phone width, and with JavaScript off."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from memberships.demo import ACTIVE_CODE
from memberships.models import Membership
from tests.browser.conftest import VIEWPORTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/?next=/portal/memberships/")
    page.get_by_label("Email").fill("demo@example.com")
    page.get_by_label("Password").fill("portal-demo-2026")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(f"{live_server.url}/portal/memberships/")


def open_page(browser, live_server, viewport, javascript=True):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    context = browser.new_context(viewport=VIEWPORTS[viewport], java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, live_server)
    return context, page


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def open_menu_item(page, name):
    card = page.locator(f"#membership-{ACTIVE_CODE}")
    card.get_by_text("Manage").click()
    card.get_by_role("link", name=name).click()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_booker_pauses_then_resumes_early_through_the_dialogs(live_server, browser, viewport):
    context, page = open_page(browser, live_server, viewport)

    open_menu_item(page, "Pause membership")
    dialog = page.locator("#modal dialog")
    dialog.wait_for()
    assert "Pause your Monthly Unlimited membership?" in dialog.inner_text()
    assert page.url == f"{live_server.url}/portal/memberships/"  # htmx: the dialog opened in place
    assert fits_the_screen(page)
    dialog.get_by_label("Pause for").select_option("2")
    dialog.get_by_role("button", name="Pause membership").click()

    card = page.locator(f"#membership-{ACTIVE_CODE}")
    card.get_by_text("Paused until").wait_for()
    assert page.locator("#modal").inner_html().strip() == ""
    assert "is paused until" in page.locator("#messages").inner_text()
    assert Membership.objects.get(code=ACTIVE_CODE).status == Membership.Status.PAUSED

    open_menu_item(page, "Resume now")
    page.locator("#modal dialog").get_by_role("button", name="Resume now").click()
    card.get_by_text("Paused until").wait_for(state="detached")
    assert Membership.objects.get(code=ACTIVE_CODE).status == Membership.Status.ACTIVE
    context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_booker_sees_the_proration_then_switches_plan(live_server, browser, viewport):
    context, page = open_page(browser, live_server, viewport)

    open_menu_item(page, "Switch plan")
    dialog = page.locator("#modal dialog")
    dialog.get_by_label("Off-Peak").check()
    dialog.get_by_role("button", name="See the cost").click()
    page.get_by_role("heading", name="Switch from Monthly Unlimited to Off-Peak?").wait_for()
    table = page.locator("#modal table.proration")
    assert "Unused time on Monthly Unlimited" in table.inner_text()
    assert "Credit for your next invoice" in table.inner_text()  # Off-Peak costs less
    assert fits_the_screen(page)
    if viewport == "phone":
        page.set_viewport_size({"width": 320, "height": 640})  # the narrowest phones
        assert fits_the_screen(page)
    assert Membership.objects.get(code=ACTIVE_CODE).plan.name == "Monthly Unlimited"  # not yet

    page.locator("#modal dialog").get_by_role("button", name="Confirm switch").click()

    page.locator(f"#membership-{ACTIVE_CODE} h3", has_text="Off-Peak").wait_for()
    assert page.locator("#modal").inner_html().strip() == ""
    assert "now on Off-Peak" in page.locator("#messages").inner_text()
    membership = Membership.objects.get(code=ACTIVE_CODE)
    assert membership.plan.name == "Off-Peak" and membership.proration_pending < 0
    context.close()


def test_without_javascript_pause_and_switch_work_with_plain_pages(live_server, browser):
    context, page = open_page(browser, live_server, "phone", javascript=False)

    page.locator(f"#membership-{ACTIVE_CODE}").get_by_text("Manage").click()
    page.get_by_role("link", name="Switch plan").first.click()
    page.wait_for_url(f"{live_server.url}/portal/memberships/{ACTIVE_CODE}/switch/")
    page.get_by_label("Off-Peak").check()
    page.get_by_role("button", name="See the cost").click()
    page.get_by_role("button", name="Confirm switch").click()
    page.wait_for_url(f"{live_server.url}/portal/memberships/")
    assert "now on Off-Peak" in page.locator("#messages").inner_text()

    # Off-Peak does not allow pausing (Monthly Unlimited, the demo's pausable plan, does).
    page.goto(f"{live_server.url}/portal/memberships/{ACTIVE_CODE}/pause/")
    assert "Off-Peak memberships cannot be paused." in page.locator("dialog").inner_text()
    context.close()


def test_without_javascript_a_booker_pauses_with_plain_pages(live_server, browser):
    context, page = open_page(browser, live_server, "desktop", javascript=False)

    page.locator(f"#membership-{ACTIVE_CODE}").get_by_text("Manage").click()
    page.get_by_role("link", name="Pause membership").first.click()
    page.wait_for_url(f"{live_server.url}/portal/memberships/{ACTIVE_CODE}/pause/")
    page.get_by_label("Pause for").select_option("1")
    page.get_by_role("button", name="Pause membership").click()
    page.wait_for_url(f"{live_server.url}/portal/memberships/")

    assert "is paused until" in page.locator("#messages").inner_text()
    assert Membership.objects.get(code=ACTIVE_CODE).status == Membership.Status.PAUSED
    context.close()


def test_a_booker_cancels_with_a_reason_then_takes_it_back(live_server, browser):
    context, page = open_page(browser, live_server, "phone")

    open_menu_item(page, "Cancel membership")
    dialog = page.locator("#modal dialog")
    dialog.get_by_label("Why are you leaving? (optional)").select_option("moving")
    dialog.get_by_role("button", name="Cancel membership").click()
    card = page.locator(f"#membership-{ACTIVE_CODE}")
    card.get_by_text("Ends on").wait_for()
    assert Membership.objects.get(code=ACTIVE_CODE).cancel_reason == "moving"

    open_menu_item(page, "Resume membership")
    page.locator("#modal dialog").get_by_role("button", name="Resume membership").click()

    card.get_by_text("Renews on").wait_for()
    assert "will carry on" in page.locator("#messages").inner_text()
    membership = Membership.objects.get(code=ACTIVE_CODE)
    assert not membership.cancel_at_period_end and membership.cancel_reason == ""
    context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_booker_switches_from_monthly_to_yearly_seeing_todays_invoice_first(live_server, browser, viewport):
    from tests.browser.conftest import assert_accessible

    context, page = open_page(browser, live_server, viewport)

    open_menu_item(page, "Switch plan")
    dialog = page.locator("#modal dialog")
    assert "starts a new period today" in dialog.inner_text()
    dialog.get_by_label("Friends of the Studio").check()
    dialog.get_by_role("button", name="See the cost").click()
    page.get_by_role("heading", name="Switch from Monthly Unlimited to Friends of the Studio?").wait_for()
    table = page.locator("#modal table.proration").inner_text()
    assert "Friends of the Studio, a whole year from today" in table and "£90.00" in table
    assert "Invoiced today" in table
    assert fits_the_screen(page)
    if viewport == "phone":
        page.set_viewport_size({"width": 320, "height": 640})
        assert fits_the_screen(page)
    assert_accessible(page, "the yearly switch preview")

    page.locator("#modal dialog").get_by_role("button", name="Confirm switch").click()

    page.locator(f"#membership-{ACTIVE_CODE} h3", has_text="Friends of the Studio").wait_for()
    assert "first period starts today" in page.locator("#messages").inner_text()
    membership = Membership.objects.get(code=ACTIVE_CODE)
    assert membership.plan.interval == "year"
    assert membership.current_period_end.year == membership.current_period_start.year + 1
    context.close()


def test_without_javascript_a_booker_switches_to_yearly_with_plain_pages(live_server, browser):
    context, page = open_page(browser, live_server, "phone", javascript=False)

    page.goto(f"{live_server.url}/portal/memberships/{ACTIVE_CODE}/switch/")
    page.get_by_label("Friends of the Studio").check()
    page.get_by_role("button", name="See the cost").click()
    assert "Invoiced today" in page.locator("table.proration").inner_text()
    page.get_by_role("button", name="Confirm switch").click()
    page.wait_for_url(f"{live_server.url}/portal/memberships/")
    assert "now on Friends of the Studio" in page.locator("#messages").inner_text()
    assert Membership.objects.get(code=ACTIVE_CODE).plan.interval == "year"
    context.close()
