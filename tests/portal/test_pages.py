from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import EventFactory, TicketTypeFactory


@pytest.mark.django_db
def test_the_home_page_offers_booker_and_organiser_logins(client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Booker account" in html and "Organiser account" in html
    assert f"{reverse('account_login')}?next=/portal/" in html
    assert f"{reverse('admin:login')}?next=/admin/" in html


@pytest.mark.django_db
def test_an_organiser_page_lists_only_its_own_upcoming_events(client, organiser, other_organiser):
    TicketTypeFactory(event__organiser=organiser, event__title="Morning Flow", name="Drop-in", price=1250)
    EventFactory(organiser=organiser, title="Old Class", starts_at=timezone.now() - timedelta(days=1))
    EventFactory(organiser=organiser, title="Called Off", status="cancelled")
    EventFactory(organiser=other_organiser, title="Their Class")

    response = client.get(f"/{organiser.slug}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Morning Flow" in html and "£12.50" in html
    assert "Old Class" not in html and "Called Off" not in html and "Their Class" not in html


@pytest.mark.django_db
def test_an_organiser_page_links_log_in_to_the_portal_filtered_to_it(client, organiser):
    html = client.get(f"/{organiser.slug}/").content.decode()
    assert "next=/portal/events/%3Forganiser%3Driverside" in html


@pytest.mark.django_db
def test_an_organiser_without_events_says_so(client, organiser):
    assert "No upcoming events" in client.get(f"/{organiser.slug}/").content.decode()


@pytest.mark.django_db
def test_an_unknown_organiser_is_a_404_page_in_our_look(client):
    response = client.get("/no-such-organiser/")

    assert response.status_code == 404
    assert "We can't find that page" in response.content.decode()
    assert 'class="site-header"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/portal/events/", "/portal/memberships/", "/portal/passes/", "/portal/vouchers/", "/portal/account/"],
)
def test_portal_pages_ask_for_a_login_and_come_back(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/portal/events/", "/portal/memberships/", "/portal/passes/", "/portal/vouchers/", "/portal/account/"],
)
def test_portal_pages_render_for_a_booker(client_as_booker, url):
    response = client_as_booker.get(url)
    assert response.status_code == 200
    assert 'aria-label="Account (booker@example.com)"' in response.content.decode()


@pytest.mark.django_db
def test_the_portal_root_goes_to_events(client_as_booker):
    response = client_as_booker.get("/portal/")
    assert response.status_code == 302 and response.url == "/portal/events/"


@pytest.mark.django_db
def test_an_unknown_events_tab_falls_back_to_upcoming(client_as_booker):
    response = client_as_booker.get("/portal/events/?tab=nonsense")
    assert response.context["tab"] == "upcoming"


@pytest.mark.django_db
def test_healthz_and_home_reject_posts(client):
    assert client.post("/").status_code == 405
    assert client.post("/healthz").status_code == 405
