"""The remediation timeline: what the engine did to each instance, when, read back from the store's sagas.

One *lane* per instance. On a lane: *spans* (drained out of the load balancers, a snapshot being taken, a Cloud
Assistant command running) and *points* (the event received, the reboot, the weights restored, the removal, a step
deferred or failed), the event's ``notBefore`` deadline, and the lane's history as text lines. ``render_text`` is the
terminal view (``ecs-events demo``); ``ecs_events.tools.timeline_html`` draws the same model as a page.

Everything here comes from the store (event data is untrusted): the renderers escape it, this module only keeps it
on one line. Optional ``Labels`` (known only to a caller that built the fleet, such as the demo) put names on ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ecs_events.errors import printable

if TYPE_CHECKING:
    from ecs_events.engine.saga import Saga, Step
    from ecs_events.store.base import Store

TEXT_LIMIT = 240
NAMED_STEPS = ("drain", "restore", "remove", "snapshot")  # history lines said better with load balancers by name
KINDS = (("received ", "event"), ("re-planned", "plan"), ("aborted:", "failed"), ("snapshot ", "snapshot"),
         ("instance ", "instance"))  # fmt: skip
TERMINAL = ("Executed", "Avoided", "Canceled", "Failed")


@dataclass(frozen=True)
class Mark:
    """A span (``end`` set) or a point on a lane. ``open``: the span has not ended yet (drawn up to ``end``)."""

    kind: str  # drain, snapshot, command, event, reboot, restore, remove, deadline, deferred, failed
    start: datetime
    end: datetime | None
    label: str
    saga: str
    open: bool = False


@dataclass(frozen=True)
class Entry:
    """One line of a lane's history."""

    at: datetime
    kind: str
    text: str
    saga: str


def saga_line(saga: Saga) -> str:
    """``SystemMaintenance.Reboot (e-1): succeeded, event Avoided`` on one line."""
    what = saga.event_type + (f" on {saga.disk_id}" if saga.disk_id else "")
    event = f", event {saga.event_status}" if saga.event_status else ""
    if saga.event_finished and saga.event_status not in TERMINAL:
        event = ", event ended"  # a disk event ends with executeFinishTime, its status stays Executing
    return clean(f"{what} ({saga.event_id}): {saga.outcome or saga.status.value}{event}")


@dataclass(frozen=True)
class Lane:
    instance_id: str
    name: str | None = None
    managed: bool | None = None  # None: unknown (only the store was read)
    sagas: tuple[Saga, ...] = ()
    marks: tuple[Mark, ...] = ()
    entries: tuple[Entry, ...] = ()

    @property
    def title(self) -> str:
        return clean(f"{self.name} ({self.instance_id})" if self.name else self.instance_id)


@dataclass(frozen=True)
class Timeline:
    lanes: tuple[Lane, ...]
    start: datetime | None
    end: datetime | None
    unreadable: tuple[str, ...] = ()

    @property
    def sagas(self) -> list[Saga]:
        return [s for lane in self.lanes for s in lane.sagas]

    def outcomes(self) -> Counter[str]:
        return Counter(s.outcome or s.status.value for s in self.sagas)


@dataclass
class Labels:
    """Names a caller knows for ids (instances, load balancers, VServer groups), and each instance's load balancer
    memberships by name (``["web-lb", "web-8080"]``), for lines a person reads."""

    names: dict[str, str] = field(default_factory=dict)
    memberships: dict[str, list[str]] = field(default_factory=dict)
    instances: list[str] = field(default_factory=list)  # lanes to show even without a saga, in this order
    unmanaged: set[str] = field(default_factory=set)

    def text(self, value: str) -> str:
        for key, name in self.names.items():
            value = value.replace(key, name)
        return value


def clean(text: str, limit: int = TEXT_LIMIT) -> str:
    """One line, control characters escaped, at most ``limit`` characters."""
    text = " ".join(printable(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- building ----------------------------------------------------------------------------------------------------
def read_sagas(store: Store) -> tuple[list[Saga], list[str]]:
    """Every saga document in the store, and the keys of those that do not parse (never an error)."""
    from pydantic import ValidationError

    from ecs_events.engine.saga import Saga

    sagas, bad = [], []
    for doc in store.scan("saga/"):
        try:
            sagas.append(Saga.from_doc(doc.value))
        except (ValidationError, TypeError):
            bad.append(doc.key)
    return sagas, bad


def from_store(store: Store, now: datetime | None = None, labels: Labels | None = None) -> Timeline:
    sagas, bad = read_sagas(store)
    return build(sagas, now=now, labels=labels, unreadable=bad)


def build(
    sagas: list[Saga], *, now: datetime | None = None, labels: Labels | None = None, unreadable: Sequence[str] = ()
) -> Timeline:
    """The timeline of ``sagas``: one lane per instance (``labels.instances`` first, in their order, then the rest
    by id). ``now`` ends the spans still open (default: the latest time in any saga)."""
    labels = labels or Labels()
    latest = max((s.updated_at for s in sagas), default=None)
    end_open = now or latest
    by_instance: dict[str, list[Saga]] = {}
    for saga in sorted(sagas, key=lambda s: (s.created_at, s.key)):
        by_instance.setdefault(saga.instance_id, []).append(saga)
    order = list(dict.fromkeys([*labels.instances, *sorted(by_instance)]))
    lanes = [_lane(i, by_instance.get(i, []), labels, end_open) for i in order]
    times = [t for lane in lanes for m in lane.marks for t in (m.start, m.end) if t is not None]
    times += [e.at for lane in lanes for e in lane.entries]
    return Timeline(tuple(lanes), min(times, default=None), max(times, default=None), tuple(unreadable))


def _lane(instance_id: str, sagas: list[Saga], labels: Labels, now: datetime | None) -> Lane:
    marks: list[Mark] = []
    entries: list[Entry] = []
    for saga in sagas:
        marks += _marks(saga, labels, now)
        entries += _entries(saga, labels)
    marks.sort(key=lambda m: (m.start, m.kind))
    entries.sort(key=lambda e: e.at)  # stable: a saga's own order is kept within one second
    managed = False if instance_id in labels.unmanaged else (True if sagas or labels.instances else None)
    return Lane(instance_id, labels.names.get(instance_id), managed, tuple(sagas), tuple(marks), tuple(entries))


def _where(saga: Saga, labels: Labels) -> str | None:
    names = labels.memberships.get(saga.instance_id)
    return ", ".join(names) if names else None


def _step_text(saga: Saga, step: Step, labels: Labels) -> str:
    """What a person reads for a finished step: load balancers by name when the caller knows them."""
    where = _where(saga, labels)
    action = step.action.value
    if where and step.state.value == "done":
        if action == "drain":
            return f"weight 0 on {where}"
        if action == "restore":
            return f"weights back on {where}"
        if action == "remove":
            return f"removed from {where}"
    text = clean(labels.text(step.detail or action))
    if action == "snapshot" and step.state.value == "done" and not text.startswith("snapshot"):
        return f"snapshots {text}"  # the detail is the bare list of snapshot ids
    return text


def _marks(saga: Saga, labels: Labels, now: datetime | None) -> list[Mark]:
    """Spans and points of one saga: the event, its steps, deferrals and aborts, the notBefore deadline."""
    out = [Mark("event", saga.created_at, None, clean(f"received {saga.event_name}"), saga.key)]
    out += _step_marks(saga, labels, now)
    for entry in saga.history:
        if entry.what.startswith("deferred:"):  # a span: from the deferral until the step ran (or now)
            ran = [
                s.done_at for s in saga.steps if s.action.value == entry.step and s.done_at and s.done_at >= entry.at
            ]
            end = min(ran) if ran else (now if saga.active else saga.updated_at)
            label = clean(labels.text(entry.what))
            out.append(Mark("deferred", entry.at, max(end or entry.at, entry.at), label, saga.key, open=not ran))
        elif entry.what.startswith("aborted:"):
            out.append(Mark("failed", entry.at, None, clean(labels.text(entry.what)), saga.key))
    if saga.not_before is not None:
        out.append(Mark("deadline", saga.not_before, None, clean(f"notBefore of {saga.event_type}"), saga.key))
    return out


def _step_marks(saga: Saga, labels: Labels, now: datetime | None) -> list[Mark]:
    """Walks the script in order: a drain opens a span that the next restore (or removal) closes; a saga still
    drained has it open up to ``now``. Snapshots and commands are spans of their own; failed steps are points."""
    from ecs_events.engine.saga import StepState

    key, out = saga.key, []
    drain_from: datetime | None = None
    drain_label = ""
    for step in saga.steps:
        action, state = step.action.value, step.state
        if state is StepState.FAILED:
            at = step.done_at or step.started_at or saga.updated_at
            out.append(Mark("failed", at, None, clean(f"{action} failed: {labels.text(step.detail or '')}"), key))
            continue
        start = step.started_at or step.done_at
        if action in ("snapshot", "command") and start is not None:
            end = step.done_at if state is StepState.DONE else now
            label = clean(f"{action}: {labels.text(step.detail or '')}")
            out.append(Mark(action, start, max(end or start, start), label, key, open=state is not StepState.DONE))
        if state is not StepState.DONE or step.done_at is None:
            continue
        if action == "drain" and drain_from is None:
            drain_from, drain_label = step.done_at, _step_text(saga, step, labels)
        elif action in ("restore", "remove"):
            if drain_from is not None:
                out.append(Mark("drain", drain_from, step.done_at, clean(f"drained: {drain_label}"), key))
                drain_from = None
            out.append(Mark(action, step.done_at, None, clean(_step_text(saga, step, labels)), key))
        elif action == "reboot":
            out.append(Mark("reboot", step.done_at, None, clean(labels.text(step.detail or "rebooted")), key))
    if drain_from is not None:  # still drained (or the saga ended without a restore step of its own)
        end = max((now if saga.drained or saga.active else saga.updated_at) or drain_from, drain_from)
        out.append(Mark("drain", drain_from, end, clean(f"drained: {drain_label}"), key, open=saga.drained))
    return out


def _entries(saga: Saga, labels: Labels) -> list[Entry]:
    """The saga's history as lines: bare step names (``wait``) say nothing and are left out; load balancers by
    name; the event's deadline as a line of its own."""
    key = saga.key
    done = {(s.action.value, s.done_at): s for s in saga.steps if s.done_at is not None}
    out: list[Entry] = []
    for entry in saga.history:
        if entry.step == "close":
            out.append(Entry(entry.at, "close", clean(f"saga {saga.outcome or saga.status.value}"), key))
            continue
        if entry.step is not None and entry.what == entry.step:
            continue
        if entry.step is not None:
            step = done.get((entry.step, entry.at)) if entry.step in NAMED_STEPS else None
            text = _step_text(saga, step, labels) if step is not None else clean(labels.text(entry.what))
            kind = "deferred" if entry.what.startswith("deferred:") else entry.step
            out.append(Entry(entry.at, kind, text, key))
            continue
        out.append(Entry(entry.at, _kind_of(entry.what), clean(labels.text(entry.what)), key))
    if saga.not_before is not None:
        status = f" (event {saga.event_status})" if saga.event_status else ""
        out.append(Entry(saga.not_before, "notBefore", clean(f"{saga.event_type} deadline{status}"), key))
    return out


def _kind_of(what: str) -> str:
    """The kind of a history line the engine wrote without a step (an event arrived, a plan changed...)."""
    return next((kind for prefix, kind in KINDS if what.startswith(prefix)), "note")


# -- the terminal ------------------------------------------------------------------------------------------------
def hms(at: datetime) -> str:
    from datetime import timezone

    return at.astimezone(timezone.utc).strftime("%H:%M:%S")


def render_text(timeline: Timeline) -> list[str]:
    """Per lane: a title line, one line per saga, then time-ordered ``HH:MM:SS  kind  text`` lines (UTC)."""
    lines: list[str] = []
    if timeline.start is not None:
        day = timeline.start.strftime("%Y-%m-%d")
        lines.append(f"timeline (UTC, from {day} {hms(timeline.start)})")
    width = max((len(e.kind) for lane in timeline.lanes for e in lane.entries), default=8)
    for lane in timeline.lanes:
        state = {False: "  not managed: untouched", True: "", None: ""}[lane.managed]
        lines.append(f"{lane.title}{state}")
        if lane.managed and not lane.sagas:
            lines.append("  no event")
        lines += [f"  {saga_line(s)}" for s in lane.sagas]
        lines += [f"    {hms(e.at)}  {e.kind:<{width}}  {e.text}" for e in lane.entries]
    if timeline.unreadable:
        lines.append(f"unreadable saga documents: {', '.join(timeline.unreadable)}")
    return lines  # every part is one clean line already (titles, saga lines, entries)
