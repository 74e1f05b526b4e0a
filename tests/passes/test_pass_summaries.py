"""A pass type's summaries ("5 tickets", "valid 90 days from purchase", "6 December 2026 to ...")
are sentences of the page's language, counted and dated the language's way (issue 25)."""

from __future__ import annotations

from datetime import date

from django.utils import translation

from passes.models import PassType
from tests.passes.factories import PassTypeFactory


def test_summaries_count_in_english():
    one = PassTypeFactory.build(uses_included=1, validity_days=1)
    many = PassTypeFactory.build(uses_included=5, validity_days=90)

    with translation.override("en-gb"):
        assert (one.uses_summary, one.validity_summary) == ("1 ticket", "1 day from purchase")
        assert (many.uses_summary, many.validity_summary) == ("5 tickets", "90 days from purchase")


def test_fixed_dates_are_written_in_the_pages_language():
    season = PassTypeFactory.build(
        validity=PassType.Validity.DATES, valid_from=date(2026, 12, 6), valid_until=date(2027, 3, 1)
    )

    with translation.override("en-gb"):
        assert season.validity_summary == "6 December 2026 to 1 March 2027"
    with translation.override("fr"):
        assert "6 décembre 2026" in season.validity_summary and "1 mars 2027" in season.validity_summary
    with translation.override("de"):
        assert "6. Dezember 2026" in season.validity_summary
