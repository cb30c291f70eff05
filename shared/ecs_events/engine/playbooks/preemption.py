"""A preemptible (spot) instance is released about five minutes after the notice: drain at once, then take it out of
its load balancers after the drain period (it never comes back, so nothing is restored), with an optional snapshot of
its data disks."""

from __future__ import annotations

from ecs_events.engine.playbooks.common import Decision, Situation, close, notify, step
from ecs_events.engine.saga import Action

NAME = "preemption"


def decide(s: Situation) -> Decision:
    iid = s.event.instance_id or "?"
    steps = [
        notify("started", "warning", f"{iid}: preemptible instance interrupted, draining"),
        step(Action.DRAIN, urgent=True),
    ]
    if s.policy.snapshot:
        steps.append(step(Action.SNAPSHOT, data_only=True, wait=False))
    steps += [
        step(Action.WAIT, after=s.policy.drain_period.total_seconds()),
        step(Action.REMOVE),
        notify("succeeded", "info", f"{iid}: drained and removed from its load balancers before release"),
        close("succeeded"),
    ]
    return Decision(NAME, steps, "released in about 5 minutes: drain, then remove")
