from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy


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


# The zones a booker may choose: the places people live (the IANA areas), and UTC; not the
# legacy aliases ("US/Eastern", "GB") nor the fixed offsets ("Etc/GMT+5").
AREAS = {
    "Africa": pgettext_lazy("time zone area", "Africa"),
    "America": pgettext_lazy("time zone area", "America"),
    "Antarctica": pgettext_lazy("time zone area", "Antarctica"),
    "Arctic": pgettext_lazy("time zone area", "Arctic"),
    "Asia": pgettext_lazy("time zone area", "Asia"),
    "Atlantic": pgettext_lazy("time zone area", "Atlantic Ocean"),
    "Australia": pgettext_lazy("time zone area", "Australia"),
    "Europe": pgettext_lazy("time zone area", "Europe"),
    "Indian": pgettext_lazy("time zone area", "Indian Ocean"),
    "Pacific": pgettext_lazy("time zone area", "Pacific Ocean"),
}


def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]] | tuple[str, str]]:
    """The zones a booker may choose, grouped by area for a <select> (<optgroup>), each labelled
    with its place ("New York", "Argentina/Buenos Aires"); UTC last."""
    names = sorted(name for name in zoneinfo.available_timezones() if name.split("/", 1)[0] in AREAS)
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        area, place = name.split("/", 1)
        groups.setdefault(area, []).append((name, place.replace("_", " ")))
    # Areas named in the reader's language; the places keep the database's (English) names.
    return [*((AREAS[area], places) for area, places in groups.items()), ("UTC", "UTC")]


def reader_time_zone(user, organiser) -> str:
    """The zone to tell a booker a time in: the one saved on their account, else the organiser's
    (a guest, or a booker who chose none). `user` may be anonymous or None."""
    own = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
    return own or organiser.time_zone
