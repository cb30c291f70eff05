"""Playbooks: one pure decision per row of the design's event table, from (event, saga, policy, facts, now) to the
steps to take and when. ``playbook_for(event)`` names the module; ``decide(situation)`` runs it.

| event | module |
|---|---|
| Instance SystemMaintenance.* | maintenance |
| Instance SystemFailure.*, InstanceFailure.*, Security.TpmAlert | failure |
| Instance InstanceExpiration.*, AccountUnbalanced.* | billing |
| Disk:Stalled / SeverelyDegraded / Degraded / ErrorDetected | disk |
| Instance:PreemptibleInstanceInterruption | preemption |
| Instance:StateChange, Disk:DiskOperationCompleted | lifecycle |
| Snapshot:CreateSnapshotCompleted | (advances the saga that made the snapshot; no playbook) |
| anything unknown | (logged, no action) |
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ecs_events.engine.playbooks.common import Decision, Situation
from ecs_events.models import BILLING_TYPES, EventKind, InstanceSystemEvent

Playbook = Callable[[Situation], Decision]

# The module per kind, imported when an event of that kind first needs a decision: a cold start imports the one
# playbook it runs (FC, issue 15).
_BY_KIND: dict[EventKind, str] = {
    EventKind.DISK_SYSTEM_EVENT: "disk",
    EventKind.PREEMPTIBLE_INTERRUPTION: "preemption",
    EventKind.STATE_CHANGE: "lifecycle",
    EventKind.DISK_OPERATION: "lifecycle",
}


def _decide(module: str) -> Playbook:
    decide: Playbook = importlib.import_module(f"{__name__}.{module}").decide
    return decide


def playbook_for(event: object) -> Playbook | None:
    """The playbook deciding on ``event``, or None (snapshot results, unknown events: no decision of their own)."""
    if isinstance(event, InstanceSystemEvent):
        if event.event_type in BILLING_TYPES:
            return _decide("billing")
        if event.event_type.startswith("SystemMaintenance."):
            return _decide("maintenance")
        return _decide("failure")
    kind = getattr(event, "kind", None)
    module = _BY_KIND.get(kind) if isinstance(kind, EventKind) else None
    return None if module is None else _decide(module)


def decide(situation: Situation) -> Decision | None:
    playbook = playbook_for(situation.event)
    return None if playbook is None else playbook(situation)


__all__ = ["Decision", "Playbook", "Situation", "decide", "playbook_for"]
