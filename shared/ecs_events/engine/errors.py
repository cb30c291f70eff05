"""What the engine raises on purpose, apart from the cloud errors of the actions."""

from __future__ import annotations

from ecs_events.errors import EcsEventsError


class BusyError(EcsEventsError):
    """Another consumer holds the saga right now: try the message again later (transient)."""


class CommitConflict(BusyError):
    """A commit lost its compare-and-set: nothing of it was written."""


class RejectedError(EcsEventsError):
    """An event the engine refuses to act on whatever happens later (foreign account, inconsistent ARN): it goes to
    the dead-letter queue with this reason."""
