"""The portal in German, French and Spanish as a person on a phone meets it: the browser's language
is spoken, the page says which (`<html lang>`), nothing runs off the side at 320 px in the longest
language (German), the header stays on one line, and axe finds nothing serious (issue 25)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, assert_fits
from tests.browser.test_design import HEADER_ON_ONE_LINE, SMALL_PHONE, main_pages

LANGUAGES = {"de": ("de-DE", "Abmelden"), "fr": ("fr-FR", "Se déconnecter"), "es": ("es-ES", "Cerrar sesión")}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_main_page_fits_a_small_phone_in_each_language(new_page, demo_server, language):
    browser_locale, log_out = LANGUAGES[language]
    for logged_in in (False, True):
        page = new_page(SMALL_PHONE, logged_in=logged_in, locale=browser_locale)
        for path, needs_login in main_pages():
            if needs_login != logged_in:
                continue
            assert page.goto(demo_server.at(path)).ok, path
            assert page.evaluate("document.documentElement.lang") == language, path
            assert_fits(page)
            assert page.evaluate(HEADER_ON_ONE_LINE), f"{path} in {language}: the header wraps"
        if logged_in:
            assert (
                page.get_by_role("button", name=log_out).count()
                + page.get_by_role("link", name=log_out).count()
            ), f"the header is not in {language}"


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_pages_are_accessible_in_another_language(new_page, demo_server, language):
    browser_locale, _ = LANGUAGES[language]
    page = new_page(logged_in=True, locale=browser_locale)
    for path in ("/portal/events/", "/riverside-yoga/", "/portal/account/"):
        page.goto(demo_server.at(path))
        assert_accessible(page, f"{path} in {language}")
