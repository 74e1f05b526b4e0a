from __future__ import annotations

from django.contrib.messages import get_messages
from django.template.loader import render_to_string


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
