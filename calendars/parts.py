"""What calendars adds to the booker's pages (portal.navigation page parts, registered in
CalendarsConfig.ready): add-to-calendar links on a booking's page, and the calendar feed and
reminder choices on the Account page."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from calendars import ics, selectors


def booking_page_url(booking) -> str:
    """The booking's page: it opens for its owner or the browser its link was opened in. Links
    handed to other services (Google, Outlook, a subscribed calendar) carry this, never a signed
    View booking link, which would let whoever reads them in."""
    return settings.SITE_URL + reverse("bookings:booking_detail", args=[booking.reference])


def booking_links(*, request, page) -> dict:
    booking = page.get("booking")
    if booking is None or booking.status == booking.Status.PENDING:
        return {"calendar_links": None}
    url = booking_page_url(booking)
    return {
        "calendar_links": {
            "ics": reverse("calendars:booking_ics", args=[booking.reference]),
            "google": ics.google_calendar_url(booking, url=url),
            "outlook": ics.outlook_calendar_url(booking, url=url),
        }
    }


def account(*, request, page) -> dict:
    user = request.user
    return {
        "calendar_feed": selectors.feed_for(user=user),
        "reminder_choices": selectors.reminder_choices_for(user=user),
    }
