"""What every playbook shares: the situation it decides on, its decision, and small step builders.

A playbook is a pure function ``decide(situation) -> Decision``: no SDK, no store, no clock of its own. The engine
gathers the facts, calls it, and carries the steps out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecs_events.engine.saga import Action, Saga, Step
from ecs_events.models import EcsEvent
from ecs_events.models.times import iso_utc

if TYPE_CHECKING:
    from ecs_events.actions.types import InstanceFacts
    from ecs_events.policy import Effective


@dataclass(frozen=True)
class Situation:
    event: EcsEvent
    saga: Saga | None  # the saga of this (instance, event) as stored, before this event; None for a new one
    policy: Effective
    facts: InstanceFacts | None  # None where the playbook needs none (or the instance is gone)
    now: datetime


@dataclass(frozen=True)
class Decision:
    playbook: str
    steps: list[Step] | None  # the script from now on; None keeps the saga's current script
    reason: str

    @property
    def keeps(self) -> bool:
        return self.steps is None


def notify(phase: str, level: str, title: str, text: str = "", **fields: Any) -> Step:
    return Step(action=Action.NOTIFY, args={"phase": phase, "level": level, "title": title, "text": text, **fields})


def step(action: Action, at: datetime | None = None, after: float = 0.0, **args: Any) -> Step:
    return Step(action=action, at=at, after=after, args=args)


def close(outcome: str) -> Step:
    return step(Action.CLOSE, outcome=outcome)


def when(value: datetime | None) -> str:
    return iso_utc(value) or "unknown"


def restore_and_close(title: str, outcome: str = "succeeded", level: str = "info", text: str = "") -> list[Step]:
    """Put the weights back (a no-op when nothing is drained), say so, end the saga."""
    return [
        step(Action.RESTORE),
        notify(outcome if outcome != "closed" else "info", level, title, text),
        close(outcome),
    ]


def after_platform(instance_id: str, what: str) -> list[Step]:
    """The platform is acting (or acted): stay drained until it is done and the instance is healthy, then restore."""
    return [
        step(Action.DRAIN, urgent=True),
        step(Action.WAIT_EVENT_DONE),
        step(Action.WAIT_HEALTHY),
        *restore_and_close(f"{instance_id}: {what} done, instance healthy, weights restored"),
    ]
