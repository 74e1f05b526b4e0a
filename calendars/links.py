"""The calendar feed's address, and the reminders' signed one-click unsubscribe links."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from calendars.models import CalendarFeed
from portal.models import Organiser

UNSUBSCRIBE_SALT = "calendars.reminders-unsubscribe"


def feed_url(feed: CalendarFeed) -> str:
    return settings.SITE_URL + reverse("calendars:feed", args=[feed.token])


def unsubscribe_url(*, organiser_id: int, email: str, user_id: int | None) -> str:
    """No expiry: an old reminder's unsubscribe link still works (RFC 8058 asks that it does)."""
    token = signing.dumps(
        {"o": organiser_id, "e": email.lower(), "u": user_id}, salt=UNSUBSCRIBE_SALT, compress=True
    )
    return settings.SITE_URL + reverse("calendars:reminders_unsubscribe", args=[token])


def unsubscribe_for_token(token: str):
    """(organiser, email, user or None) that a link names, or None if it was tampered with."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        organiser_id, email, user_id = int(payload["o"]), str(payload["e"]), payload["u"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    organiser = Organiser.objects.filter(pk=organiser_id).first()
    if organiser is None:
        return None
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return organiser, email, user
