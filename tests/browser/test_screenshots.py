"""`make screenshots`: PNGs of the main pages, desktop (1280×800) and phone (375×812), written to
docs/screenshots/ (or SCREENSHOTS_DIR) from the live demo. Skipped in the ordinary test run (set
SCREENSHOTS=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import VIEWPORTS, settled

OUT = Path(os.environ.get("SCREENSHOTS_DIR") or Path(__file__).resolve().parents[2] / "docs" / "screenshots")

pytestmark = pytest.mark.skipif(
    not os.environ.get("SCREENSHOTS"), reason="`make screenshots` writes docs/screenshots/ (SCREENSHOTS=1)"
)


def open_dialog(page, card, link):
    page.locator(card).get_by_role("link", name=link).first.click()
    page.locator("#modal dialog").wait_for()
    settled(page)


def resolve(path: str) -> str:
    """ "event:<title>" is that event's booking page (its address holds a random code)."""
    if not path.startswith("event:"):
        return path
    from bookings.models import Event

    event = Event.objects.select_related("organiser").get(title=path.removeprefix("event:"))
    return f"/{event.organiser.slug}/events/{event.code}/"


SHOTS = [
    # name, logged in, path, then what to click (or None)
    ("home", False, "/", None),
    ("organiser-page", False, "/riverside-yoga/", None),
    ("organiser-page-little-explorers", False, "/little-explorers/", None),
    ("event-book", False, "event:Sunrise Flow", None),
    ("login", False, "/accounts/login/", None),
    ("password-reset", False, "/accounts/password/reset/", None),
    ("events", True, "/portal/events/", None),
    ("events-past", True, "/portal/events/?tab=past", None),
    ("manage-dialog", True, "/portal/events/", ("#booking-RYDEMO01", "Manage")),
    ("cancel-dialog", True, "/portal/bookings/RYDEMO01/cancel/", None),
    ("transfer-step-1", True, "/portal/bookings/RYDEMO01/transfer/", None),
    ("booking", True, "/portal/bookings/RYDEMO01/", None),
    ("memberships", True, "/portal/memberships/", None),
    ("passes", True, "/portal/passes/", None),
    ("vouchers", True, "/portal/vouchers/", None),
    ("account", True, "/portal/account/", None),
]


@pytest.mark.parametrize("name,logged_in,path,click", SHOTS, ids=[shot[0] for shot in SHOTS])
def test_screenshot(new_page, demo_server, viewport, name, logged_in, path, click):
    OUT.mkdir(parents=True, exist_ok=True)
    size = next(key for key, value in VIEWPORTS.items() if value == viewport)
    page = new_page(viewport, logged_in=logged_in, device_scale_factor=1)
    page.goto(demo_server.at(resolve(path)))
    if click:
        open_dialog(page, *click)
    page.screenshot(path=OUT / f"{name}-{size}.png", full_page=False, animations="disabled")
