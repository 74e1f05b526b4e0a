"""Template helpers of the portal's look: organiser branding and time zone labels."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

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
