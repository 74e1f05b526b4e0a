"""Signed "View booking" links.

A link names one booking and carries that booking's current link secret (128 random bits);
rotating the secret revokes every link sent so far. It expires 90 days after the event ends.
Opening a link grants this browser session that one booking — it never logs anyone in.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from bookings.models import Booking, new_link_secret

SALT = "bookings.view-booking-link"
LINK_LIFETIME_AFTER_EVENT = timedelta(days=90)
SESSION_KEY = "booking_grants"


def link_expiry(booking: Booking):
    return booking.event.ends_at + LINK_LIFETIME_AFTER_EVENT


def make_token(booking: Booking) -> str:
    payload = {"r": booking.reference, "s": booking.link_secret, "e": int(link_expiry(booking).timestamp())}
    return signing.dumps(payload, salt=SALT, compress=True)


def view_booking_url(booking: Booking) -> str:
    return settings.SITE_URL + reverse("bookings:booking_link", args=[make_token(booking)])


def booking_for_token(token: str) -> Booking | None:
    """The booking a token grants, or None if it is tampered, expired or revoked."""
    try:
        payload = signing.loads(token, salt=SALT)
        reference, secret, expires = payload["r"], payload["s"], int(payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if timezone.now().timestamp() > expires:
        return None
    booking = Booking.objects.select_related("event", "organiser").filter(reference=reference).first()
    if booking is None or not constant_time_compare(booking.link_secret, secret):
        return None
    return booking


def grant(session, booking: Booking) -> None:
    grants = dict(session.get(SESSION_KEY, {}))
    grants[booking.reference] = {"s": booking.link_secret, "e": int(link_expiry(booking).timestamp())}
    session[SESSION_KEY] = grants


def is_granted(session, booking: Booking) -> bool:
    held = session.get(SESSION_KEY, {}).get(booking.reference)
    return bool(
        held
        and constant_time_compare(held["s"], booking.link_secret)
        and timezone.now().timestamp() <= held["e"]
    )


def revoke_links(booking: Booking) -> None:
    booking.link_secret = new_link_secret()
    booking.save(update_fields=["link_secret", "updated_at"])
