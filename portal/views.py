from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language
from django.views.static import serve

from portal import branding
from portal.middleware import language_independent, language_supported, speak_organisers_language
from portal.models import Organiser


@require_POST
def language_set(request):
    """The footer's language switcher (a plain form: it works without JavaScript). A booker's
    choice is saved on their account, so it follows them to other browsers and into emails;
    Django's own view sets the cookie and goes back."""
    chosen = language_supported(request.POST.get("language"))
    browsers = request.POST.get("language") == ""  # the Account page's "Your browser's language"
    if (chosen or browsers) and request.user.is_authenticated:
        request.user.language = chosen or ""
        request.user.save(update_fields=["language"])
    # Back to the page without the ?lang= of the link that brought the booker there, which would
    # otherwise outvote the choice just made.
    request.POST = request.POST.copy()
    request.POST["next"] = _without_lang(request.POST.get("next", ""))
    response = set_language(request)
    if browsers:  # and no earlier switcher choice outvotes the browser either
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


def _without_lang(url: str) -> str:
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "lang"]
    return urlunsplit(parts._replace(query=urlencode(query)))


@require_GET
def home(request):
    return render(request, "portal/home.html")


@require_GET
def organiser_page(request, org_slug: str):
    organiser = get_object_or_404(Organiser, slug=org_slug)
    speak_organisers_language(request, organiser)
    # The apps fill it (portal.navigation): upcoming events, memberships, passes and vouchers.
    return render(request, "portal/organiser_page.html", {"organiser": organiser})


@language_independent
@require_GET
def organiser_brand_css(request, org_slug: str):
    """One organiser's accent colour as a stylesheet (the CSP allows no style= attribute, and a
    nonce would make every page uncacheable): its address carries the brand version, so it is
    cached for good and a change of colour gets a new address."""
    organiser = get_object_or_404(
        Organiser.objects.only("slug", "accent_colour", "updated_at"), slug=org_slug
    )
    response = HttpResponse(
        branding.brand_css(slug=organiser.slug, accent=organiser.accent_colour),
        content_type="text/css; charset=utf-8",
    )
    current = request.GET.get("v") == str(organiser.brand_version)
    response["Cache-Control"] = "public, max-age=31536000, immutable" if current else "public, max-age=300"
    return response


@require_GET
def media(request, path: str):
    """Uploaded files, when SERVE_MEDIA is on (settings say how to serve them otherwise)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


@require_GET
def favicon(request):
    # Browsers and crawlers ask for /favicon.ico whatever the page links to.
    return redirect(static("favicon.ico"))


@require_GET
def robots_txt(request):
    return HttpResponse("User-agent: *\nDisallow: /admin/\n", content_type="text/plain")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any failure to reach the database means "down"
        return False


def _broker_ok() -> bool | None:
    if not settings.REDIS_URL:
        return None  # embedded mode has no broker to check
    import redis

    try:
        return bool(
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
        )
    except redis.RedisError:
        return False


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(ok is not False for ok in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {
            name: ("ok" if ok else "skipped" if ok is None else "down") for name, ok in checks.items()
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)


@require_GET
def portal_baseline(request):
    """The floor under every portal page (session, user, layout, no data): the benchmarks' baseline.
    Not a page of the product: served with DEBUG on, or when the benchmarks set BENCH_VIEWS;
    otherwise a 404 for everyone, before any login is asked for."""
    if not (settings.DEBUG or settings.BENCH_VIEWS):
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "base.html", {"section": "baseline"})
