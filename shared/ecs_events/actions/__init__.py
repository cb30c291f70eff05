"""Actions: the only code that calls cloud SDKs. Thin, no decisions: read facts, act when told, translate errors.

``Ecs``, ``Slb`` and ``Queue`` wrap an ``AcsClient`` / MNS ``Account`` built by ``ecs_events.runtime.clients.Clients``;
every call runs under ``ecs_events.retry.call`` and raises a ``CloudCallError`` subclass on failure.
"""

from __future__ import annotations

from ecs_events.actions.errors import (
    ActionError,
    CloudCallError,
    ConflictError,
    NotFoundError,
    TransientError,
)
from ecs_events.actions.types import (
    CommandFacts,
    DiskFacts,
    InstanceFacts,
    Membership,
    QueueMessage,
    SlbView,
    SnapshotFacts,
)

__all__ = [
    "ActionError",
    "CloudCallError",
    "CommandFacts",
    "ConflictError",
    "DiskFacts",
    "InstanceFacts",
    "Membership",
    "NotFoundError",
    "QueueMessage",
    "SlbView",
    "SnapshotFacts",
    "TransientError",
]
