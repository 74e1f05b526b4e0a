"""Celery entry points for memberships: each loads rows by id and calls one service."""

from __future__ import annotations

from celery import shared_task

from portal.emails import EMAIL_TASK


@shared_task(**EMAIL_TASK)
def membership_send_email(self, membership_id: int, kind: str) -> bool:
    from memberships import emails

    return emails.membership_send_email(membership_id=membership_id, kind=kind)


@shared_task(**EMAIL_TASK)
def membership_pause_send_email(self, pause_id: int) -> bool:
    from memberships import emails

    return emails.membership_pause_send_email(pause_id=pause_id)


@shared_task
def membership_advance_due() -> int:
    """Hourly (celery beat): renew or end offline memberships whose period is over."""
    from memberships import services

    return services.membership_advance_due()


@shared_task
def membership_pause_end_due() -> int:
    """Hourly (celery beat): resume memberships whose pause has reached its chosen day."""
    from memberships import changes

    return changes.membership_pause_end_due()


@shared_task
def membership_reconcile(fix: bool = False) -> list[dict]:
    """Nightly (celery beat): compare Stripe memberships with Stripe and report mismatches, as
    warnings in the log and as the task's result. Changes nothing unless fix=True (see
    memberships/reconcile.py for why reporting is the default)."""
    from memberships import reconcile

    return [m.as_dict() for m in reconcile.membership_reconcile(fix=fix)]


@shared_task(**EMAIL_TASK)
def membership_change_send_email(self, change_id: int) -> bool:
    from memberships import emails

    return emails.membership_change_send_email(change_id=change_id)
