"""Shared fixtures for the Events section's service tests: an event and its tickets, and running a
service so that what it leaves for after the commit (refunds, emails) really happens. The plain
helpers (paid_booking, rules, in_days) are in tests/helpers.py."""

from __future__ import annotations

import pytest

from tests.factories import EventFactory, TicketTypeFactory
from tests.helpers import in_days


@pytest.fixture
def event(organiser):
    return EventFactory(organiser=organiser, title="Pottery for beginners", capacity=10)


@pytest.fixture
def ticket(event):
    return TicketTypeFactory(event=event, name="Standard", price=2000)


@pytest.fixture
def other_event(organiser):
    return EventFactory(organiser=organiser, title="Pottery: the wheel", capacity=10, starts_at=in_days(14))


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Run a service and then what it queued for after the commit (eager Celery tasks)."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run
