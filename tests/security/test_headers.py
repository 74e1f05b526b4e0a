"""Production-shape responses: HSTS, nosniff, frame denial, referrer policy, secure cookies, and a
Content-Security-Policy under which no inline script, event handler or style runs; and no page
we serve relies on one."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from bookings import links
from tests.factories import (
    PASSWORD,
    AttendeeFactory,
    BookingFactory,
    TicketTypeFactory,
    WaitingListEntryFactory,
)
from tests.portal.test_settings import PRODUCTION, ROOT, manage

SECURITY_SETTINGS = [
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "CONTENT_SECURITY_POLICY",
]
HOST = "portal.example"


@pytest.fixture(scope="module")
def production_settings():
    """The security settings as portal/settings.py computes them from the production environment."""
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{k: getattr(settings, k, None) for k in {SECURITY_SETTINGS!r}}}))"
    )
    result = manage("shell", "-c", code, **{**PRODUCTION, "ALLOWED_HOSTS": HOST})
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def production(production_settings):
    with override_settings(**production_settings):
        yield Client(HTTP_HOST=HOST)  # a fresh client loads the middleware with these settings


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
def test_production_responses_carry_the_security_headers(production):
    response = production.get(reverse("account_login"), secure=True)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_production_redirects_plain_http_to_https(production):
    response = production.get(reverse("account_login"))
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}{reverse('account_login')}"


@pytest.mark.django_db
def test_production_cookies_are_secure_httponly_and_same_site(production, booker):
    production.get(reverse("account_login"), secure=True)
    production.post(reverse("account_login"), {"login": booker.email, "password": PASSWORD}, secure=True)

    for name in ["sessionid", "csrftoken"]:
        cookie = production.cookies[name]
        assert cookie["secure"] is True, name
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name


@pytest.mark.django_db
def test_the_content_security_policy_allows_no_inline_or_foreign_script(production):
    directives = policy(production.get(reverse("account_login"), secure=True))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', 'unsafe-eval', nonce or host
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_policy(production, staff, organiser):
    production.force_login(staff)
    for url in ["/", f"/{organiser.slug}/", "/admin/", "/no-such-organiser/", "/portal/link/new/"]:
        response = production.get(url, secure=True)
        assert "script-src 'self'" in response["Content-Security-Policy"], url


# No page relies on what the policy forbids.


class InlineCode(HTMLParser):
    """Collects inline scripts, event-handler attributes, style attributes/blocks, javascript: URLs."""

    DATA_SCRIPTS = {"application/json", "application/ld+json"}

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") and attributes.get("type") not in self.DATA_SCRIPTS:
            self.found.append(f"inline <script> ({self.getpos()})")
        if tag == "style":
            self.found.append("<style> block")
        for name, value in attrs:
            if name.startswith(("on", "hx-on")):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:...>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def pages(organiser, booker, staff):
    ticket = TicketTypeFactory(event__organiser=organiser, event__title="Sunrise Flow")
    event = ticket.event
    mine = AttendeeFactory(booking__event=event, booking__user=booker, ticket_type=ticket).booking
    linked = BookingFactory(event=event)
    public = [
        "/",
        f"/{organiser.slug}/",
        reverse("event_book", args=[organiser.slug, event.code]),
        reverse("event_book", args=[organiser.slug, event.code]) + f"?qty_{ticket.pk}=1",
        reverse("waiting_list_join", args=[organiser.slug, event.code]),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        reverse("account_request_login_code"),
        reverse("bookings:booking_link_request"),
        reverse("bookings:booking_link", args=["not-a-token"]),
        reverse("bookings:waiting_confirm", args=["not-a-token"]),
        links.waiting_list_confirm_url(
            WaitingListEntryFactory(event=event, organiser=organiser, status="unconfirmed")
        ).removeprefix(settings.SITE_URL),
        reverse("bookings:booking_link", args=[links.make_token(linked)]),
        "/admin/login/",
        "/no-such-organiser/",
    ]
    as_booker = [
        reverse("bookings:event_list"),
        reverse("bookings:booking_detail", args=[mine.reference]),
        reverse("memberships:membership_list"),
        reverse("passes:pass_list"),
        reverse("vouchers:voucher_list"),
        reverse("accounts:account"),
        reverse("account_logout"),
    ]
    as_staff = [
        "/admin/",
        reverse("admin:bookings_booking_changelist"),
        reverse("admin:bookings_booking_change", args=[mine.pk]),
        reverse("admin:bookings_event_change", args=[event.pk]),
    ]
    return {None: public, booker: as_booker, staff: as_staff}


@pytest.mark.django_db
def test_no_page_has_inline_script_event_handlers_or_inline_styles(pages):
    problems = []
    for user, urls in pages.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url, follow=True)
            assert response.status_code in {200, 404}, url
            problems += [f"{url}: {found}" for found in inline_code(response.content.decode())]
    assert not problems, (
        "The CSP blocks these; move scripts to static/js/, styles to portal.css:\n" + "\n".join(problems)
    )


# Our templates: the same rule, read from the files, so pages not rendered above are covered too.
TEMPLATE_INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>"
    r"|\son[a-z]+\s*=\s*[\"']"
    r"|\sstyle\s*=\s*[\"']"
    r"|<style[\s>]"
    r"|javascript:"
    r"|\shx-on[:-]",
    re.IGNORECASE,
)


# Being changed by their owners from hx-on:click to data-close-modal (static/js/dialogs.js).
# Remove a line once its template is clean; the test says when.
PENDING: set[str] = set()


def test_our_templates_have_no_inline_script_handlers_or_styles():
    problems, clean_but_pending = [], []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        relative = path.relative_to(ROOT)
        if "email" in relative.parts:  # emails are read in mail clients, which have no CSP
            continue
        found = [
            f"{relative}:{number}: {line.strip()[:100]}"
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if TEMPLATE_INLINE.search(line)
        ]
        if str(relative) in PENDING:
            clean_but_pending += [] if found else [str(relative)]
        else:
            problems += found
    assert not clean_but_pending, (
        f"Clean now: remove from PENDING in tests/security/test_headers.py: {clean_but_pending}"
    )
    assert not problems, (
        "The Content-Security-Policy blocks inline code: put scripts in static/js/*.js, styles in "
        "static/css/portal.css, and use htmx attributes other than hx-on:\n" + "\n".join(problems)
    )


def test_htmx_injects_no_indicator_style_and_portal_css_has_it(client):
    html = client.get("/").content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in html
    assert ".htmx-indicator" in Path(settings.BASE_DIR / "static" / "css" / "portal.css").read_text()
