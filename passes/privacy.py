"""What passes keeps about a booker, and how account deletion erases it (accounts.privacy,
registered in PassesConfig.ready)."""

from __future__ import annotations

from django.db.models import Q

from accounts.privacy import Erasure
from passes.models import Pass


def passes_anonymise(erasure: Erasure) -> None:
    """The address each of their passes was bought with; the passes stay."""
    pass_ids = list(
        Pass.objects.filter(Q(user=erasure.user) | erasure.by_email("buyer_email")).values_list(
            "pk", flat=True
        )
    )
    Pass.objects.filter(pk__in=pass_ids).update(buyer_email=erasure.placeholder_email)
    erasure.anonymised(Pass, pass_ids)
