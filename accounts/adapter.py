"""allauth's adapter: where it sends a booker after account changes, and how it counts failed logins."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from portal.ratelimit import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_password_change_redirect_url(self, request) -> str:
        return reverse("accounts:account")

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """allauth counts failed logins per email: a stranger's five wrong passwords would lock
        the booker out. Count them per (client address, email) instead; allauth's own limit per
        client address (10 a minute) still holds, and a successful reset clears this client's."""
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{client_ip(request)}"
