"""Celery work happens only for what committed, and tasks that are safe to redo survive a worker
that dies mid-task (acks_late + reject_on_worker_lost: the broker hands the task out again)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from bookings import services
from bookings import tasks as booking_tasks
from portal.celery import app
from tests.factories import EventFactory, TicketTypeFactory

APPS = ["portal", "accounts", "bookings", "calendars", "memberships", "passes", "vouchers"]
ROOT = Path(settings.BASE_DIR)
# Task name -> why it must not run twice after a lost worker (none so far: every task checks
# state before acting, as the house style asks).
NOT_SAFE_TO_REDO: dict[str, str] = {}


def our_tasks():
    for name in APPS:
        try:
            importlib.import_module(f"{name}.tasks")
        except ModuleNotFoundError:
            continue
    return {name: task for name, task in app.tasks.items() if name.split(".")[0] in APPS}


def test_every_task_that_is_safe_to_redo_is_acked_late_and_rejected_on_worker_loss():
    tasks = our_tasks()
    assert tasks, "no tasks found: is the Celery app configured?"
    wrong = [
        name
        for name, task in tasks.items()
        if name not in NOT_SAFE_TO_REDO and not (task.acks_late and task.reject_on_worker_lost)
    ]
    assert not wrong, f"acks_late=True and reject_on_worker_lost=True (or list in NOT_SAFE_TO_REDO): {wrong}"
    # A killed worker's reserved tasks come back only after the visibility timeout: each process
    # reserves a few at most (the worker's setting, CELERY_WORKER_PREFETCH_MULTIPLIER, is four).
    assert app.conf.worker_prefetch_multiplier <= 4


def test_requests_are_not_one_transaction():
    # The rule below relies on views running outside a transaction.
    assert not settings.DATABASES["default"].get("ATOMIC_REQUESTS")


def _on_commit_targets(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "on_commit"
        ):
            names |= {n.id for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.Name)}
    return names


def test_services_enqueue_tasks_only_on_commit():
    """In services, a task is sent from a callback given to transaction.on_commit (a lambda, a
    partial, or a helper passed to on_commit), never straight from the transaction."""
    direct = []
    for path in sorted(p for app_name in APPS for p in (ROOT / app_name).glob("*services.py")):
        tree = ast.parse(path.read_text())
        deferred = _on_commit_targets(tree)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call) and getattr(node.func, "attr", "") in {"delay", "apply_async"}
            ):
                continue
            scope = parents.get(node)
            while scope is not None and not isinstance(
                scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            ):
                scope = parents.get(scope)
            if isinstance(scope, ast.Lambda) or (scope is not None and scope.name in deferred):
                continue
            direct.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not direct, f"Send tasks with transaction.on_commit(...), not directly: {direct}"


class Boom(Exception):
    pass


@pytest.mark.django_db
def test_a_booking_whose_transaction_fails_sends_nothing(
    organiser, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=0)
    sent = []
    monkeypatch.setattr(booking_tasks.booking_send_confirmation, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        with transaction.atomic():
            services.booking_create(
                request=services.BookingRequest(
                    event=ticket.event,
                    booker=services.Booker(name="Rolled Back", email="rolled@example.com"),
                    tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Rolled Back")],
                    idempotency_key="rollback",
                )
            )
            raise Boom  # anything after the service in the same transaction

    assert callbacks == [] and sent == [] and mailoutbox == []


@pytest.mark.django_db
def test_a_committed_booking_sends_its_confirmation_after_commit(
    organiser, mailoutbox, django_capture_on_commit_callbacks
):
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.booking_create(
            request=services.BookingRequest(
                event=ticket.event,
                booker=services.Booker(name="Committed", email="committed@example.com"),
                tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Committed")],
                idempotency_key="commit",
            )
        )
        assert mailoutbox == []  # nothing inside the transaction

    for callback in callbacks:
        callback()
    assert [m.to for m in mailoutbox] == [["committed@example.com"]]
