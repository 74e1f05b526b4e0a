"""The Account page's time zone: saved on the account, chosen from the zones people live in, or
left empty for the organiser's zone; it changes only the logged-in booker's own account."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ACCOUNT = reverse("accounts:account")
SAVE = reverse("accounts:account_time_zone")


def selected(page: str) -> str:
    select = page[page.index('id="account-time-zone"') :]
    select = select[: select.index("</select>")]
    found = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', select)
    return found.group(1) if found else ""


def test_the_account_page_offers_the_organisers_zone_by_default_and_the_zones_by_area(client_as_booker):
    page = client_as_booker.get(ACCOUNT).content.decode()

    assert selected(page) == ""
    assert "The organiser&#x27;s time zone" in page or "The organiser's time zone" in page
    assert (
        '<optgroup label="America">' in page and '<option value="America/New_York">New York</option>' in page
    )
    assert 'value="US/Eastern"' not in page and 'value="Etc/GMT+5"' not in page  # aliases, offsets
    assert '<label for="account-time-zone">Your time zone</label>' in page


def test_the_areas_are_named_in_the_bookers_language(client_as_booker, booker):
    booker.language = "de"
    booker.save(update_fields=["language"])

    page = client_as_booker.get(ACCOUNT).content.decode()

    assert '<optgroup label="Europa">' in page and '<optgroup label="Pazifik">' in page
    assert '<option value="Europe/Berlin">Berlin</option>' in page  # the place keeps its name


def test_a_booker_saves_a_time_zone_and_sees_it_chosen(client_as_booker, booker):
    response = client_as_booker.post(SAVE, {"time_zone": "Asia/Tokyo"})

    assert response.status_code == 302 and response["Location"].startswith(ACCOUNT)
    booker.refresh_from_db()
    assert booker.time_zone == "Asia/Tokyo"
    page = client_as_booker.get(ACCOUNT).content.decode()
    assert selected(page) == "Asia/Tokyo"
    assert "now told in Asia/Tokyo" in page


def test_choosing_the_organisers_zone_again_empties_it(client_as_booker, booker):
    booker.time_zone = "Asia/Tokyo"
    booker.save()

    client_as_booker.post(SAVE, {"time_zone": ""})

    booker.refresh_from_db()
    assert booker.time_zone == ""


@pytest.mark.parametrize("bad", ["Mars/Olympus", "US/Eastern", "<script>", "x" * 200])
def test_a_zone_not_in_the_list_is_refused_and_nothing_changes(client_as_booker, booker, bad):
    booker.time_zone = "Europe/Paris"
    booker.save()

    response = client_as_booker.post(SAVE, {"time_zone": bad}, follow=True)

    booker.refresh_from_db()
    assert booker.time_zone == "Europe/Paris"
    assert "Choose a time zone from the list." in response.content.decode()


def test_saving_changes_only_the_logged_in_bookers_account(client_as_booker, booker, other_booker):
    # A body naming someone else (their id or address) changes nothing of theirs.
    client_as_booker.post(
        SAVE,
        {
            "time_zone": "Asia/Tokyo",
            "user": other_booker.pk,
            "email": other_booker.email,
            "id": other_booker.pk,
        },
    )

    other_booker.refresh_from_db()
    booker.refresh_from_db()
    assert other_booker.time_zone == "" and booker.time_zone == "Asia/Tokyo"
    assert other_booker.email != booker.email


def test_a_visitor_without_an_account_is_sent_to_log_in_and_a_get_is_refused(client):
    someone = UserFactory(time_zone="")
    response = client.post(SAVE, {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    someone.refresh_from_db()
    assert someone.time_zone == ""
    client.force_login(someone)
    assert client.get(SAVE).status_code == 405
