"""Policy.resolve: the file's defaults, then matching ``events:`` overrides, then instance tags (never raising)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecs_events.policy import Command, Effective, Policy, Window, parse_policy, parse_window_tag

POLICY = parse_policy(
    {
        "window": {"daily": "02:00-05:00", "timezone": "Asia/Shanghai"},
        "lead": "30m",
        "pre_reboot_command": {"content": "systemctl stop app"},
        "self_redeploy": True,
        "budget": {"min": 1, "percent": 10},
        "events": {
            "SystemFailure.*": {"snapshot": True, "lead": "10m", "window": None},
            "SystemFailure.Reboot": {"lead": "5m"},
            "*": {"drain_period": "2m"},
            "Disk:*": {"accept_inquiring": True},
            "Disk:Stalled": {"skip": True, "pre_reboot_command": None},
            "PreemptibleInstanceInterruption": {"snapshot": True, "drain_period": "90s"},
            "SystemMaintenance.Reboot": {"window": {"cron": "0 3 * * SUN", "duration": "2h"}},
        },
    }
)


def test_defaults_for_an_event_without_overrides() -> None:
    effective = Policy().resolve("SystemMaintenance.Reboot", {})
    assert effective == Effective(
        event_type="SystemMaintenance.Reboot",
        family="maintenance",
        window=None,
        lead=timedelta(minutes=30),
        drain_period=timedelta(seconds=60),
        max_drain=timedelta(hours=2),
        poll_interval=timedelta(seconds=15),
        snapshot=True,
        snapshot_data_only=False,
        pre_reboot_command=None,
        accept_inquiring=False,
        self_redeploy=False,
        skip=False,
        budget_min=1,
        budget_percent=10,
        warnings=(),
    )
    assert effective.command is None


@pytest.mark.parametrize(
    ("event_type", "snapshot", "data_only"),
    [
        ("SystemMaintenance.Redeploy", True, False),
        ("SystemFailure.Reboot", False, False),
        ("InstanceExpiration.Delete", True, True),
        ("AccountUnbalanced.Stop", True, True),
        ("Disk:ErrorDetected", True, False),
        ("PreemptibleInstanceInterruption", False, True),
        ("Disk:Stalled", False, False),
        ("StateChange", False, False),
    ],
)
def test_snapshot_is_resolved_for_the_events_family(event_type: str, snapshot: bool, data_only: bool) -> None:
    effective = Policy().resolve(event_type, {})
    assert (effective.snapshot, effective.snapshot_data_only) == (snapshot, data_only)


def test_glob_then_exact_override_most_specific_wins() -> None:
    reboot = POLICY.resolve("SystemFailure.Reboot", {})
    assert reboot.lead == timedelta(minutes=5)  # exact beats SystemFailure.*
    assert reboot.snapshot is True  # from SystemFailure.*, which the exact entry does not touch
    assert reboot.window is None  # SystemFailure.* says window: null
    assert reboot.drain_period == timedelta(minutes=2)  # from "*"
    redeploy = POLICY.resolve("Instance:SystemFailure.Redeploy", {})
    assert (redeploy.event_type, redeploy.lead) == ("SystemFailure.Redeploy", timedelta(minutes=10))


def test_overrides_of_each_key() -> None:
    stalled = POLICY.resolve("Disk:Stalled", {})
    assert stalled.skip and stalled.accept_inquiring
    assert stalled.pre_reboot_command is None  # null override removes the policy's command
    assert stalled.drain_period == timedelta(minutes=2)
    preempt = POLICY.resolve("PreemptibleInstanceInterruption", {})
    assert preempt.snapshot and preempt.snapshot_data_only
    assert preempt.drain_period == timedelta(seconds=90)  # exact beats "*"
    assert preempt.pre_reboot_command == Command(content="systemctl stop app")
    assert preempt.command == preempt.pre_reboot_command
    maintenance = POLICY.resolve("SystemMaintenance.Reboot", {})
    assert maintenance.window == Window(cron="0 3 * * SUN", duration=timedelta(hours=2))
    assert maintenance.self_redeploy and not maintenance.skip
    assert maintenance.lead == timedelta(minutes=30)


def test_bare_model_event_type_finds_its_disk_override() -> None:
    assert POLICY.resolve("Stalled", {}).skip


def test_tags_override_everything() -> None:
    tags = {
        "ecs-events:window": "22:00-01:00 Europe/Paris",
        "ecs-events:lead": "45m",
        "ecs-events:snapshot": "FALSE",
        "ecs-events:skip": "true",
        "ecs-events:managed": "true",
        "Name": "web-1",
    }
    effective = POLICY.resolve("SystemMaintenance.Reboot", tags)
    assert effective.window == Window(daily="22:00-01:00", timezone="Europe/Paris")
    assert effective.lead == timedelta(minutes=45)
    assert effective.snapshot is False
    assert effective.skip is True
    assert effective.warnings == ()


def test_window_tag_forms() -> None:
    assert parse_window_tag("02:00-05:00") == Window(daily="02:00-05:00")
    assert parse_window_tag("  02:00-05:00   Asia/Shanghai ") == Window(daily="02:00-05:00", timezone="Asia/Shanghai")
    assert parse_window_tag("None") is None
    assert POLICY.resolve("SystemMaintenance.Reboot", {"ecs-events:window": "none"}).window is None


def test_another_tag_prefix() -> None:
    effective = POLICY.resolve("SystemMaintenance.Reboot", {"ops/lead": "1h", "ecs-events:lead": "2h"}, "ops/")
    assert effective.lead == timedelta(hours=1)


@pytest.mark.parametrize(
    ("tag", "value", "warning"),
    [
        ("window", "25:00-03:00", "tag ecs-events:window: expected HH:MM-HH:MM, got '25:00-03:00' "),
        ("window", "02:00-05:00 Mars/Base", "tag ecs-events:window: unknown time zone 'Mars/Base'"),
        ("window", "", "tag ecs-events:window: expected HH:MM-HH:MM, got ''"),
        ("lead", "soon", "tag ecs-events:lead: expected a duration like 90s, 30m, 2h, 1d, 1h30m or integer seconds"),
        ("snapshot", "yes", "tag ecs-events:snapshot: expected true or false, got 'yes'; ignored"),
        ("skip", "1", "tag ecs-events:skip: expected true or false, got '1'; ignored"),
    ],
)
def test_a_bad_tag_is_ignored_with_a_one_line_warning(tag: str, value: str, warning: str) -> None:
    base = POLICY.resolve("SystemMaintenance.Reboot", {})
    effective = POLICY.resolve("SystemMaintenance.Reboot", {f"ecs-events:{tag}": value})
    assert len(effective.warnings) == 1
    assert effective.warnings[0].startswith(warning)
    assert effective.warnings[0].endswith("; ignored")
    assert "\n" not in effective.warnings[0]
    assert getattr(effective, tag) == getattr(base, tag)


def test_good_tags_still_apply_next_to_bad_ones() -> None:
    effective = POLICY.resolve("SystemMaintenance.Reboot", {"ecs-events:lead": "1h", "ecs-events:skip": "perhaps"})
    assert effective.lead == timedelta(hours=1)
    assert effective.skip is False
    assert effective.warnings == ("tag ecs-events:skip: expected true or false, got 'perhaps'; ignored",)


@pytest.mark.parametrize(
    ("total", "budget"), [(0, 1), (1, 1), (3, 1), (10, 1), (19, 1), (20, 2), (25, 2), (100, 10), (101, 10)]
)
def test_budget_for_default(total: int, budget: int) -> None:
    assert Policy().resolve("SystemMaintenance.Reboot", {}).budget_for(total) == budget


def test_budget_for_custom_min_and_fractional_percent() -> None:
    effective = parse_policy({"budget": {"min": 3, "percent": 12.5}}).resolve("SystemMaintenance.Reboot", {})
    assert [effective.budget_for(n) for n in (8, 24, 40, 80)] == [3, 3, 5, 10]
    exact = parse_policy({"budget": {"percent": 30}}).resolve("StateChange", {})
    assert exact.budget_for(10) == 3  # 30% of 10 is exactly 3, not 2.9999...
