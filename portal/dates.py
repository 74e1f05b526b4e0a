from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


def local_date(moment: datetime | None, organiser) -> str:
    """A day as the organiser's bookers read it ("28 February 2030"), in the organiser's time zone."""
    if moment is None:
        return ""
    return date_format(timezone.localtime(moment, organiser.tzinfo), "j F Y")
