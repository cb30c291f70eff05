"""``ecs-events demo`` end to end in this process: every event remediated as the design says, read from what the
command prints (the timeline from the store, the final state from the cloud through the SDKs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.demo.conftest import DemoRun, run_demo

from ecs_events.cli import main


def _times(lines: list[str], kind: str) -> list[str]:
    """The HH:MM:SS of every timeline line of ``kind`` in a lane."""
    return [m.group(1) for line in lines if (m := re.match(rf"\s+(\d\d:\d\d:\d\d)  {kind}\s", line))]


def test_demo_exits_0_with_every_check_held(demo: DemoRun) -> None:
    assert demo.code == 0, demo.out + demo.err
    checks = demo.out.split("\nchecks:\n")[1].splitlines()
    assert len(checks) >= 6
    assert all(line.startswith("  ok  ") for line in checks if line.strip() and "HTML timeline" not in line)
    assert "FAIL" not in demo.out
    assert f"HTML timeline: {demo.html.absolute()}" in demo.out
    assert demo.html.stat().st_size > 5000


def test_maintenance_reboot_is_avoided_before_not_before(demo: DemoRun) -> None:
    web1 = demo.instance_ids()["web-1"]
    events = demo.out.split("system events (DescribeInstanceHistoryEvents):\n")[1].split("\n\n")[0].splitlines()
    line = next(e for e in events if web1 in e)
    assert "SystemMaintenance.Reboot" in line and ": Avoided (notBefore " in line
    lane = demo.lane("web-1")
    assert "event Avoided" in lane[1]
    drain, reboot, restore = _times(lane, "drain"), _times(lane, "reboot"), _times(lane, "restore")
    snapshot = _times(lane, "snapshot")
    (deadline,) = _times(lane, "notBefore")
    assert drain[0] <= snapshot[0] <= reboot[0] <= restore[0] < deadline
    assert any("weight 0 on web-lb, web-8080" in line for line in lane)
    assert any("weights back on web-lb, web-8080" in line for line in lane)
    snapshots = demo.out.split("snapshots (DescribeSnapshots):\n")[1].split("\n\n")[0].splitlines()
    assert len(snapshots) == 4 and all(s.endswith(": accomplished") for s in snapshots)  # web-1's and api-1's


def test_disk_stall_is_drained_then_restored(demo: DemoRun) -> None:
    lane = demo.lane("web-3")
    assert lane[1].strip().startswith("Stalled on d-") and "succeeded, event ended" in lane[1]
    (drained,), (restored,) = _times(lane, "drain"), _times(lane, "restore")
    assert drained < restored
    assert any(line.endswith("weight 0 on web-lb") for line in lane)
    assert re.search(r"ok  +disk stall on web-3: drained \d\d:\d\d:\d\d, restored \d\d:\d\d:\d\d", demo.out)


def test_a_planned_drain_waits_for_the_disruption_budget(demo: DemoRun) -> None:
    web1, web3 = demo.lane("web-1"), demo.lane("web-3")
    (deferred,) = _times(web1, "deferred")
    assert any("disruption budget spent on web-lb" in line for line in web1)
    (stall_restored,) = _times(web3, "restore")
    assert deferred < stall_restored <= _times(web1, "drain")[0]


def test_preempted_instance_is_drained_then_removed(demo: DemoRun) -> None:
    lane = demo.lane("batch")
    assert "PreemptibleInstanceInterruption" in lane[1] and "succeeded" in lane[1]
    (drained,), (removed,) = _times(lane, "drain"), _times(lane, "remove")
    assert drained < removed
    assert _times(lane, "restore") == []
    assert any(line.endswith("removed from web-lb") for line in lane)


def test_weights_are_restored_and_the_untagged_instance_untouched(demo: DemoRun) -> None:
    weights = demo.out.split("(now, and before where different):\n")[1].split("\n")[:3]
    assert "  api-80: api-1 100, api-2 100" in weights  # the ALB server group
    assert "  web-8080: web-1 80, web-2 80" in weights
    assert "  web-lb: batch removed (was 30), legacy 50, web-1 100, web-2 100, web-3 100, web-4 100" in weights
    assert demo.lane("legacy") == [f"legacy ({demo.instance_ids()['legacy']})  not managed: untouched"]
    assert "ok    legacy (no opt-in tag): untouched" in demo.out
    assert demo.lane("web-2") == [f"web-2 ({demo.instance_ids()['web-2']})", "  no event"]


def test_progress_goes_to_stderr_as_plain_lines_off_a_terminal(demo: DemoRun) -> None:
    lines = demo.err.splitlines()
    assert lines and all(re.fullmatch(r"demo: \d\d:\d\d:\d\d UTC  \d+ messages? handled  \d+ sagas?, \d+ active", x)
                         for x in lines), demo.err  # fmt: skip
    assert "\r" not in demo.err
    assert lines[-1].endswith("4 sagas, 0 active")


def test_the_same_seed_gives_the_same_output(demo: DemoRun, tmp_path: Path) -> None:
    again = run_demo(tmp_path)
    assert again.code == 0
    assert again.out.replace(str(again.html.absolute()), "PAGE") == demo.out.replace(str(demo.html.absolute()), "PAGE")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "-1"], "ecs-events: demo: --seed: expected a whole number >= 0, got '-1'\n"),
        (["--seed", "x"], "ecs-events: demo: --seed: expected a whole number >= 0, got 'x'\n"),
        (["--html", "/nonexistent-dir/t.html"], "ecs-events: demo: --html: no such folder: '/nonexistent-dir'\n"),
        (["--store", "mysql://x"], "ecs-events: demo: --store: "),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message) and captured.err.count("\n") == 1
    assert captured.out == ""
