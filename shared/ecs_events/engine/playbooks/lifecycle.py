"""Status notifications that belong to no system event: an instance stopped or deleted when nothing of ours was
acting on it, a disk operation that failed. (StateChange and CreateSnapshotCompleted also advance running sagas; the
engine does that before it asks this playbook.)"""

from __future__ import annotations

from ecs_events.engine.playbooks.common import Decision, Situation, close, notify
from ecs_events.models import DiskOperationCompleted, InstanceStateChange

NAME = "lifecycle"


def decide(s: Situation) -> Decision:
    event = s.event
    if isinstance(event, InstanceStateChange):
        state = event.state.value
        if state in ("Stopped", "Deleted"):
            text = f"{event.instance_id}: {state} unexpectedly (no remediation of ours was running)"
            return Decision(NAME, [notify("received", "warning", text), close("closed")], f"unexpected {state}")
        return Decision(NAME, [], f"state {state}: nothing to do")
    if isinstance(event, DiskOperationCompleted):
        if event.failed:
            text = f"disk {event.disk_id}: {event.content.operation or 'operation'} failed"
            return Decision(NAME, [notify("received", "warning", text), close("closed")], "disk operation failed")
        return Decision(NAME, [], "disk operation accomplished: nothing to do")
    return Decision(NAME, [], f"{event.name}: nothing to do")
