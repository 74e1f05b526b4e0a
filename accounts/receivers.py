"""allauth tells us when a booker proves they own an email address; their bookings follow."""

from __future__ import annotations

from allauth.account.signals import email_confirmed, password_reset
from django.dispatch import receiver

from accounts import services


@receiver(email_confirmed)
def claim_bookings_on_verification(sender, request, email_address, **kwargs):
    services.email_mark_verified(user=email_address.user, email=email_address.email)


@receiver(password_reset)
def claim_bookings_on_password_reset(sender, request, user, **kwargs):
    # The reset link reached this inbox, which proves the address as well as a verification would.
    services.email_mark_verified(user=user, email=user.email)
