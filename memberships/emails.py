"""Membership emails: sent from Celery tasks, each exactly once (`portal.emails.send_once`)."""

from __future__ import annotations

from django.urls import reverse

from memberships.models import Membership, MembershipChange, MembershipPause
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


def membership_change_send_email(*, change_id: int) -> bool:
    """Tell the member what changed (a plan switch and what it costs, a cancellation taken back, a
    pause ended), the price and the next billing date, with a link to the membership; once per
    change (`send_once`), in the member's language. A membership that has ended since is not told."""

    def send(change: MembershipChange) -> None:
        membership = change.membership
        organiser = membership.organiser
        send_templated_email(
            template_prefix=f"memberships/email/membership_{change.kind}",
            to=[membership.user.email],
            reply_to=[organiser.contact_email] if organiser.contact_email else None,
            context={
                "change": change,
                "membership": membership,
                "organiser": organiser,
                "plan": change.plan,
                "from_plan": change.from_plan,
                "memberships_path": reverse("memberships:membership_list") + f"#membership-{membership.code}",
                "invoices_path": reverse("memberships:membership_invoices", args=[membership.code]),
            },
        )

    changes = MembershipChange.objects.filter(
        membership__user__isnull=False, membership__status__in=Membership.CURRENT
    ).select_related("membership__organiser", "membership__user", "plan", "from_plan")
    return send_once(rows=changes, pk=change_id, sent_field="email_sent_at", send=send)
