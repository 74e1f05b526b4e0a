"""Calendar pages: a booking's .ics, the booker's feed and its address, reminder choices and the
reminders' one-click unsubscribe."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.selectors import booking_get_for_viewer
from calendars import ics, links, selectors, services
from calendars.parts import booking_page_url
from portal import ratelimit


@require_GET
def booking_ics(request, reference: str):
    """The booking's calendar file, for its owner or the browser its link was opened in."""
    booking = booking_get_for_viewer(request=request, reference=reference)
    if booking.status == booking.Status.PENDING:
        raise Http404
    response = HttpResponse(
        ics.booking_ics(booking, url=booking_page_url(booking)), content_type=ics.CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="booking-{booking.reference}.ics"'
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
@login_required
def subscribe(request):
    """ "Subscribe in your calendar": the feed's secret address, made on the first visit."""
    feed = services.feed_get_or_create(user=request.user)
    https_url = links.feed_url(feed)
    context = {
        "section": "events",
        "https_url": https_url,
        "webcal_url": "webcal://" + https_url.split("://", 1)[1],
    }
    response = render(request, "calendars/subscribe.html", context)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


# A calendar polls a feed every 15 minutes or so: far more often is a script (per_subject counts
# every request for one address). Google and others fetch every subscriber's feed from a few
# addresses of theirs, so a client is limited on failures only: unknown addresses, i.e. guessing.
FEED_PER_ADDRESS = {"period": 3600, "per_subject": 60}
FEED_GUESSES = {"per_client": 100}


def _too_many() -> HttpResponse:
    response = HttpResponse(_("Too many requests for this calendar. Try again later."), status=429)
    response["Retry-After"] = "900"
    return response


@require_GET
def feed(request, token: str):
    token = token[:64]
    if ratelimit.rate_limit_reached(request, "calendar-feed-guess", **FEED_GUESSES):
        return _too_many()
    if ratelimit.rate_limited(request, "calendar-feed", subject=token, **FEED_PER_ADDRESS):
        return _too_many()
    found = selectors.feed_get_with_freshness(token=token)
    if found is None:
        ratelimit.rate_limited(request, "calendar-feed-guess", period=3600, **FEED_GUESSES)
        raise Http404
    latest = max(filter(None, [found.latest, found.updated_at]))
    version = f"{found.token}|{found.bookings}|{latest.isoformat()}"
    etag = f'"{hashlib.sha256(version.encode()).hexdigest()[:32]}"'
    last_modified = int(latest.timestamp())
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        bookings = selectors.feed_bookings(user=found.user_id)
        body = ics.feed_ics(bookings, url_for=booking_page_url, name=_("My bookings"))
        response = HttpResponse(body, content_type=ics.CONTENT_TYPE)
        response["Last-Modified"] = http_date(last_modified)
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)  # keep it, but ask again
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def feed_rotate(request):
    """A new secret feed address (after a confirmation): the old one stops working."""
    if request.method == "POST":
        services.feed_rotate(user=request.user)
        messages.success(
            request,
            _("Your calendar has a new address. Subscribe again with it: the old one no longer works."),
        )
        return redirect("calendars:subscribe")
    return render(request, "calendars/feed_rotate.html", {"section": "account"})


@require_POST
@login_required
def reminders_choose(request):
    organisers = [organiser for organiser, _on in selectors.reminder_choices_for(user=request.user)]
    wanted = set(request.POST.getlist("on"))
    on = {organiser.pk for organiser in organisers if str(organiser.pk) in wanted}
    services.reminders_choose(user=request.user, organisers=organisers, on=on)
    messages.success(request, _("Your reminder choices are saved."))
    return redirect(reverse("accounts:account") + "#reminders-title")


@csrf_exempt  # RFC 8058: the mail program posts "List-Unsubscribe=One-Click" with no session
@require_http_methods(["GET", "POST"])
def reminders_unsubscribe(request, token: str):
    """One-click unsubscribe from a reminder: GET asks (a link scanner must not unsubscribe
    anyone), POST turns reminders from that organiser off for that address."""
    found = links.unsubscribe_for_token(token)
    if found is None:
        raise Http404
    organiser, email, user = found
    if request.method == "POST":
        services.reminders_unsubscribe(organiser=organiser, email=email, user=user)
        return render(request, "calendars/reminders_off.html", {"organiser": organiser, "done": True})
    return render(request, "calendars/reminders_off.html", {"organiser": organiser, "done": False})
