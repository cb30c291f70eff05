"""The timeline model and its terminal rendering, from saga documents as the store holds them (no wire)."""

from __future__ import annotations

import io

from ecs_events.engine.saga import Action, HistoryEntry, Saga, Step, StepState
from ecs_events.models.times import parse_time
from ecs_events.tools.demo import Progress
from ecs_events.tools.timeline import Labels, build, render_text

AT = parse_time("2026-11-26T02:00:00Z")


def _saga(instance: str, name: str, **kw: object) -> Saga:
    values: dict[str, object] = {
        "key": f"saga/{instance}/e-1",
        "instance_id": instance,
        "event_id": "e-1",
        "event_name": name,
        "event_type": "SystemMaintenance.Reboot",
        "playbook": "maintenance",
        "created_at": AT,
        "updated_at": parse_time("2026-11-26T02:30:00Z"),
    }
    values.update(kw)
    return Saga.model_validate(values)


def test_terminal_lines_stay_one_line_each_whatever_the_store_holds() -> None:
    hostile = "Instance:X\n02:00:00  restore  forged line\x1b[31m"
    saga = _saga("i-1", hostile, history=[HistoryEntry(at=AT, what=f"received {hostile}")])
    lines = render_text(build([saga]))
    assert all("\n" not in line and "\x1b" not in line for line in lines)
    assert any("\\x1b[31m" in line for line in lines)  # shown escaped, not interpreted
    assert not any(line.lstrip().startswith("02:00:00  restore") for line in lines)


def test_open_drain_deferred_step_and_failure_are_marked() -> None:
    drained = Step(
        action=Action.DRAIN, state=StepState.DONE, done_at=AT, detail="weight 0 on 2 backend entries of lb-1"
    )
    failed = Step(action=Action.SNAPSHOT, state=StepState.FAILED, started_at=AT, done_at=AT, detail="disk busy")
    waiting = Step(action=Action.REBOOT)
    saga = _saga(
        "i-1",
        "Instance:SystemMaintenance.Reboot:Scheduled",
        drained=True,
        steps=[drained, failed, waiting],
        not_before=parse_time("2026-11-26T04:00:00Z"),
        history=[
            HistoryEntry(at=AT, what="weight 0 on 2 backend entries of lb-1", step="drain"),
            HistoryEntry(at=AT, what="deferred: disruption budget spent on lb-1", step="reboot"),
        ],
    )
    now = parse_time("2026-11-26T03:00:00Z")
    labels = Labels(names={"lb-1": "web-lb", "i-1": "web-1"}, memberships={"i-1": ["web-lb", "web-8080"]})
    (lane,) = build([saga], now=now, labels=labels).lanes
    kinds = {m.kind: m for m in lane.marks}
    assert kinds["drain"].open and kinds["drain"].end == now  # still drained: open up to now
    assert kinds["deferred"].open and kinds["deferred"].end == now  # the reboot has not run yet
    assert kinds["failed"].label == "snapshot failed: disk busy"
    assert kinds["deadline"].start == parse_time("2026-11-26T04:00:00Z")
    lines = render_text(build([saga], now=now, labels=labels))
    assert lines[1] == "web-1 (i-1)"
    assert "02:00:00  drain" in lines[3] and lines[3].endswith("weight 0 on web-lb, web-8080")
    assert lines[4].endswith("deferred: disruption budget spent on web-lb")
    assert lines[-1].endswith("SystemMaintenance.Reboot deadline")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_rewrites_one_line_on_a_terminal_and_clears_it() -> None:
    stream = Terminal()
    progress = Progress(stream)
    progress.show("demo: 02:00:00 UTC  a longer first line", changed=False)
    progress.show("demo: 02:01:00 UTC  short", changed=True)
    progress.done()
    text = stream.getvalue()
    assert "\n" not in text and text.count("\r") == 4
    assert text.endswith("\r" + " " * len("demo: 02:01:00 UTC  short") + "\r")
    assert "\rdemo: 02:01:00 UTC  short          " in text  # padded over the longer line it replaces
