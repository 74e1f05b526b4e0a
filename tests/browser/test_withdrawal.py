"""Withdraw from contract here, as a person does it: from the pass's card to the Confirm
withdrawal step and back, at desktop and phone width, with and without JavaScript; and the
receipt page with its PDF."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import DEMO_EMAIL, DESKTOP, assert_accessible, assert_fits

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])


@pytest.fixture
def fresh_pass(demo_server):
    """A pass the demo booker bought online two days ago (one of three uses taken)."""
    from accounts.models import User
    from passes.models import Pass, PassType
    from portal.models import Organiser

    def make():
        riverside = Organiser.objects.get(slug="riverside-yoga")
        pass_type, _ = PassType.objects.get_or_create(
            organiser=riverside,
            name="Three-class taster",
            defaults={"price": 3000, "uses_included": 3, "validity": "days", "validity_days": 30},
        )
        bought = timezone.now() - timedelta(days=2)
        return Pass.objects.create(
            organiser=riverside,
            pass_type=pass_type,
            user=User.objects.get(email=DEMO_EMAIL),
            buyer_email=DEMO_EMAIL,
            status=Pass.Status.ACTIVE,
            uses_included=3,
            uses_left=2,
            valid_from=bought,
            valid_until=bought + timedelta(days=30),
            price=3000,
            currency=riverside.currency,
            paid_at=bought,
            idempotency_key=uuid.uuid4().hex,
            payment_reference="offline_pay_browser",
        )

    return make


@JS
def test_withdraw_from_a_pass_from_its_card(new_page, demo_server, fresh_pass, viewport, javascript):
    from passes.models import Pass
    from portal.models import Withdrawal

    pass_ = fresh_pass()
    page = new_page(viewport, javascript=javascript)
    page.goto(demo_server.at("/portal/passes/"))

    card = page.locator(f"#pass-{pass_.code}")
    card.get_by_role("link", name="Withdraw from contract here").click()
    step = page.get_by_role("dialog", name="Withdraw from contract")
    if javascript:
        step.wait_for()
        assert page.url.endswith("/portal/passes/")  # the step opened in place
    else:
        page.wait_for_url(f"**/portal/withdraw/pass/{pass_.code}/")
    assert "Three-class taster pass" in step.inner_text()
    assert "1 of 3 uses taken" in step.inner_text() and "£20.00" in step.inner_text()
    assert DEMO_EMAIL in step.inner_text()  # where the confirmation goes: nothing to type
    assert_fits(page)
    if viewport == DESKTOP and javascript:
        assert_accessible(page, "withdrawal dialog")

    page.get_by_role("button", name="Confirm withdrawal").click()
    page.get_by_text("You have withdrawn from this contract").wait_for()

    if javascript:  # back on the passes, the card as it is now
        assert page.url.endswith("/portal/passes/")
        card = page.locator(f"#pass-{pass_.code}")
        assert "Cancelled" in card.inner_text()
        assert card.get_by_role("link", name="Withdraw from contract here").count() == 0
    else:
        assert "You withdrew from this contract" in page.get_by_role("main").inner_text()
    assert page.get_by_role("button", name="Confirm withdrawal").count() == 0
    assert_fits(page)
    withdrawal = Withdrawal.objects.get(kind="pass", contract_code=str(pass_.code))
    assert withdrawal.refund_amount == 2000
    assert Pass.objects.get(pk=pass_.pk).status == Pass.Status.VOID

    # The back button and a second visit change nothing: the step says what happened.
    page.go_back()
    page.goto(demo_server.at(f"/portal/withdraw/pass/{pass_.code}/"))
    assert "You withdrew from this contract" in page.get_by_role("main").inner_text()
    assert Withdrawal.objects.filter(contract_code=str(pass_.code)).count() == 1


def test_the_receipt_page_offers_its_pdf(new_page, demo_server, fresh_pass, viewport):
    pass_ = fresh_pass()
    page = new_page(viewport)
    page.goto(demo_server.at(f"/portal/passes/{pass_.code}/"))
    page.get_by_role("link", name="Receipt").first.click()
    page.wait_for_url(f"**/portal/receipts/pass/{pass_.code}/")

    assert "Receipt" in page.get_by_role("heading", level=1).inner_text()
    assert "£30.00" in page.get_by_role("main").inner_text()
    assert_fits(page)
    if viewport == DESKTOP:
        assert_accessible(page, "receipt")
    href = page.get_by_role("link", name="Download PDF").get_attribute("href")
    pdf = page.request.get(demo_server.at(href))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")


@JS
def test_withdraw_from_a_new_membership_from_its_manage_menu(new_page, demo_server, javascript):
    from accounts.models import User
    from memberships.models import Membership, MembershipInvoice, MembershipPlan
    from portal.models import Organiser

    riverside = Organiser.objects.get(slug="riverside-yoga")
    plan, _ = MembershipPlan.objects.get_or_create(
        organiser=riverside, name="Weekday Mornings", defaults={"price": 3100, "interval": "month"}
    )
    start = timezone.now() - timedelta(days=4, hours=1)
    membership = Membership.objects.create(
        organiser=riverside,
        plan=plan,
        user=User.objects.get(email=DEMO_EMAIL),
        status=Membership.Status.ACTIVE,
        gateway="offline",
        customer_reference=f"offline_cus_{uuid.uuid4().hex[:8]}",
        subscription_reference=f"offline_sub_{uuid.uuid4().hex[:8]}",
        started_at=start,
        current_period_start=start,
        current_period_end=start + timedelta(days=31),
    )
    MembershipInvoice.objects.create(
        organiser=riverside,
        membership=membership,
        reference=f"offline_in_{uuid.uuid4().hex[:8]}",
        status="paid",
        amount_due=3100,
        amount_paid=3100,
        currency=riverside.currency,
        issued_at=start,
    )
    page = new_page(javascript=javascript)
    page.goto(demo_server.at("/portal/memberships/"))

    card = page.locator(f"#membership-{membership.code}")
    card.get_by_text("Manage").click()
    card.get_by_role("link", name="Withdraw from contract here").click()
    step = page.get_by_role("dialog", name="Withdraw from contract")
    step.wait_for()
    assert "5 of 31 days" in step.inner_text() and "£26.00" in step.inner_text()  # 3100 x 26/31
    step.get_by_role("button", name="Confirm withdrawal").click()
    page.get_by_text("You have withdrawn from this contract").wait_for()

    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELED
    if javascript:
        assert page.url.endswith("/portal/memberships/")
        assert "Ended" in page.locator(f"#membership-{membership.code}").inner_text()
