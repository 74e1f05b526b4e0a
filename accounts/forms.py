from __future__ import annotations

from allauth.account.forms import AddEmailForm, RequestLoginCodeForm, ResetPasswordForm
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import User
from portal.dates import time_zone_choices


class BookerResetPasswordForm(ResetPasswordForm):
    """Someone who booked without an account asks for a password reset: make them a
    password-less account so the reset email can reach them; completing it proves the address
    and hands them their bookings. The page answers the same for any email."""

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        services.booker_ensure_for_claims(email=email)
        email = super().clean_email()
        # A pending (unverified) change of address gets no reset link for the account.
        self.users = [u for u in self.users if services.email_can_log_in(user=u, email=email)]
        return email


class BookerAddEmailForm(AddEmailForm):
    """Update email: the new address waits, unverified, until its owner confirms it, and the
    current login stays as it is meanwhile. allauth takes "the last unverified address" for the
    change in progress and replaces it, which, for an account whose own address is not confirmed
    yet (one made on the booking form), removed the login address itself and locked the booker out."""

    def save(self, request):
        return services.email_change_request(
            request=request, user=self.user, email=self.cleaned_data["email"]
        )


class BookerRequestLoginCodeForm(RequestLoginCodeForm):
    """No login code for an address the account has not verified yet. An account made without
    allauth's address row (the admin, a script) gets one, so that the code can prove it."""

    def clean_email(self):
        email = super().clean_email()
        if email and self._user is not None and not services.email_can_log_in(user=self._user, email=email):
            self._user = None
        if self._user is not None:
            services.email_address_ensure(user=self._user)
        return email


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AccountTimeZoneForm(forms.ModelForm):
    """The Account page's time zone: when a place held for the booker ends is told in it. Empty:
    the organiser's zone, as for a guest."""

    time_zone = forms.ChoiceField(label=_("Your time zone"), required=False)

    class Meta:
        model = User
        fields = ["time_zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", _("The organiser's time zone")), *time_zone_choices()]
        self.fields["time_zone"].widget.attrs.update({"id": "account-time-zone", "data-browser-zone": ""})
