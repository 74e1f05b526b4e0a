from __future__ import annotations

from django.contrib.messages import get_messages
from django.core.exceptions import BadRequest
from django.template.loader import render_to_string


class RejectNulBytesMiddleware:
    """Answer 400 to a request with a NUL byte in its path, query string, form data or cookies.

    No valid input contains one, and Postgres text cannot hold one: psycopg refuses the query, so
    a NUL reaching a lookup (a booking reference, ?organiser=, a login) was a 500. Checked once
    here, before sessions or views read anything. Other bodies (the Stripe webhook's JSON) are
    left unread for their view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET) or _has_nul(request.COOKIES):
            raise BadRequest("NUL byte in the URL")
        if request.method == "POST" and _is_form(request) and _has_nul(request.POST):
            raise BadRequest("NUL byte in the form")
        return self.get_response(request)


def _is_form(request) -> bool:
    return request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}


def _has_nul(data) -> bool:
    lists = data.lists() if hasattr(data, "lists") else ((key, [value]) for key, value in data.items())
    return any("\x00" in key or any("\x00" in str(v) for v in values) for key, values in lists)


class HtmxMessagesMiddleware:
    """Append pending messages out-of-band to htmx HTML responses that are not redirects."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or "HX-Redirect" in response or "HX-Refresh" in response:
            return response
        if 300 <= response.status_code < 400 or not response.get("Content-Type", "").startswith("text/html"):
            return response
        storage = get_messages(request)
        if not storage:
            return response
        response.write(
            render_to_string("partials/messages.html", {"messages": storage, "oob": True}, request=request)
        )
        return response
