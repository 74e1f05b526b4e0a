from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User
from bookings.services import bookings_claim_for_verified_email


@transaction.atomic
def booker_create(*, email: str, password: str | None, name: str = "") -> User:
    """A booker account. The email stays unverified until its owner proves it, so no earlier
    booking made with that address becomes theirs yet."""
    user = User.objects.create_user(email=email, password=password, name=name)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    return user


@transaction.atomic
def email_mark_verified(*, user: User, email: str) -> int:
    """The user proved they own `email`: mark it verified and give them its bookings."""
    EmailAddress.objects.filter(user=user, email__iexact=email).update(verified=True)
    return bookings_claim_for_verified_email(user=user, email=email)


def booker_ensure_for_bookings(*, email: str) -> User | None:
    """A password-less account for an email that has bookings but no account yet."""
    from bookings.models import Booking

    if User.objects.filter(email__iexact=email).exists():
        return None
    if not Booking.objects.filter(booker_email__iexact=email, user__isnull=True).exists():
        return None
    return booker_create(email=email, password=None)
