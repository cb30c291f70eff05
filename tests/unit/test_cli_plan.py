"""``ecs-events plan`` and ``engine.projection``: the engine's decision laid out on the clock, offline."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ecs_events.cli import main
from ecs_events.engine.projection import line, project, project_saga
from ecs_events.engine.saga import Action, Saga, Step, StepState

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
CLOUDMONITOR = sorted(str(p) for p in (SAMPLES / "cloudmonitor").iterdir())
REBOOT = str(SAMPLES / "cloudmonitor" / "instance-systemmaintenance-reboot-scheduled.json")  # notBefore 11-28 01:00Z
NOW = "2026-11-26T02:00:00Z"
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
POLICY = """\
window: {daily: "02:00-05:00", timezone: Asia/Shanghai}
lead: 30m
drain_period: 90s
"""


@pytest.fixture(autouse=True)
def _no_policy_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECS_EVENTS_POLICY", raising=False)
    monkeypatch.delenv("ECS_EVENTS_TAG", raising=False)


@pytest.fixture
def policy(tmp_path: Path) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return str(path)


def _plans(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(["plan", "--json", *argv]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return [json.loads(text) for text in out.splitlines()]


def _times(plan: dict[str, object]) -> list[tuple[str, str]]:
    steps = plan["steps"]
    assert isinstance(steps, list)
    return [(s["at"], s["action"]) for s in steps]


# -- the command ---------------------------------------------------------------------------------------------------
def test_every_cloudmonitor_sample_plans(capsys: pytest.CaptureFixture[str]) -> None:
    plans = _plans(capsys, "--now", NOW, *CLOUDMONITOR)
    assert len(plans) == len(CLOUDMONITOR)
    by_file = {Path(str(p["file"])).name: p for p in plans}
    for plan in plans:
        assert set(plan) >= {"file", "id", "name", "instance_id", "status", "playbook", "reason", "steps"}
        assert isinstance(plan["reason"], str) and plan["reason"]
        for step in plan["steps"]:  # type: ignore[attr-defined]
            assert set(step) == {"action", "at", "after", "waits", "args"}
            assert step["at"] >= NOW and step["at"].endswith("Z")
            assert step["waits"] is (step["action"] in ("snapshot", "command", "wait_healthy", "wait_event_done"))
    for name in (
        "instance-statechange-running.json",
        "snapshot-createsnapshotcompleted-accomplished.json",
        "instance-unknown-future-event.json",
    ):
        assert by_file[name]["steps"] == [], name
    assert by_file["instance-unknown-future-event.json"]["playbook"] is None
    assert by_file["instance-statechange-running.json"]["reason"] == "state Running: nothing to do"
    assert "advances the saga that made it" in str(by_file["snapshot-createsnapshotcompleted-failed.json"]["reason"])
    assert [s["action"] for s in by_file["instance-preemptibleinstanceinterruption.json"]["steps"]][:2] == [  # type: ignore[attr-defined]
        "notify",
        "drain",
    ]


def test_maintenance_reboot_in_the_policy_window(capsys: pytest.CaptureFixture[str], policy: str) -> None:
    (plan,) = _plans(capsys, "--now", NOW, "--policy", policy, REBOOT)
    assert plan["playbook"] == "maintenance"
    assert plan["status"] == "Scheduled" and plan["instance_id"] == "i-bp1a2b3c4d5e6f7g8h9i"
    start = "2026-11-26T18:00:00Z"  # 02:00 in Shanghai: the first slot that ends 30 min before notBefore
    drained = "2026-11-26T18:01:30Z"  # + drain_period 90 s
    steps = plan["steps"]
    assert isinstance(steps, list)
    # the health check may be scripted some seconds after the reboot (its `after`): gates take no time, so the
    # steps after it share its time
    healthy = datetime.fromisoformat(drained) + timedelta(seconds=steps[7]["after"])
    healthy_at = healthy.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _times(plan) == [
        (NOW, "notify"),
        (start, "wait"),
        (start, "notify"),
        (start, "drain"),
        (drained, "wait"),
        (drained, "snapshot"),
        (drained, "reboot"),
        (healthy_at, "wait_healthy"),
        (healthy_at, "restore"),
        (healthy_at, "notify"),
        (healthy_at, "close"),
    ]
    assert steps[3]["args"] == {"urgent": False}
    assert steps[4]["after"] == 90.0
    assert [s["waits"] for s in steps].count(True) == 2
    assert steps[-1]["args"] == {"outcome": "succeeded"}


def test_tags_change_the_plan_like_instance_tags(capsys: pytest.CaptureFixture[str], policy: str) -> None:
    (no_window,) = _plans(capsys, "--now", NOW, "--policy", policy, "--tag", "ecs-events:window=none", REBOOT)
    assert _times(no_window)[1] == ("2026-11-28T00:30:00Z", "wait")  # notBefore - lead
    (skipped,) = _plans(capsys, "--now", NOW, "--tag", "ecs-events:skip=true", REBOOT)
    assert skipped["steps"] == [] and skipped["playbook"] is None
    assert skipped["reason"] == "skipped by policy for SystemMaintenance.Reboot"
    (warned,) = _plans(capsys, "--now", NOW, "--tag", "ecs-events:lead=soon", REBOOT)
    assert warned["warnings"] and "ecs-events:lead" in str(warned["warnings"])
    assert _times(warned)[1] == ("2026-11-28T00:30:00Z", "wait")  # the bad tag is ignored: the default lead


def test_policy_from_the_environment(
    capsys: pytest.CaptureFixture[str], policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECS_EVENTS_POLICY", policy)
    (plan,) = _plans(capsys, "--now", NOW, REBOOT)
    assert _times(plan)[1] == ("2026-11-26T18:00:00Z", "wait")


def test_readable_output(capsys: pytest.CaptureFixture[str], policy: str) -> None:
    assert main(["plan", "--now", NOW, "--policy", policy, REBOOT]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{REBOOT}: Instance:SystemMaintenance.Reboot:Scheduled  instance=i-bp1a2b3c4d5e6f7g8h9i " + (
        "status=Scheduled"
    )
    assert lines[1] == "  maintenance: SystemMaintenance.Reboot scheduled: act at 2026-11-26T18:00:00Z"
    assert lines[2].startswith(f"  {NOW}  notify  planned/info: i-bp1a2b3c4d5e6f7g8h9i: SystemMaintenance.Reboot at")
    assert "  2026-11-26T18:00:00Z  drain" in lines
    assert "  2026-11-26T18:01:30Z  wait  (1m30s after the previous step)" in lines
    assert "  2026-11-26T18:01:30Z  snapshot  (all disks, waits)" in lines
    assert re.fullmatch(r"  2026-11-26T18:01:\d\dZ  close  \(outcome succeeded\)", lines[-1])


def test_urgent_drain_is_marked(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(SAMPLES / "cloudmonitor" / "instance-systemfailure-reboot-executing.json")
    assert main(["plan", "--now", NOW, path]) == 0
    assert f"  {NOW}  drain  (urgent)" in capsys.readouterr().out.splitlines()


def test_control_characters_are_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    payload = json.loads(Path(REBOOT).read_text())
    payload["name"] = "Instance:Evil\n\x1b[2Jforged"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(payload))
    code = main(["plan", "--now", NOW, str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "\x1b" not in out and "\\x1b[2J" in out
    assert not any(text.startswith("forged") for text in out.splitlines())
    assert len(out.splitlines()) == 2  # the event line and "no playbook for Instance:Evil\x0a\x1b[2Jforged"


# -- bad input: one line, exit 2 -----------------------------------------------------------------------------------
def test_bad_file_is_one_line_and_good_ones_still_planned(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["plan", "--json", "--now", NOW, str(bad), REBOOT]) == 2
    out, err = capsys.readouterr()
    assert [json.loads(text)["playbook"] for text in out.splitlines()] == ["maintenance"]
    assert len(err.splitlines()) == 1 and err.startswith(f"{bad}: ")
    assert "Traceback" not in err


def test_bad_now_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--now", "tomorrow", REBOOT]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "ecs-events: plan: --now: not a time: 'tomorrow' (expected 2019-04-12T01:01:01Z or 20190409T121826.922+0800)"
    ]


def test_bad_policy_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text('window: {daily: "25:00-03:00"}\n')
    assert main(["plan", "--now", NOW, "--policy", str(path), REBOOT]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"ecs-events: plan: {path}: field window.daily: ")
    assert main(["plan", "--policy", str(tmp_path / "missing.yaml"), REBOOT]) == 2
    assert capsys.readouterr().err == f"ecs-events: plan: {tmp_path / 'missing.yaml'}: no such file\n"


def test_bad_tag_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--tag", "novalue", REBOOT]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "ecs-events: plan: --tag: expected KEY=VALUE, got 'novalue'\n"


# -- projection ----------------------------------------------------------------------------------------------------
def test_project_walks_at_and_after_with_gates_instantaneous() -> None:
    later = T0 + timedelta(hours=1)
    steps = [
        Step(action=Action.NOTIFY, args={"phase": "planned", "level": "info", "title": "t"}),
        Step(action=Action.WAIT, at=later),
        Step(action=Action.DRAIN, args={"urgent": True}),
        Step(action=Action.WAIT, after=60),
        Step(action=Action.SNAPSHOT, args={"data_only": True}),
        Step(action=Action.REBOOT, at=T0),  # an `at` already past: the previous step's time wins
        Step(action=Action.WAIT_HEALTHY, after=30),
    ]
    projected = project(steps, T0)
    assert [p.at for p in projected] == [
        T0,
        later,
        later,
        later + timedelta(seconds=60),
        later + timedelta(seconds=60),
        later + timedelta(seconds=60),
        later + timedelta(seconds=90),
    ]
    assert [p.waits for p in projected] == [False, False, False, False, True, False, True]
    assert line(projected[2]) == "2026-11-26T03:00:00Z  drain  (urgent)"
    assert line(projected[4]) == "2026-11-26T03:01:00Z  snapshot  (data disks, waits)"
    assert line(projected[0]) == "2026-11-26T02:00:00Z  notify  planned/info: t"


def test_project_counts_the_first_after_from_the_previous_step() -> None:
    done = T0 - timedelta(seconds=20)
    (first, second) = project([Step(action=Action.WAIT, after=60), Step(action=Action.RESTORE)], T0, done)
    assert first.at == done + timedelta(seconds=60) == second.at
    assert project([], T0) == []


def test_project_saga_starts_at_its_cursor() -> None:
    saga = Saga(
        key="saga/i-1/e-1",
        instance_id="i-1",
        event_id="e-1",
        event_name="Instance:SystemMaintenance.Reboot:Scheduled",
        event_type="SystemMaintenance.Reboot",
        playbook="maintenance",
        created_at=T0,
        updated_at=T0,
        steps=[
            Step(action=Action.DRAIN, state=StepState.DONE, done_at=T0 - timedelta(seconds=10)),
            Step(action=Action.WAIT, after=60),
            Step(action=Action.REBOOT),
        ],
        cursor=1,
    )
    projected = project_saga(saga, T0)
    assert [(p.step.action, p.at) for p in projected] == [
        (Action.WAIT, T0 + timedelta(seconds=50)),
        (Action.REBOOT, T0 + timedelta(seconds=50)),
    ]
