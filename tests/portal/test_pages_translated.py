"""In each language the pages and emails leave no interface string in English: no entry of the
language's catalogue shows in the rendered text untranslated, and no sentence of the English page
(a string never wrapped for translation, or text stored in English) shows unchanged on the page in
another language (organiser content aside: it comes from the factories) (issue 25)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse

from bookings.tasks import booking_send_confirmation
from portal.dates import time_zone_choices
from tests.factories import AttendeeFactory, EventFactory, TicketTypeFactory

LANGUAGES = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# The Account page's time zones are named by their places in the IANA database ("Argentina/San
# Juan"): proper names, the same in every language, not interface strings.
ZONE_PLACES = {
    label for _, options in time_zone_choices() if isinstance(options, list) for _, label in options
}
PLACEHOLDER = re.compile(r"%\(\w+\)s|<[^>]+>")


def english_left(language: str) -> list[str]:
    """The literal runs of every entry still in English: untranslated, or "translated" as itself
    only when it is a single word (Options is Options in French; a sentence never is)."""
    with Path(settings.BASE_DIR, "locale", language, "LC_MESSAGES", "django.po").open("rb") as source:
        catalogue = read_po(source)
    runs = set()
    for message in catalogue:
        if not message.id:
            continue
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        translation = message.string[0] if isinstance(message.string, tuple) else message.string
        if translation and (translation != singular or " " not in singular):
            continue
        for run in PLACEHOLDER.split(singular.replace("%%", "%")):
            run = " ".join(run.split()).strip(" .,:;·()")
            if len(run) >= 12 and re.search(r"[a-z]{3} [a-z]{3}", run):  # words, not a date format
                runs.add(run)
    return sorted(runs)


def visible_text(page: str) -> str:
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def pages(organiser, booker, client_as_booker):
    event = EventFactory(organiser=organiser)
    TicketTypeFactory(event=event, organiser=organiser)
    booking = AttendeeFactory(
        booking__organiser=organiser, booking__event=event, booking__user=booker
    ).booking
    urls = [
        reverse("home"),
        reverse("organiser_page", args=[organiser.slug]),
        reverse("event_book", args=[organiser.slug, event.code]),
        reverse("bookings:event_list"),
        reverse("bookings:booking_detail", args=[booking.reference]),
        reverse("accounts:account"),
        reverse("passes:pass_list"),
        reverse("vouchers:voucher_list"),
        reverse("memberships:membership_list"),
    ]
    return client_as_booker, booker, booking, urls


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.django_db
def test_no_interface_string_is_left_in_english_on_the_pages(pages, language):
    client, booker, _, urls = pages
    booker.language = language
    booker.save()
    runs = english_left(language)
    left = {}
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        if found := [run for run in runs if run in text]:
            left[url] = found[:5]
    assert not left, left


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.django_db
def test_no_interface_string_is_left_in_english_in_the_confirmation_email(pages, language, mailoutbox):
    _, booker, booking, _ = pages
    booker.language = language
    booker.save()

    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    runs = english_left(language)
    for part in (message.subject, message.body, visible_text(message.alternatives[0][0])):
        assert not [run for run in runs if run in " ".join(part.split())]


def text_nodes(page: str) -> set[str]:
    page = re.sub(r"(?s)<(script|style|title)\b.*?</\1>", " ", page)
    nodes = (" ".join(html.unescape(node).split()) for node in re.split(r"<[^>]+>", page))
    return {node for node in nodes if len(re.findall(r"[A-Za-z]{2,}", node)) >= 3}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.django_db
def test_no_english_sentence_of_a_page_shows_unchanged_in_another_language(pages, language):
    client, booker, booking, urls = pages
    organiser_content = {
        booking.event.title,
        booking.event.description,
        booking.organiser.name,
        booking.booker_name,
        booking.event.venue,
        booker.email,
        booking.organiser.contact_email,
    }
    left = {}
    for url in urls:
        booker.language = "en-gb"
        booker.save()
        english = text_nodes(client.get(url, follow=True).content.decode())
        booker.language = language
        booker.save()
        other = text_nodes(client.get(url, follow=True).content.decode())
        same = {
            node
            for node in english & other
            if not any(content and content in node for content in organiser_content)
            and node not in ZONE_PLACES
        }
        if same:
            left[url] = sorted(same)[:5]
    assert not left, left
