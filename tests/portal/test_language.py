"""Which language the portal speaks: the booker's saved choice, then the language of the link they
followed, then the browser's, then the organiser's default (for guests and their emails)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from portal.money import format_money
from tests.factories import EventFactory, TicketTypeFactory

HOME = "/"


def html_lang(response) -> str:
    text = response.content.decode()
    start = text.index("<html lang=") + len('<html lang="')
    return text[start : text.index('"', start)]


@pytest.mark.django_db
def test_the_browsers_language_is_spoken_when_nothing_else_was_chosen(client):
    response = client.get(HOME, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")

    assert html_lang(response) == "fr"
    assert response["Content-Language"] == "fr"


@pytest.mark.django_db
def test_an_unsupported_browser_language_falls_back_to_british_english(client):
    assert html_lang(client.get(HOME, HTTP_ACCEPT_LANGUAGE="ja")) == "en-gb"


@pytest.mark.django_db
def test_the_bookers_saved_choice_wins_over_the_browser(client, booker):
    booker.language = "de"
    booker.save()
    client.force_login(booker)

    response = client.get(reverse("bookings:event_list"), HTTP_ACCEPT_LANGUAGE="fr")

    assert html_lang(response) == "de"


@pytest.mark.django_db
def test_the_language_of_a_followed_link_wins_over_the_browser_and_is_remembered(client):
    assert html_lang(client.get(HOME + "?lang=es", HTTP_ACCEPT_LANGUAGE="fr")) == "es"
    assert html_lang(client.get(HOME, HTTP_ACCEPT_LANGUAGE="fr")) == "es"  # the next page too


@pytest.mark.django_db
def test_a_guest_on_an_organisers_page_gets_the_organisers_language_when_the_browser_has_none_of_ours(
    client, organiser
):
    organiser.default_language = "de"
    organiser.save()
    event = EventFactory(organiser=organiser)
    TicketTypeFactory(event=event)

    page = client.get(reverse("organiser_page", args=[organiser.slug]), HTTP_ACCEPT_LANGUAGE="ja")
    booking_page = client.get(
        reverse("event_book", args=[organiser.slug, event.code]), HTTP_ACCEPT_LANGUAGE="ja"
    )
    french_browser = client.get(reverse("organiser_page", args=[organiser.slug]), HTTP_ACCEPT_LANGUAGE="fr")

    assert html_lang(page) == "de" and html_lang(booking_page) == "de"
    assert html_lang(french_browser) == "fr"


@pytest.mark.django_db
def test_the_footer_switcher_works_without_javascript_and_saves_a_bookers_choice(client, booker):
    client.force_login(booker)
    page = client.get(HOME).content.decode()
    assert 'action="/i18n/setlang/"' in page and 'name="language"' in page

    response = client.post("/i18n/setlang/", {"language": "fr", "next": HOME})

    assert response.status_code == 302
    booker.refresh_from_db()
    assert booker.language == "fr"
    assert html_lang(Client().get(HOME, HTTP_ACCEPT_LANGUAGE="de")) == "de"  # another browser: its own
    assert html_lang(client.get(HOME, HTTP_ACCEPT_LANGUAGE="de")) == "fr"


@pytest.mark.django_db
def test_an_unknown_language_is_refused_quietly(client):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": HOME})

    assert response.status_code == 302
    assert html_lang(client.get(HOME)) == "en-gb"


@pytest.mark.parametrize(
    "language,amount,currency,shown",
    [
        ("en-gb", 1200, "GBP", "£12.00"),
        ("fr", 1200, "EUR", "12,00\u00a0€"),
        ("de", 123456, "EUR", "1.234,56\u00a0€"),
        ("es", 1200, "EUR", "12,00\u00a0€"),
        ("fr", 5000, "JPY", "5\u202f000\u00a0JPY"),
    ],
)
def test_money_is_written_the_way_the_language_writes_it(language, amount, currency, shown):
    with translation.override(language):
        assert format_money(amount, currency) == shown
