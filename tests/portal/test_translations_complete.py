"""Every language the portal offers is complete: its catalogue (locale/<language>/LC_MESSAGES/
django.po) has a translation for every interface string, none of them fuzzy (a guess that
makemessages made from a similar string, which Django never shows), and one catalogue per language
in settings.LANGUAGES besides the English source (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

LOCALE = Path(settings.BASE_DIR, "locale")
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def catalogue(language: str):
    with (LOCALE / language / "LC_MESSAGES" / "django.po").open("rb") as source:
        return read_po(source)


def test_every_language_of_the_portal_has_a_catalogue():
    for language in TRANSLATED:
        assert (LOCALE / language / "LC_MESSAGES" / "django.po").exists(), language


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogue_has_no_untranslated_or_fuzzy_entry(language):
    messages = [message for message in catalogue(language) if message.id]  # the header aside
    untranslated = [
        message.id
        for message in messages
        if not all(message.string if isinstance(message.string, tuple) else [message.string])
    ]
    fuzzy = [message.id for message in messages if message.fuzzy]
    assert not untranslated, f"{len(untranslated)} untranslated in {language}, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {language}, e.g. {fuzzy[:5]}"
