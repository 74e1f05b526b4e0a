"""How allauth works for the portal: where it sends a booker after changes, what a password login
tells us about the browser (accounts.services.email_proved), how it counts failed logins, and how
its emails are built and sent."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.urls import reverse

from accounts import services
from accounts.emails import account_email_queue
from portal.ratelimit import client_ip


@dataclass(frozen=True)
class Site:
    """What allauth's email templates call `current_site` ("Hello from {{ name }}!")."""

    name: str
    domain: str


def on_site(path: str) -> str:
    return settings.SITE_URL + path


class AccountAdapter(DefaultAccountAdapter):
    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None and request is not None and credentials.get("password"):
            # This browser knows the password: proving the address here keeps it (email_proved).
            services.session_knows_password(request.session, user)
        return user

    def login(self, request, user) -> None:
        # Proving the address during this login (a login code) may have just removed a password
        # that predated the proof; the session must be keyed to the password as it is now.
        user.refresh_from_db(fields=["password"])
        super().login(request, user)

    def get_password_change_redirect_url(self, request) -> str:
        return reverse("accounts:account")

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """allauth counts failed logins per email: a stranger's five wrong passwords would lock
        the booker out. Count them per (client address, email) instead; allauth's own limit per
        client address (10 a minute) still holds, and a successful reset clears this client's."""
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{client_ip(request)}"

    # Emails. allauth builds their links and names the site from the request's Host header, which
    # whoever asks for a reset chooses (any host the server accepts, with any port): every link
    # and name here comes from SITE_URL instead.

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return on_site(path.replace("UID-KEY", quote(key)))

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return on_site(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render the message now (in the request) and send it from a Celery task after the commit,
        like every other email of ours."""
        request = allauth_context.request
        site_url = urlsplit(settings.SITE_URL)
        context = {
            "request": request,
            "email": email,
            **{key: _rebased(value, request) for key, value in context.items()},
            "current_site": Site(name="Booker Portal", domain=site_url.netloc),
        }
        account_email_queue(message=self.render_mail(template_prefix, email, context))


def _rebased(value, request):
    """A link allauth built on the request's host (the sign-up and reset pages in its "unknown
    account" and "account already exists" emails), moved onto SITE_URL; anything else as it is."""
    if request is None or not isinstance(value, str):
        return value
    url = urlsplit(value)
    if url.scheme not in {"http", "https"} or url.netloc != request.get_host():
        return value
    return on_site(url._replace(scheme="", netloc="").geturl())
