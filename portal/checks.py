"""Start-up checks for settings that would silently weaken security in production."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.http.request import validate_host

from portal import deploy

# Backends whose counters are per process (locmem) or absent (dummy): rate limits that count in
# them are void once there is more than one web process, or always.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.dummy.DummyCache": "counts nothing",
    "django.core.cache.backends.locmem.LocMemCache": "counts in each process separately",
}


@register(Tags.security)
def rate_limits_have_a_shared_cache(app_configs=None, **kwargs):
    """Login, password reset, login-code, new-booking-link and admin-login rate limits all count
    in the default cache; in production that must be a cache every web process shares."""
    if settings.DEBUG:
        return []
    warnings = []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        warnings.append(
            Warning(
                f"The default cache is {backend.rsplit('.', 1)[-1]}, which {PER_PROCESS_CACHES[backend]}: "
                "login, password reset, login-code and booking-link rate limits are not enforced.",
                hint="Set REDIS_URL so the cache (and the rate limits) live in Redis.",
                id="portal.W001",
            )
        )
    if getattr(settings, "ACCOUNT_RATE_LIMITS", None) is False:
        warnings.append(
            Warning(
                "ACCOUNT_RATE_LIMITS = False turns off allauth's login and password-reset rate limits.",
                hint="Remove the setting (allauth's defaults apply) or set explicit limits.",
                id="portal.W002",
            )
        )
    return warnings


@register(Tags.security)
def production_settings_are_safe(app_configs=None, **kwargs):
    """What settings.py refuses at start-up with DEBUG off, reported as errors when the settings
    came from elsewhere: an error stops runserver, migrate (the release step) and check --deploy."""
    if settings.DEBUG:
        return []
    problems = {
        "portal.E001": deploy.secret_key_problem(settings.SECRET_KEY),
        "portal.E002": deploy.payment_gateway_problem(settings.PAYMENT_GATEWAY, settings.STRIPE_SECRET_KEY),
        "portal.E003": deploy.email_problem(settings.EMAIL_HOST, getattr(settings, "EMAIL_TO_FILES", False)),
    }
    return [Error(problem, id=check_id) for check_id, problem in problems.items() if problem]


@register(Tags.security)
def emailed_links_lead_here(app_configs=None, **kwargs):
    """Every link in an email is built on SITE_URL (never on a request's Host header), so in
    production it must name a host this server answers."""
    if settings.DEBUG or validate_host(urlsplit(settings.SITE_URL).hostname or "", settings.ALLOWED_HOSTS):
        return []
    return [
        Warning(
            f"SITE_URL ({settings.SITE_URL}) is not a host in ALLOWED_HOSTS: the links in emails "
            "(View booking, password reset, confirmations) would lead to a refused request.",
            hint="Set SITE_URL to the address bookers use, e.g. https://portal.example.",
            id="portal.W003",
        )
    ]
