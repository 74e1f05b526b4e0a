from __future__ import annotations

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import BadRequest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

from portal.models import Organiser


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


def language_supported(code: str | None) -> str | None:
    """`code` as one of the portal's languages ("fr-FR" -> "fr", "en" -> "en-gb"), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


class LanguageMiddleware:
    """The language of each request, in this order (Django's LocaleMiddleware knows only the
    cookie and the browser):

    1. the booker's saved choice (Account page, or the footer's switcher while logged in);
    2. the language of the link they followed (`?lang=fr` on the links in our emails), kept in
       the language cookie for the pages after it;
    3. the footer's switcher (the language cookie);
    4. the browser's Accept-Language, when it names one of ours;
    5. on an organiser's pages, the organiser's default language (guests and their emails);
    6. British English.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language, request.language_source = self._chosen(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if request.language_source == "link":
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                request.LANGUAGE_CODE,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.language_source is None and "org_slug" in view_kwargs:
            default = (
                Organiser.objects.filter(slug=view_kwargs["org_slug"])
                .values_list("default_language", flat=True)
                .first()
            )
            if language_supported(default):
                translation.activate(default)
                request.LANGUAGE_CODE = translation.get_language()
        return None

    @staticmethod
    def _chosen(request) -> tuple[str, str | None]:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and language_supported(user.language):
            return language_supported(user.language), "account"
        if chosen := language_supported(request.GET.get("lang")):
            return chosen, "link"
        if chosen := language_supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
            return chosen, "switcher"
        for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
            if code != "*" and (chosen := language_supported(code)):
                return chosen, "browser"
        return settings.LANGUAGE_CODE, None
