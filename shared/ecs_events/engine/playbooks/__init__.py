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

from collections.abc import Callable

from ecs_events.engine.playbooks import billing, disk, failure, lifecycle, maintenance, preemption
from ecs_events.engine.playbooks.common import Decision, Situation
from ecs_events.models import BILLING_TYPES, EventKind, InstanceSystemEvent

Playbook = Callable[[Situation], Decision]

_BY_KIND: dict[EventKind, Playbook] = {
    EventKind.DISK_SYSTEM_EVENT: disk.decide,
    EventKind.PREEMPTIBLE_INTERRUPTION: preemption.decide,
    EventKind.STATE_CHANGE: lifecycle.decide,
    EventKind.DISK_OPERATION: lifecycle.decide,
}


def playbook_for(event: object) -> Playbook | None:
    """The playbook deciding on ``event``, or None (snapshot results, unknown events: no decision of their own)."""
    if isinstance(event, InstanceSystemEvent):
        if event.event_type in BILLING_TYPES:
            return billing.decide
        if event.event_type.startswith("SystemMaintenance."):
            return maintenance.decide
        return failure.decide
    kind = getattr(event, "kind", None)
    return _BY_KIND.get(kind) if isinstance(kind, EventKind) else None


def decide(situation: Situation) -> Decision | None:
    playbook = playbook_for(situation.event)
    return None if playbook is None else playbook(situation)


__all__ = ["Decision", "Playbook", "Situation", "decide", "playbook_for"]
