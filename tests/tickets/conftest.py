"""Per-ticket self-service (#21): the Events section's fixtures (an event, its tickets, running a
service with what it queues after commit) reused for a booking's single tickets."""

from __future__ import annotations

from tests.events.conftest import after_commit, event, other_event, ticket  # noqa: F401
