from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext


def local_date(moment: datetime | None, organiser) -> str:
    """A day as the organiser's bookers read it ("28 February 2030"), in the organiser's time zone."""
    if moment is None:
        return ""
    return date_format(timezone.localtime(moment, organiser.tzinfo), gettext("j F Y"))


def zone_label(moment: datetime | None, time_zone: str) -> str:
    """The time zone as a booker reads it beside a time: its abbreviation at that moment ("GMT",
    "BST", "CET"), or "<City> time" where the zone has only a numeric one ("+03")."""
    if moment is None:
        return ""
    abbreviation = timezone.localtime(moment, zoneinfo.ZoneInfo(time_zone)).tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    return time_zone.rsplit("/", 1)[-1].replace("_", " ") + " time"
