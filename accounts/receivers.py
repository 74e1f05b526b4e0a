"""allauth tells us when a booker proves they own an email address, signs up or resets their
password; accounts.services decides what that proof brings (see email_proved)."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed, password_reset, user_signed_up
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.dispatch import receiver
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from accounts import services


@receiver(email_confirmed)
def email_proved_by_link_or_code(sender, request, email_address, **kwargs):
    # allauth makes a confirmed new address the primary one before it removes the others
    # (ACCOUNT_CHANGE_EMAIL), so another address of the account here means this one was added.
    added = EmailAddress.objects.filter(user_id=email_address.user_id).exclude(pk=email_address.pk).exists()
    session = getattr(request, "session", None)
    proof = services.email_proved(
        user=email_address.user, email=email_address.email, added=added, session=session
    )
    if request is None:
        return
    if proof.password_cleared:
        if request.user.is_authenticated and request.user.pk == proof.user.pk:
            update_session_auth_hash(request, proof.user)  # this browser stays in; the others are out
        messages.warning(
            request,
            format_html(
                _(
                    "Your email address is confirmed. This account's password was chosen before the address "
                    'was confirmed, so we have removed it: <a href="{}">set a new password</a>, or log in '
                    "with a code we email you."
                ),
                reverse("account_reset_password"),
            ),
        )
    if proof.pending is not None:
        messages.info(
            request,
            _(
                "We found bookings or vouchers made with %(email)s. They join this account "
                "once its owner attaches them on the Account page."
            )
            % {"email": proof.pending.email},
        )


@receiver(password_reset)
def email_proved_by_reset(sender, request, user, **kwargs):
    # The reset link reached this inbox, which proves the address as well as a verification would,
    # and the password was just chosen there.
    services.email_proved(user=user, email=user.email, password_known=True)


@receiver(user_signed_up)
def password_chosen_at_signup(sender, request, user, **kwargs):
    if request is not None and user.has_usable_password():
        services.session_knows_password(request.session, user)
