"""Template helpers of the portal's look: organiser branding and time zone labels."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.dateformat import time_format
from django.utils.html import format_html
from django.utils.translation import gettext

from portal.dates import zone_label

register = template.Library()


@register.simple_tag
def brand_css(organiser) -> str:
    """The <link> to one organiser's brand stylesheet (see portal.views.organiser_brand_css)."""
    if organiser is None:
        return ""
    url = reverse("organiser_brand_css", args=[organiser.slug])
    return format_html('<link rel="stylesheet" href="{}?v={}">', url, organiser.brand_version)


@register.filter
def zone(moment, organiser) -> str:
    """`{{ event.starts_at|zone:organiser }}` -> "GMT" / "BST" / "Lima time"."""
    return zone_label(moment, organiser.time_zone)


@register.filter
def zone_in(moment, time_zone: str) -> str:
    """`{{ offer.offer_expires_at|zone_in:hold_zone }}` -> "JST" / "Lima time": the label of a
    zone named directly (a booker's own, see `portal.dates.reader_time_zone`)."""
    return zone_label(moment, time_zone)


@register.filter
def when(event, organiser) -> str:
    """`{{ event|when:organiser }}` -> "Sunday 6 December 2026, 10:00–11:15 GMT": start and end in
    the organiser's time zone, the end's date repeated only when it is another day."""
    tz = organiser.tzinfo
    starts, ends = event.starts_at.astimezone(tz), event.ends_at.astimezone(tz)
    start = date_format(starts, gettext("l j F Y, H:i"))
    end = (
        time_format(ends, gettext("H:i"))
        if ends.date() == starts.date()
        else date_format(ends, gettext("l j F Y, H:i"))
    )
    return f"{start}–{end} {zone_label(event.starts_at, organiser.time_zone)}"
