"""A saga: what the engine is doing about one event on one instance, persisted in the store between steps.

A playbook writes the saga's *script*: an ordered list of steps, each with the earliest time it may run (``at``, or
``after`` seconds once the previous step is done). The engine walks the script from ``cursor``; a step that has to
wait (a time not reached, a snapshot still progressing, a budget in use) arms a timer and the saga sleeps in the
store until a later event or the timer advances it. Everything the steps learn (saved weights, snapshot ids, the
system event's latest status) lives here too, so any consumer can pick the saga up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ecs_events.models.times import WireTime


class Action(str, Enum):
    """The steps a playbook may script. Each is carried out by ``engine.steps``; playbooks only name them."""

    NOTIFY = "notify"  # args: phase, level, title, text
    WAIT = "wait"  # a pure time gate
    DRAIN = "drain"  # weight 0 in every load balancer / VServer group, originals saved; args: urgent
    COMMAND = "command"  # Cloud Assistant command, waits for its result; args: content, type, timeout
    SNAPSHOT = "snapshot"  # snapshot disks (ClientToken) and wait until accomplished; args: data_only, wait
    REBOOT = "reboot"  # RebootInstance
    WAIT_HEALTHY = "wait_healthy"  # Running and health OK (DescribeInstancesFullStatus)
    WAIT_EVENT_DONE = "wait_event_done"  # the platform finished (Executed / Avoided / Canceled / Failed, or ended)
    RESTORE = "restore"  # the saved weights back
    REMOVE = "remove"  # take the instance out of its load balancers (preempted: it will not come back)
    ACCEPT = "accept"  # AcceptInquiredSystemEvent
    CONSOLE = "console"  # GetInstanceConsoleOutput, kept for the report
    CLOSE = "close"  # the saga is done; args: outcome


class StepState(str, Enum):
    PENDING = "pending"
    RUNNING = "running"  # claimed; the action may have been sent
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class SagaStatus(str, Enum):
    ACTIVE = "active"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CLOSED = "closed"  # nothing left to do (avoided by someone else, canceled, notify-only)


class Step(BaseModel):
    model_config = ConfigDict(use_enum_values=False)

    action: Action
    at: WireTime | None = None  # not before this time
    after: float = 0.0  # seconds after the previous step finished
    args: dict[str, Any] = Field(default_factory=dict)
    state: StepState = StepState.PENDING
    started_at: WireTime | None = None
    done_at: WireTime | None = None
    detail: str | None = None
    # Waiting for news (an event, a budget's release) that wakes it: its due time is only the backstop look, which the
    # reconciler takes (it wakes every saga overdue), so no timer is sent for it.
    backstop: bool = False

    def due(self, previous_done: datetime | None, now: datetime) -> datetime:
        """When this step may run: its own ``at``, and ``after`` seconds past the previous step."""
        base = previous_done or now
        due = base + timedelta(seconds=self.after)
        return max(due, self.at) if self.at is not None else due


class HistoryEntry(BaseModel):
    at: WireTime
    what: str
    step: str | None = None


TERMINAL_EVENT_STATUSES = frozenset({"Executed", "Avoided", "Canceled", "Failed"})
# Statuses only move forward: a late Scheduled never undoes an Executed (deliveries arrive reordered).
_STATUS_RANK = {"Inquiring": 0, "Scheduled": 1, "Executing": 2, "Executed": 3, "Avoided": 3, "Canceled": 3, "Failed": 3}


def status_rank(status: str | None) -> int:
    return _STATUS_RANK.get(status or "", -1)


class Saga(BaseModel):
    key: str
    instance_id: str
    event_id: str
    event_name: str
    event_type: str
    playbook: str
    status: SagaStatus = SagaStatus.ACTIVE
    event_status: str | None = None
    event_finished: bool = False  # disk events: the notification with executeFinishTime arrived
    not_before: WireTime | None = None
    created_at: WireTime
    updated_at: WireTime
    steps: list[Step] = Field(default_factory=list)
    cursor: int = 0
    disk_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)  # the instance's tags when the saga began (policy overrides)
    policy_type: str = ""  # the event type the policy resolves overrides for
    notice_seq: int = 0
    drained: bool = False  # this saga holds the instance's drain (see engine.drain)
    waiting_for: dict[str, int] = Field(default_factory=dict)  # deferred: load balancer -> its backend count
    drain_deadline: WireTime | None = None
    snapshots: dict[str, dict[str, str]] = Field(default_factory=dict)  # disk id -> {snapshot_id, status}
    invoke_id: str | None = None
    rebooted_at: WireTime | None = None
    wake_at: WireTime | None = None  # the earliest timer armed and not yet past
    lease_owner: str | None = None
    seen: list[str] = Field(default_factory=list)  # notification ids applied (bounded)
    history: list[HistoryEntry] = Field(default_factory=list)
    outcome: str | None = None

    @property
    def active(self) -> bool:
        return self.status is SagaStatus.ACTIVE

    @property
    def current(self) -> Step | None:
        return self.steps[self.cursor] if self.cursor < len(self.steps) else None

    def previous_done(self) -> datetime | None:
        return self.steps[self.cursor - 1].done_at if self.cursor > 0 else None

    def next_due(self, now: datetime) -> datetime | None:
        """When the saga next needs a look: its current step's due time, or the drain deadline if sooner."""
        step = self.current
        times = [t for t in (self.drain_deadline if self.drained else None,) if t is not None]
        if step is not None and self.active:
            times.append(step.due(self.previous_done(), now))
        return min(times) if times else None

    def note(self, now: datetime, what: str, step: Step | None = None) -> None:
        """One line of the saga's timeline (the step's full detail stays on the step)."""
        line = " ".join(what.split())
        line = line if len(line) <= 200 else line[:199] + "…"
        self.history.append(HistoryEntry(at=now, what=line, step=step.action.value if step else None))
        del self.history[:-200]  # bounded: a saga never grows without limit

    def replace_remaining(self, steps: list[Step]) -> None:
        """The playbook changed its mind (a new status arrived): keep what is done, script the rest anew."""
        del self.steps[self.cursor :]
        self.steps.extend(steps)

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_doc(cls, value: dict[str, Any]) -> Saga:
        return cls.model_validate(value)


def saga_key(instance_id: str, event_id: str) -> str:
    return f"saga/{instance_id}/{event_id}"
