from __future__ import annotations

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import BadRequest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header


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
    5. on an organiser's pages, the organiser's default language (guests and their emails): the
       views that load the organiser call `speak_organisers_language`, which costs no query;
    6. British English.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.language_independent = False
        language, request.language_source = self._chosen(request)
        self._speak(request, language)
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
        if not request.language_independent:
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # The saved choice is read here, once the view is known: reading the user opens the
        # session, which would make a language-independent response vary by Cookie.
        if getattr(view_func, "language_independent", False):
            request.language_independent = True
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (saved := language_supported(user.language)):
            request.language_source = "account"
            self._speak(request, saved)
        return None

    @staticmethod
    def _speak(request, language: str) -> None:
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    @staticmethod
    def _chosen(request) -> tuple[str, str | None]:
        if chosen := language_supported(request.GET.get("lang")):
            return chosen, "link"
        if chosen := language_supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
            return chosen, "switcher"
        for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
            if code != "*" and (chosen := language_supported(code)):
                return chosen, "browser"
        return settings.LANGUAGE_CODE, None


def language_independent(view):
    """Mark a view whose response is the same in every language (a stylesheet): it is then not
    sent with Vary: Accept-Language, Cookie, so shared caches keep one copy."""
    view.language_independent = True
    return view


def speak_organisers_language(request, organiser) -> None:
    """On an organiser's pages, speak the organiser's default language when the request chose none
    (no saved choice, link, switcher or browser language of ours). Called by the views that load
    the organiser anyway, so it costs no query."""
    if getattr(request, "language_source", "") is None and language_supported(organiser.default_language):
        translation.activate(organiser.default_language)
        request.LANGUAGE_CODE = translation.get_language()
