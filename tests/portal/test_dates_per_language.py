"""Dates and times are written the way the booker's language writes them, in the organiser's time
zone: the date formats are translatable strings ("j F Y" is "j. F Y" in German), the day and month
names come in the language (issue 25)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from portal.dates import local_date
from portal.templatetags.portal_ui import when
from tests.factories import EventFactory


@pytest.fixture
def event(organiser):
    organiser.time_zone = "Europe/London"
    organiser.save()
    return EventFactory(
        organiser=organiser,
        starts_at=datetime(2026, 12, 6, 10, 0, tzinfo=UTC),
        ends_at=datetime(2026, 12, 6, 11, 15, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "language,shown",
    [
        ("en-gb", "Sunday 6 December 2026, 10:00–11:15 GMT"),
        ("de", "Sonntag, 6. Dezember 2026, 10:00–11:15 GMT"),
        ("fr", "dimanche 6 décembre 2026, 10:00–11:15 GMT"),
        ("es", "domingo, 6 de diciembre de 2026, 10:00–11:15 GMT"),
    ],
)
@pytest.mark.django_db
def test_an_events_time_reads_the_way_the_language_writes_it(event, language, shown):
    with translation.override(language):
        assert when(event, event.organiser) == shown


@pytest.mark.parametrize(
    "language,shown",
    [
        ("en-gb", "6 December 2026"),
        ("de", "6. Dezember 2026"),
        ("fr", "6 décembre 2026"),
        ("es", "6 de diciembre de 2026"),
    ],
)
@pytest.mark.django_db
def test_a_day_reads_the_way_the_language_writes_it_in_the_organisers_time_zone(event, language, shown):
    late_evening_in_new_york = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    event.organiser.time_zone = "America/New_York"
    with translation.override(language):
        assert local_date(late_evening_in_new_york, event.organiser) == shown
