"""Block storage events of a cloud disk attached to an instance.

| event | playbook |
|---|---|
| Stalled / SeverelyDegraded, ongoing | drain the attached instance now; restore when the event ends. |
| Degraded | notify. |
| ErrorDetected | notify and snapshot the disk (when the policy says so). |
"""

from __future__ import annotations

from ecs_events.engine.playbooks.common import Decision, Situation, close, notify, restore_and_close, step
from ecs_events.engine.saga import Action
from ecs_events.models import DiskSystemEvent

NAME = "disk"


def decide(s: Situation) -> Decision:
    event = s.event
    assert isinstance(event, DiskSystemEvent)
    iid, disk = event.instance_id or "?", event.disk_id or "?"
    what = f"{iid}: disk {disk} {event.event_type}"
    if event.event_type in ("Stalled", "SeverelyDegraded"):
        if not event.ongoing:
            if s.saga is not None:
                return Decision(NAME, None, "the disk event ended: the saga restores")
            return Decision(NAME, [notify("info", "info", f"{what} ended"), close("closed")], "ended before we saw it")
        steps = [
            notify("started", "warning", f"{what}: draining until it ends"),
            step(Action.DRAIN, urgent=True),
            step(Action.WAIT_EVENT_DONE),
            *restore_and_close(f"{what} ended, weights restored"),
        ]
        return Decision(NAME, steps, "disk I/O impaired: drain until the event ends")
    if event.event_type == "ErrorDetected" and s.policy.snapshot and event.ongoing:
        steps = [
            notify("received", "critical", f"{what}: snapshotting the disk"),
            step(Action.SNAPSHOT, disk_ids=[disk], wait=True),
            notify("succeeded", "info", f"{what}: snapshot taken"),
            close("succeeded"),
        ]
        return Decision(NAME, steps, "disk errors: keep a snapshot")
    level = "critical" if event.event_type == "ErrorDetected" else "warning"
    return Decision(NAME, [notify("received", level, what), close("closed")], "notify")
