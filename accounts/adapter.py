"""How allauth works for the portal: where it sends a booker after changes, and what a password
login tells us about the browser (accounts.services.email_proved)."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from accounts import services


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
