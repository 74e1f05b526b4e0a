"""A booker with a browser cancels a membership through the confirm dialog."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from memberships.demo import ACTIVE_CODE
from memberships.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/?next=/portal/memberships/")
    page.get_by_label("Email").fill("demo@example.com")
    page.get_by_label("Password").fill("portal-demo-2026")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(f"{live_server.url}/portal/memberships/")


def test_a_booker_cancels_a_membership_through_the_dialog(live_server, page):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    membership = Membership.objects.get(code=ACTIVE_CODE)
    log_in(page, live_server)

    card = page.locator(f"#membership-{membership.code}")
    card.get_by_text("Manage").click()
    card.get_by_role("link", name="Cancel membership").click()
    dialog = page.locator("#modal dialog")
    dialog.wait_for()
    assert "Cancel your Monthly Unlimited membership?" in dialog.inner_text()
    assert page.url == f"{live_server.url}/portal/memberships/"  # htmx: the dialog opened in place
    dialog.get_by_role("button", name="Cancel membership").click()

    page.locator(f"#membership-{membership.code} >> text=Ends on").wait_for()
    assert page.locator("#modal").inner_html().strip() == ""
    assert "membership is cancelled" in page.locator("#messages").inner_text()
    membership.refresh_from_db()
    assert membership.cancel_at_period_end
    assert (
        page.locator(f"#membership-{membership.code}").get_by_role("link", name="Cancel membership").count()
        == 0
    )


def test_keep_membership_closes_the_dialog_without_cancelling(live_server, page):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    log_in(page, live_server)

    card = page.locator(f"#membership-{ACTIVE_CODE}")
    card.get_by_text("Manage").click()
    card.get_by_role("link", name="Cancel membership").click()
    page.locator("#modal dialog").get_by_role("link", name="Keep membership").click()

    assert page.locator("#modal dialog").count() == 0
    assert not Membership.objects.get(code=ACTIVE_CODE).cancel_at_period_end


def test_without_javascript_cancel_works_with_plain_pages(live_server, browser):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server)

    page.locator(f"#membership-{ACTIVE_CODE}").get_by_text("Manage").click()
    page.get_by_role("link", name="Cancel membership").first.click()
    page.wait_for_url(f"{live_server.url}/portal/memberships/{ACTIVE_CODE}/cancel/")
    page.get_by_role("button", name="Cancel membership").click()
    page.wait_for_url(f"{live_server.url}/portal/memberships/")

    assert "membership is cancelled" in page.locator("#messages").inner_text()
    assert Membership.objects.get(code=ACTIVE_CODE).cancel_at_period_end
    context.close()
