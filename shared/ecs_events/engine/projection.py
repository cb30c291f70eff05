"""Projection: a saga's script laid out on the clock, for people (``ecs-events plan`` and ``ecs-events status``).

The engine learns when a step really runs only by running it; a person wants to know *before* (is the reboot in the
window? how long are we drained?). Projecting walks the steps with the same rule the engine uses for the current
step (``Step.due``): ``at_i = max(step.at, at_{i-1} + step.after)``. Gates (snapshot, command, wait_healthy,
wait_event_done) are taken as instantaneous and marked ``waits``: their real length depends on the cloud.

Pure: no store, no SDK, no clock of its own. ``plan_event`` is what the engine would decide for a new saga on a
managed instance, without asking the cloud for the instance's facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecs_events.actions.types import InstanceFacts
from ecs_events.engine import playbooks
from ecs_events.engine.engine import policy_type
from ecs_events.engine.playbooks.common import Situation
from ecs_events.engine.saga import Action, Saga, Step
from ecs_events.engine.steps import GATES
from ecs_events.models import EcsEvent, SnapshotCompleted
from ecs_events.models.times import iso_utc
from ecs_events.policy.durations import format_duration

if TYPE_CHECKING:
    from ecs_events.policy import Policy


@dataclass(frozen=True)
class Projected:
    """One step with the time it would start (gates: the time they start looking)."""

    step: Step
    at: datetime

    @property
    def waits(self) -> bool:
        return self.step.action in GATES


@dataclass(frozen=True)
class Plan:
    """What the engine would do about one event: the playbook, why, and the steps on the clock (empty: nothing)."""

    playbook: str | None
    reason: str
    steps: list[Projected]
    warnings: tuple[str, ...] = ()


def project(steps: Sequence[Step], start: datetime, previous_done: datetime | None = None) -> list[Projected]:
    """``steps`` on the clock from ``start`` (now). The first step counts its ``after`` from ``previous_done`` (the
    step before it, for a saga in flight) or ``start``, exactly as ``Step.due`` does; each later one from the step
    before it, gates taking no time."""
    out: list[Projected] = []
    previous = previous_done
    for step in steps:
        at = step.due(previous, start)
        out.append(Projected(step, at))
        previous = at
    return out


def project_saga(saga: Saga, now: datetime) -> list[Projected]:
    """The steps of ``saga`` still to run (from its cursor), on the clock."""
    return project(saga.steps[saga.cursor :], now, saga.previous_done())


def managed_facts(instance_id: str | None, tags: dict[str, str]) -> InstanceFacts | None:
    """The facts ``plan`` assumes: a Running instance carrying ``tags`` (the opt-in tag among them)."""
    if instance_id is None:
        return None
    return InstanceFacts(instance_id=instance_id, status="Running", name="", tags=dict(tags))


def plan_event(event: EcsEvent, policy: Policy, tags: dict[str, str], now: datetime) -> Plan:
    """What a new saga for ``event`` would script on a managed instance with ``tags``, at ``now``: the engine's own
    decision (policy layers, skip, the playbook), projected. Sagas already in flight are not considered."""
    if isinstance(event, SnapshotCompleted):
        reason = f"snapshot {event.snapshot_id}: advances the saga that made it, if it is one of ours"
        return Plan(None, reason, [])
    if playbooks.playbook_for(event) is None:
        return Plan(None, f"no playbook for {event.name}: kept in the log, no action", [])
    ptype = policy_type(event)
    effective = policy.resolve(ptype, tags)
    if effective.skip:
        return Plan(None, f"skipped by policy for {ptype}", [], effective.warnings)
    decision = playbooks.decide(Situation(event, None, effective, managed_facts(event.instance_id, tags), now))
    if decision is None:
        return Plan(None, f"no playbook for {event.name}", [], effective.warnings)
    return Plan(decision.playbook, decision.reason, project(decision.steps or [], now), effective.warnings)


def _seconds(value: float) -> str:
    return format_duration(timedelta(seconds=round(value)))


def detail(step: Step) -> str:
    """The short words after a step's name: what a person needs to judge it (a notice's title, urgent or not)."""
    a, action = step.args, step.action
    parts: list[str] = []
    if action is Action.NOTIFY:
        return f"{a.get('phase', '?')}/{a.get('level', '?')}: {a.get('title', '')}"
    if action is Action.DRAIN and a.get("urgent"):
        parts.append("urgent")
    if action is Action.WAIT and step.after:
        parts.append(f"{_seconds(step.after)} after the previous step")
    if action is Action.SNAPSHOT:
        parts.append("data disks" if a.get("data_only") else "all disks")
    if action is Action.CLOSE:
        parts.append(f"outcome {a.get('outcome', 'closed')}")
    if action is Action.COMMAND:  # never the script itself: it can be long, and is the operator's anyway
        parts += [str(a.get("type", "RunShellScript")), f"timeout {_seconds(float(a.get('timeout', 60)))}"]
    if action in GATES:
        parts.append("waits")
    return ", ".join(parts)


def line(projected: Projected) -> str:
    """``2026-11-28T00:30:00Z  drain  (urgent)``; a notice shows its title instead of parentheses."""
    step, at = projected.step, iso_utc(projected.at)
    words = detail(step)
    if step.action is Action.NOTIFY:
        return f"{at}  notify  {words}"
    return f"{at}  {step.action.value}" + (f"  ({words})" if words else "")


def record(projected: Projected) -> dict[str, Any]:
    """The JSON form of one projected step: ``{action, at, after, waits, args}``."""
    step = projected.step
    return {
        "action": step.action.value,
        "at": iso_utc(projected.at),
        "after": step.after,
        "waits": projected.waits,
        "args": step.model_dump(mode="json")["args"],
    }
