"""Where allauth sends a booker after account changes, and when it asks for the password again."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_password_change_redirect_url(self, request) -> str:
        return reverse("accounts:account")

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # A booker without a password logged in with a code sent to their inbox; there is no
        # password to ask for again, and the login code already proved the mailbox.
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated and not user.has_usable_password():
            return False
        return super().is_reauthentication_required(app=app, **kwargs)
