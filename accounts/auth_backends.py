"""allauth's email login, except that an address waiting to be verified never logs in."""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend

from accounts import services


class AuthenticationBackend(AllauthBackend):
    def _authenticate_by_email(self, email, password):
        user = super()._authenticate_by_email(email, password)
        if user is not None and not services.email_can_log_in(user=user, email=email):
            return None
        return user
