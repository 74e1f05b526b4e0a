"""axe-core on every portal page, and on every dialog as the page it is without JavaScript, at
desktop and phone width: no serious or critical violation. And every control on the Events page
and in its dialog can be reached with the Tab key."""

from __future__ import annotations

import pytest

from bookings.models import Attendee, Event, WaitingListEntry
from memberships.demo import ACTIVE_CODE
from memberships.models import MembershipInvoice
from passes.models import Pass
from tests.browser.conftest import DEMO_EMAIL, assert_accessible, assert_fits, settled
from vouchers.models import Voucher


def portal_pages() -> list[str]:
    yin = Event.objects.get(title="Yin & Restore")
    ticket = yin.ticket_types.get(name="Drop-in")
    waiting = WaitingListEntry.objects.filter(email=DEMO_EMAIL, event__title="Full Moon Workshop").first()
    invoice = MembershipInvoice.objects.filter(membership__code=ACTIVE_CODE).first()
    transfer = "/portal/bookings/RYDEMO01/transfer/"
    # RYDEMO01 holds two tickets: its steps after "which tickets" carry the choice (#21).
    both = "".join(
        f"&move={pk}"
        for pk in Attendee.objects.filter(booking__reference="RYDEMO01").values_list("pk", flat=True)
    )
    return [
        "/portal/events/",
        "/portal/events/?tab=cancelled",
        "/portal/events/?tab=past",
        "/portal/events/?tab=waiting",
        "/portal/bookings/RYDEMO01/",
        "/portal/bookings/RYDEMO02/",
        "/portal/bookings/RYDEMO03/",
        "/portal/bookings/RYDEMO01/manage/",
        "/portal/bookings/LEDEMO01/manage/",
        "/portal/bookings/RYDEMO01/cancel/",
        transfer,
        f"{transfer}?choosing=1{both}",
        f"{transfer}?choosing=1{both}&event={yin.code}",
        f"{transfer}?choosing=1{both}&event={yin.code}&ticket={ticket.pk}",
        "/portal/bookings/LEDEMO01/transfer/",
        "/portal/bookings/LEDEMO01/cancel/",  # two tickets: which to cancel
        "/portal/bookings/LEDEMO01/details/",
        "/portal/bookings/LEDEMO01/give/",
        f"/portal/waiting/{waiting.code}/",
        f"/portal/waiting/{waiting.code}/leave/",
        "/portal/memberships/",
        f"/portal/memberships/{ACTIVE_CODE}/invoices/",
        f"/portal/memberships/{ACTIVE_CODE}/invoices/{invoice.code}/",
        f"/portal/memberships/{ACTIVE_CODE}/card/",
        f"/portal/memberships/{ACTIVE_CODE}/cancel/",
        "/portal/passes/",
        f"/portal/passes/{Pass.objects.filter(user__email=DEMO_EMAIL).first().code}/",
        "/portal/vouchers/",
        f"/portal/vouchers/{Voucher.objects.filter(recipient_email=DEMO_EMAIL).first().public_id}/",
        "/portal/account/",
        "/portal/account/delete/",
        "/portal/calendar/",
        "/portal/calendar/feed/new-address/",
        "/accounts/email/",
        "/accounts/password/change/",
    ]


PUBLIC_PAGES = ["/", "/riverside-yoga/", "/little-explorers/", "/accounts/login/", "/portal/link/new/"]


def test_every_portal_page_and_dialog_page(new_page, demo_server, viewport):
    page = new_page(viewport)
    for path in portal_pages():
        response = page.goto(demo_server.at(path))
        assert response.ok, f"{path}: {response.status}"
        assert_accessible(page, path)
        assert_fits(page)


def test_every_public_page(new_page, demo_server, viewport):
    page = new_page(viewport, logged_in=False)
    for path in PUBLIC_PAGES:
        response = page.goto(demo_server.at(path))
        assert response.ok, f"{path}: {response.status}"
        assert_accessible(page, path)
        assert_fits(page)


FOCUSABLE = """
[...document.querySelectorAll('a[href], button, select, input:not([type=hidden]), textarea, summary')]
  .filter(e => !e.disabled && e.offsetParent !== null && !e.closest('[inert]'))
  .filter(e => !document.querySelector('dialog[open]') || document.querySelector('dialog[open]').contains(e))
  .map(e => e.outerHTML.slice(0, 120))
"""


def tab_through(page, limit=80) -> set[str]:
    reached = set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.outerHTML.slice(0, 120)"))
    return reached


@pytest.mark.parametrize("with_dialog", [False, True], ids=["page", "dialog"])
def test_every_control_is_reachable_with_the_keyboard(new_page, demo_server, with_dialog):
    page = new_page()
    page.goto(demo_server.at("/portal/events/"))
    if with_dialog:
        page.locator("#booking-RYDEMO01").get_by_role("link", name="Manage").click()
        page.locator("#modal dialog").wait_for()
        settled(page)
    controls = set(page.evaluate(FOCUSABLE))
    assert controls
    missing = controls - tab_through(page, limit=len(controls) + 10)
    assert not missing, f"not reachable with Tab: {missing}"
