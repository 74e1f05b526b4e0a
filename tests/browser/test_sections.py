"""Memberships, passes, vouchers and the account page as a person uses them, at desktop and phone
width. Flows that change something use a booker of their own (`fresh_user`)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from memberships.demo import ACTIVE_CODE
from memberships.models import Membership, MembershipPlan
from tests.browser.conftest import DESKTOP, assert_accessible, assert_fits, log_in, settled


def check(page, viewport, what):
    assert_fits(page)
    if viewport == DESKTOP:
        assert_accessible(page, what)


def open_menu_item(page, card, item):
    card.get_by_text("Manage").click()
    card.get_by_role("link", name=item).click()
    dialog = page.locator("#modal dialog")
    dialog.wait_for()
    settled(page)
    return dialog


@pytest.fixture
def member(fresh_user, new_page, demo_server):
    """member(viewport) -> (page, membership): a booker of their own with an active membership."""

    def make(viewport):
        user, password = fresh_user()
        plan = MembershipPlan.objects.get(name="Monthly Unlimited")
        now = timezone.now()
        membership = Membership.objects.create(
            organiser=plan.organiser,
            plan=plan,
            user=user,
            status=Membership.Status.ACTIVE,
            gateway="offline",
            customer_reference=f"offline_cus_{user.pk}",
            subscription_reference=f"offline_sub_{user.pk}",
            started_at=now - timezone.timedelta(days=10),
            current_period_start=now - timezone.timedelta(days=10),
            current_period_end=now + timezone.timedelta(days=20),
        )
        page = new_page(viewport, logged_in=False)
        log_in(page, demo_server.url, user.email, password, next_path="/portal/memberships/")
        return page, membership

    return make


def test_membership_invoices(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/memberships/"))
    check(page, viewport, "memberships page")
    dialog = open_menu_item(page, page.locator(f"#membership-{ACTIVE_CODE}"), "View invoices")

    assert dialog.get_by_role("heading", name="Invoices: Monthly Unlimited").is_visible()
    assert dialog.locator("tbody tr").count() == 3
    assert "£55.00" in dialog.inner_text()
    check(page, viewport, "invoices dialog")
    dialog.get_by_role("link", name="Close").click()
    assert page.locator("#modal dialog").count() == 0

    # Each invoice opens as a page of its own.
    page.goto(demo_server.at("/portal/memberships/"))
    dialog = open_menu_item(page, page.locator(f"#membership-{ACTIVE_CODE}"), "View invoices")
    dialog.get_by_role("link", name="View").first.click()
    page.wait_for_url(f"**/portal/memberships/{ACTIVE_CODE}/invoices/*/")
    assert "£55.00" in page.locator("main").inner_text()
    check(page, viewport, "invoice page")


def test_update_the_card_of_a_membership(member, viewport):
    page, membership = member(viewport)
    card = page.locator(f"#membership-{membership.code}")
    dialog = open_menu_item(page, card, "Update card details")
    check(page, viewport, "update card dialog")

    dialog.get_by_label("Card number").fill("5555 5555 5555 4444")
    dialog.get_by_label("Expiry month").fill("12")
    dialog.get_by_label("Expiry year").fill(str(timezone.now().year + 3))
    dialog.get_by_label("Security code").fill("123")
    dialog.get_by_role("button", name="Save card").click()

    page.locator("#messages").get_by_text("Card updated").wait_for()
    assert page.locator("#modal dialog").count() == 0
    assert "ending 4444" in page.locator(f"#membership-{membership.code}").inner_text()
    membership.refresh_from_db()
    assert membership.card_last4 == "4444"


def test_cancel_a_membership(member, viewport):
    page, membership = member(viewport)
    dialog = open_menu_item(page, page.locator(f"#membership-{membership.code}"), "Cancel membership")
    assert "Cancel your Monthly Unlimited membership?" in dialog.inner_text()
    check(page, viewport, "cancel membership dialog")
    dialog.get_by_role("button", name="Cancel membership").click()

    page.locator(f"#membership-{membership.code} >> text=Ends on").wait_for()
    assert "membership is cancelled" in page.locator("#messages").inner_text()
    membership.refresh_from_db()
    assert membership.cancel_at_period_end


def test_pass_details(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/passes/"))
    check(page, viewport, "passes page")
    card = page.locator("article.card").first
    assert "Uses left" in card.inner_text()
    card.get_by_role("link", name="View details").click()
    dialog = page.locator("#modal dialog")
    dialog.wait_for()
    settled(page)
    assert page.url.endswith("/portal/passes/")
    assert dialog.get_by_role("heading").first.is_visible()
    check(page, viewport, "pass details dialog")
    page.keyboard.press("Escape")
    assert page.locator("#modal dialog").count() == 0


def test_voucher_details(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/vouchers/"))
    check(page, viewport, "vouchers page")
    card = page.locator("article.card").first
    assert "Balance" in card.inner_text() and "£25.00" in card.inner_text()
    card.get_by_role("link", name="View details").click()
    dialog = page.locator("#modal dialog")
    dialog.wait_for()
    settled(page)
    assert "£25.00" in dialog.inner_text()
    check(page, viewport, "voucher details dialog")
    page.keyboard.press("Escape")
    assert page.locator("#modal dialog").count() == 0


def test_paid_sections_show_in_the_nav_for_a_booker_who_holds_them(new_page, demo_server, viewport):
    page = new_page(viewport)
    page.goto(demo_server.at("/portal/events/"))
    nav = page.get_by_role("navigation", name="Portal sections")
    for name, path in [("Memberships", "memberships"), ("Passes", "passes"), ("Vouchers", "vouchers")]:
        nav.get_by_role("link", name=name).click()
        page.wait_for_url(f"**/portal/{path}/")
        assert page.get_by_role("heading", name=name, exact=True).is_visible()
        assert_fits(page)


def test_update_email(fresh_user, new_page, demo_server, viewport):
    user, password = fresh_user()
    page = new_page(viewport, logged_in=False)
    log_in(page, demo_server.url, user.email, password, next_path="/portal/account/")
    check(page, viewport, "account page")
    page.get_by_role("link", name="Update email").click()
    page.wait_for_url("**/accounts/email/")
    check(page, viewport, "email page")

    new_email = "new-" + user.email
    page.get_by_label("New email").fill(new_email)
    page.get_by_role("button", name="Update email").click()
    page.wait_for_load_state()
    if "/accounts/reauthenticate/" in page.url:  # allauth asks for the password again first
        check(page, viewport, "reauthenticate page")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Confirm").click()

    page.wait_for_url("**/accounts/email/")
    page.locator(f"input[value='{new_email}']").first.wait_for(state="attached")
    user.refresh_from_db()
    assert user.email != new_email  # not until they confirm it from the new inbox
    assert user.emailaddress_set.filter(email=new_email, verified=False).exists()


def test_change_password(fresh_user, new_page, demo_server, viewport):
    user, password = fresh_user()
    page = new_page(viewport, logged_in=False)
    log_in(page, demo_server.url, user.email, password, next_path="/portal/account/")
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url("**/accounts/password/change/")
    check(page, viewport, "change password page")

    page.get_by_label("Current password").fill(password)
    page.get_by_label("New password", exact=True).fill("a-brand-new-secret-2026")
    page.get_by_label("New password (again)").fill("a-brand-new-secret-2026")
    page.get_by_role("button", name="Change password").click()

    page.wait_for_url("**/portal/account/")
    user.refresh_from_db()
    assert user.check_password("a-brand-new-secret-2026")


def test_delete_account(fresh_user, new_page, demo_server, viewport):
    user, password = fresh_user()
    page = new_page(viewport, logged_in=False)
    log_in(page, demo_server.url, user.email, password, next_path="/portal/account/")
    page.get_by_role("link", name="Delete account…").click()
    dialog = page.locator("#modal dialog")
    dialog.wait_for()
    settled(page)
    check(page, viewport, "delete account dialog")
    dialog.get_by_label("Your password").fill(password)
    dialog.get_by_role("button", name="Delete my account").click()

    page.wait_for_url(demo_server.at("/"))
    assert "Your account has been deleted" in page.locator("#messages").inner_text()
    assert not type(user).objects.filter(pk=user.pk).exists()
