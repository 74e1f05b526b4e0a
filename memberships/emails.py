"""Membership emails: sent from Celery tasks, each exactly once (`portal.emails.send_once`)."""

from __future__ import annotations

from django.urls import reverse

from memberships.models import Membership, MembershipPause
from portal.emails import send_once, send_templated_email

SENT_FIELD = {"started": "started_email_sent_at", "cancelled": "cancelled_email_sent_at"}


def membership_send_email(*, membership_id: int, kind: str) -> bool:
    """Tell the member their membership started or was cancelled; once per kind (`send_once`)."""

    def send(membership: Membership) -> None:
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

    members = Membership.objects.filter(user__isnull=False).select_related("plan", "organiser", "user")
    return send_once(rows=members, pk=membership_id, sent_field=SENT_FIELD[kind], send=send)


def membership_pause_send_email(*, pause_id: int) -> bool:
    """Tell the member their membership is paused, until when, and that it resumes by itself;
    once per pause. A pause already over by the time the task runs is not announced."""

    def send(pause: MembershipPause) -> None:
        membership = pause.membership
        organiser = membership.organiser
        send_templated_email(
            template_prefix="memberships/email/membership_paused",
            to=[membership.user.email],
            reply_to=[organiser.contact_email] if organiser.contact_email else None,
            context={
                "membership": membership,
                "pause": pause,
                "organiser": organiser,
                "plan": membership.plan,
                "memberships_path": reverse("memberships:membership_list"),
            },
        )

    pauses = MembershipPause.objects.filter(
        membership__user__isnull=False, ended_at__isnull=True
    ).select_related("membership__plan", "membership__organiser", "membership__user")
    return send_once(rows=pauses, pk=pause_id, sent_field="email_sent_at", send=send)
