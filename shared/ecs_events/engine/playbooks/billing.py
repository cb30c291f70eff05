"""Billing events: an instance is about to be stopped or released for an expired subscription or an unpaid account.

Notify with the deadline; before a ``.Delete``, snapshot the data disks when the policy says so (no data lost to a
missed renewal).
"""

from __future__ import annotations

from ecs_events.engine.playbooks.common import Decision, Situation, close, notify, step, when
from ecs_events.engine.saga import Action

NAME = "billing"


def decide(s: Situation) -> Decision:
    event, iid = s.event, s.event.instance_id or "?"
    deadline = when(event.not_before)
    level = "critical" if event.event_type.endswith(".Delete") else "warning"
    steps = [notify("received", level, f"{iid}: {event.event_type} ({event.status}), deadline {deadline}")]
    if event.event_type.endswith(".Delete") and s.policy.snapshot and event.status in ("Scheduled", "Inquiring"):
        steps += [
            step(Action.SNAPSHOT, data_only=True, wait=True),
            notify("succeeded", "info", f"{iid}: data disks snapshotted before {deadline}"),
            close("succeeded"),
        ]
        return Decision(NAME, steps, "release ahead: snapshot the data disks")
    steps.append(close("closed"))
    return Decision(NAME, steps, "notify with the deadline")
