"""Membership emails: sent from Celery tasks, each at most once."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from memberships.models import Membership
from portal.emails import send_templated_email

SENT_FIELD = {"started": "started_email_sent_at", "cancelled": "cancelled_email_sent_at"}


def membership_send_email(*, membership_id: int, kind: str) -> bool:
    field = SENT_FIELD[kind]
    membership = (
        Membership.objects.select_related("plan", "organiser", "user").filter(pk=membership_id).first()
    )
    if membership is None or membership.user is None or getattr(membership, field) is not None:
        return False
    organiser = membership.organiser
    send_templated_email(
        template_prefix=f"memberships/email/membership_{kind}",
        to=[membership.user.email],
        reply_to=[organiser.contact_email] if organiser.contact_email else None,
        context={
            "membership": membership,
            "organiser": organiser,
            "plan": membership.plan,
            "memberships_path": reverse("memberships:membership_list"),
        },
    )
    # Conditional: a retry that raced this one does not send a second time.
    Membership.objects.filter(pk=membership.pk, **{f"{field}__isnull": True}).update(
        **{field: timezone.now()}
    )
    return True
