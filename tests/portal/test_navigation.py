"""The portal's section navigation and the organiser's public page are filled by the apps
(portal.navigation), in a fixed order, whatever order the apps registered in."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from portal import navigation
from portal.models import Organiser
from tests.factories import BookingFactory, OrganiserFactory
from tests.memberships.factories import MembershipPlanFactory
from tests.passes.factories import PassFactory, PassTypeFactory


def nav_links(client) -> list[tuple[str, bool]]:
    html = client.get(reverse("bookings:event_list")).content.decode()
    nav = html[html.index('aria-label="Portal sections"') :].split("</nav>")[0]
    return [
        (label, "aria-current" in attributes)
        for attributes, label in re.findall(r"<a ([^>]*)>([^<]+)</a>", nav)
    ]


@pytest.mark.django_db
def test_a_booker_with_nothing_paid_sees_events_and_memberships(client_as_booker):
    assert nav_links(client_as_booker) == [("Events", True), ("Memberships", False)]


@pytest.mark.django_db
def test_a_booker_who_holds_a_pass_sees_every_section_in_order(client_as_booker, booker, organiser):
    PassFactory(organiser=organiser, user=booker)

    assert nav_links(client_as_booker) == [
        ("Events", True),
        ("Memberships", False),
        ("Passes", False),
        ("Vouchers", False),
    ]


@pytest.mark.django_db
def test_a_booking_with_an_organiser_on_a_paid_plan_shows_the_paid_sections(client_as_booker, booker):
    BookingFactory(organiser=OrganiserFactory(plan=Organiser.Plan.FREE), user=booker)
    assert [label for label, _ in nav_links(client_as_booker)] == ["Events", "Memberships"]

    BookingFactory(organiser=OrganiserFactory(plan=Organiser.Plan.STANDARD), user=booker)
    assert [label for label, _ in nav_links(client_as_booker)][2:] == ["Passes", "Vouchers"]


@pytest.mark.django_db
def test_whether_to_show_the_paid_sections_is_one_query_asked_once_per_request(
    booker, django_assert_num_queries
):
    request = RequestFactory().get("/")
    request.user = booker

    with django_assert_num_queries(1):
        assert [s.key for s in navigation.section_list_for(request)] == ["events", "memberships"]
        assert navigation.paid_sections_visible(request) is False


def test_nobody_logged_in_sees_no_paid_section():
    request = RequestFactory().get("/")
    request.user = type("Anonymous", (), {"is_authenticated": False})()

    assert navigation.paid_sections_visible(request) is False
    assert navigation.paid_sections_visible(None) is False


@pytest.mark.django_db
def test_the_organiser_page_shows_each_apps_part_in_order(client, organiser):
    MembershipPlanFactory(organiser=organiser, name="Monthly Unlimited")
    PassTypeFactory(organiser=organiser)

    html = client.get(f"/{organiser.slug}/").content.decode()

    parts = [html.index(marker) for marker in ("Upcoming events", "Monthly Unlimited", "Buy a pass")]
    assert parts == sorted(parts)
    assert [p.key for p in navigation.organiser_page_part_list()] == ["events", "memberships", "passes"]
