from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.http import reswap, retarget


def wants_fragment(request: HttpRequest) -> bool:
    """Boosted and history-restore requests need the whole page; other htmx requests a fragment."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(request: HttpRequest, template: str, partial: str, context: dict, status: int = 200):
    """The whole page, or for htmx just its `partial` (django-template-partials' `template#partial`).

    A form posted by htmx that comes back (invalid, or refused) goes into the dialog it came from
    (#modal). Responses vary on HX-Request, so a cache never serves the fragment as the page."""
    name = f"{template}#{partial}" if wants_fragment(request) else template
    response = render(request, name, context, status=status)
    if getattr(request, "htmx", False) and request.method == "POST":
        response = reswap(retarget(response, "#modal"), "innerHTML")
    patch_vary_headers(response, ["HX-Request"])
    return response
