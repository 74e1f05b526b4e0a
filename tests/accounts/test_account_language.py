"""The Account page's language choice: saved on the account (so it follows the booker to other
browsers and into emails), or given back to the browser (issue 25)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

ACCOUNT = reverse("accounts:account")


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def selected(page: str, select_id: str) -> str:
    select = page[page.index(f'id="{select_id}"') :]
    select = select[: select.index("</select>")]
    return re.search(r'<option value="([^"]*)"[^>]*\bselected\b', select).group(1)


@pytest.mark.django_db
def test_the_account_page_shows_the_saved_language_and_saves_a_new_one(client_as_booker, booker):
    booker.language = "de"
    booker.save()
    page = client_as_booker.get(ACCOUNT).content.decode()
    assert selected(page, "account-language") == "de"

    response = client_as_booker.post(reverse("set_language"), {"language": "es", "next": ACCOUNT})

    assert response.status_code == 302 and response["Location"] == ACCOUNT
    booker.refresh_from_db()
    assert booker.language == "es"
    other_browser = Client()
    other_browser.force_login(booker)
    assert html_lang(other_browser.get(ACCOUNT, HTTP_ACCEPT_LANGUAGE="fr")) == "es"


@pytest.mark.django_db
def test_the_browsers_language_can_be_chosen_again(client_as_booker, booker):
    client_as_booker.post(reverse("set_language"), {"language": "fr", "next": ACCOUNT})

    client_as_booker.post(reverse("set_language"), {"language": "", "next": ACCOUNT})

    booker.refresh_from_db()
    assert booker.language == ""
    page = client_as_booker.get(ACCOUNT, HTTP_ACCEPT_LANGUAGE="de")
    assert html_lang(page) == "de"
    assert selected(page.content.decode(), "account-language") == ""
