"""Celery entry points for accounts: each takes ids and calls one service."""

from __future__ import annotations

from celery import shared_task


@shared_task
def account_sessions_end(user_id: int) -> int:
    from accounts import services

    return services.account_sessions_end(user_id=user_id)
