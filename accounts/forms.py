from __future__ import annotations

from allauth.account.forms import ResetPasswordForm

from accounts import services


class BookerResetPasswordForm(ResetPasswordForm):
    """Someone who booked without an account asks for a password reset: make them a
    password-less account so the reset email can reach them; completing it proves the address
    and hands them their bookings. The page answers the same for any email."""

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        services.booker_ensure_for_bookings(email=email)
        return super().clean_email()
