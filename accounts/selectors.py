"""Reads about a booker's addresses."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db.models.functions import Lower

from accounts import claims
from accounts.models import PendingClaim


def claimed_emails(*, user):
    """The lower-cased addresses whose gift vouchers (and other things found by address) show in
    the account: proved, and not waiting for the owner to attach what was found for them. A
    values queryset: usable as a subquery."""
    pending = PendingClaim.objects.filter(user=user).values("email")
    return (
        EmailAddress.objects.filter(user=user, verified=True)
        .annotate(e=Lower("email"))
        .exclude(e__in=pending)
        .values("e")
    )


def pending_claims_for(*, user) -> list[tuple[PendingClaim, list[claims.Found]]]:
    return [
        (claim, claims.find(user=user, email=claim.email)) for claim in user.pending_claims.order_by("pk")
    ]
