"""Failures the platform is already acting on, and alerts only a person can handle.

| event | playbook |
|---|---|
| SystemFailure.Reboot, InstanceFailure.Reboot | drain now (urgent: never deferred by the budget); InstanceFailure:
  fetch GetInstanceConsoleOutput for the report; wait for the platform, then Running + health OK -> restore; notify. |
| SystemFailure.Redeploy (Scheduled) | like a maintenance redeploy: drain + snapshot before notBefore. |
| SystemFailure.Stop / .Delete, Security.TpmAlert, *.PerformanceImpact | notify (critical). |
"""

from __future__ import annotations

from ecs_events.engine.playbooks import maintenance
from ecs_events.engine.playbooks.common import Decision, Situation, after_platform, close, notify, step
from ecs_events.engine.saga import Action

NAME = "failure"
_REBOOTS = frozenset({"SystemFailure.Reboot", "InstanceFailure.Reboot"})


def decide(s: Situation) -> Decision:
    event, iid = s.event, s.event.instance_id or "?"
    if event.event_type == "SystemFailure.Redeploy" and event.status in ("Scheduled", "Inquiring"):
        return maintenance.decide(s)
    if event.event_type in _REBOOTS:
        if event.status in ("Avoided", "Canceled", "Failed"):
            return maintenance.decide(s)
        if s.saga is not None and s.saga.steps:  # Executing after Scheduled, Executed after Executing: scripted
            return Decision(NAME, None, f"{event.status}: the script already waits for the platform")
        steps = [notify("started", "warning", f"{iid}: {event.event_type} ({event.status}): draining now")]
        rest = after_platform(iid, event.event_type)
        if event.event_type == "InstanceFailure.Reboot":
            rest.insert(1, step(Action.CONSOLE))  # after the drain: the report wants the guest's last words
        return Decision(NAME, steps + rest, f"{event.event_type}: drain now, restore when healthy")
    text = f"{iid}: {event.event_type} ({event.status or 'no status'})"
    steps = [notify("received", "critical", text, not_before=str(event.not_before or "")), close("closed")]
    return Decision(NAME, steps, "needs a person: notify")
