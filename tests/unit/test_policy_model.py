"""The policy file: every key parsed, every error one line naming the file and the field, resolve() layering."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ecs_events.errors import EcsEventsError
from ecs_events.policy import (
    Command,
    Policy,
    PolicyError,
    Window,
    canonical_event_type,
    family_of,
    format_duration,
    load_policy,
    parse_duration,
    parse_policy,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "events" / "policies" / "example.yaml"

FULL = """\
window: {daily: "22:00-02:00", timezone: Europe/Berlin}
lead: 45m
drain_period: 2m
max_drain: 1h30m
poll_interval: 20
budget: {min: 2, percent: 25}
snapshot: {maintenance: false, failure: true, billing: false, disk_error: false, preemption: true}
pre_reboot_command: {content: "echo bye", type: RunPowerShellScript, timeout: 2m}
accept_inquiring: true
self_redeploy: true
events:
  SystemMaintenance.Reboot:
    window: {cron: "30 1 * * MON-FRI", duration: 2h, timezone: UTC}
    lead: 1h
    drain_period: 10s
    snapshot: true
    skip: false
    accept_inquiring: false
    pre_reboot_command: {content: "sync"}
"""


def write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(tmp_path / "policy.yaml"), "policy.yaml")


# --- defaults and every key ------------------------------------------------------------------------------------


def test_none_and_empty_file_are_the_defaults(tmp_path: Path) -> None:
    assert load_policy(None) == Policy()
    assert load_policy(write(tmp_path, "")) == Policy()
    assert load_policy(write(tmp_path, "# only a comment\n")) == Policy()
    policy = Policy()
    assert policy.window is None
    assert (policy.lead, policy.drain_period, policy.max_drain, policy.poll_interval) == (
        timedelta(minutes=30),
        timedelta(seconds=60),
        timedelta(hours=2),
        timedelta(seconds=15),
    )
    assert (policy.budget.min, policy.budget.percent) == (1, 10)
    assert policy.snapshot.model_dump() == {
        "maintenance": True,
        "failure": False,
        "billing": True,
        "disk_error": True,
        "preemption": False,
    }
    assert policy.pre_reboot_command is None
    assert (policy.accept_inquiring, policy.self_redeploy, policy.events) == (False, False, {})


def test_every_key_is_parsed(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, FULL))
    assert policy.window == Window(daily="22:00-02:00", timezone="Europe/Berlin")
    assert policy.lead == timedelta(minutes=45)
    assert policy.drain_period == timedelta(minutes=2)
    assert policy.max_drain == timedelta(hours=1, minutes=30)
    assert policy.poll_interval == timedelta(seconds=20)
    assert (policy.budget.min, policy.budget.percent) == (2, 25)
    assert policy.snapshot.failure and policy.snapshot.preemption and not policy.snapshot.maintenance
    assert policy.pre_reboot_command == Command(
        content="echo bye", type="RunPowerShellScript", timeout=timedelta(minutes=2)
    )
    assert policy.accept_inquiring and policy.self_redeploy
    override = policy.events["SystemMaintenance.Reboot"]
    assert override.window == Window(cron="30 1 * * MON-FRI", duration=timedelta(hours=2))
    assert override.lead == timedelta(hours=1)
    assert override.pre_reboot_command == Command(content="sync")
    assert override.model_fields_set == {
        "window",
        "lead",
        "drain_period",
        "snapshot",
        "skip",
        "accept_inquiring",
        "pre_reboot_command",
    }


def test_the_example_file_is_valid_and_sets_every_key() -> None:
    policy = load_policy(EXAMPLE)
    assert set(Policy.model_fields) <= policy.model_fields_set
    assert policy.window == Window(daily="02:00-05:00", timezone="Asia/Shanghai")
    assert policy.pre_reboot_command is not None
    override_keys = set().union(*(o.model_fields_set for o in policy.events.values()))
    assert override_keys == {
        "window",
        "lead",
        "drain_period",
        "snapshot",
        "skip",
        "accept_inquiring",
        "pre_reboot_command",
    }


def test_snapshot_shorthand_sets_every_family(tmp_path: Path) -> None:
    assert not any(load_policy(write(tmp_path, "snapshot: false\n")).snapshot.model_dump().values())
    assert all(load_policy(write(tmp_path, "snapshot: true\n")).snapshot.model_dump().values())


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1d2h3m4s", 93784), (90, 90)],
)
def test_duration_spellings(text: object, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["", "soon", "1.5h", "-5", -5, True, 1.5, "30 m", "h", None])
def test_bad_durations_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a duration like 90s"):
        parse_duration(bad)


def test_parse_policy_names_its_source() -> None:
    assert parse_policy({"lead": "1h"}).lead == timedelta(hours=1)
    with pytest.raises(PolicyError, match=r"^settings: field lead: expected a duration"):
        parse_policy({"lead": "soon"}, file="settings")


# --- errors: one line, the file and the field -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('window: {daily: "25:00-03:00"}', "policy.yaml: field window.daily: expected HH:MM-HH:MM, got '25:00-03:00'"),
        ('window: {daily: "02:00"}', "policy.yaml: field window.daily: expected HH:MM-HH:MM, got '02:00'"),
        (
            'window: {daily: "02:00-02:00"}',
            "policy.yaml: field window.daily: start and end are the same time of day in '02:00-02:00'",
        ),
        (
            "window: {daily: 02:00-05:00, timezone: Mars/Base}",
            "policy.yaml: field window.timezone: unknown time zone 'Mars/Base' "
            "(expected an IANA name like Asia/Shanghai or UTC)",
        ),
        (
            'window: {cron: "0 2 * * 6"}',
            "policy.yaml: field window.duration: a cron window needs a duration, like 3h",
        ),
        (
            "window: {daily: 02:00-05:00, duration: 1h}",
            "policy.yaml: field window.duration: a daily window has no duration (its end time says it)",
        ),
        (
            'window: {cron: "0 2 * * 6", duration: 8d}',
            "policy.yaml: field window.duration: expected more than 0s and at most 7d, got '8d'",
        ),
        (
            'window: {cron: "0 2 * *", duration: 1h}',
            "policy.yaml: field window.cron: expected 5 fields (minute hour day-of-month month day-of-week), "
            "got 4 in '0 2 * *'",
        ),
        (
            'window: {cron: "0 2 * * 8", duration: 1h}',
            "policy.yaml: field window.cron: day-of-week: 8 is out of range 0-7",
        ),
        (
            'window: {cron: "0 2 * FOO *", duration: 1h}',
            "policy.yaml: field window.cron: month: 'FOO' is not a number or a name",
        ),
        (
            'window: {cron: "*/0 2 * * *", duration: 1h}',
            "policy.yaml: field window.cron: minute: bad step '0' in '*/0'",
        ),
        (
            'window: {cron: "0 5-2 * * *", duration: 1h}',
            "policy.yaml: field window.cron: hour: range '5-2' runs backwards",
        ),
        (
            'window: {cron: "0 0 30 2 *", duration: 1h}',
            "policy.yaml: field window.cron: '0 0 30 2 *' never fires (no month has those days)",
        ),
        (
            "window: {timezone: UTC}",
            "policy.yaml: field window: expected either daily: HH:MM-HH:MM or cron: '<5 fields>' with a duration",
        ),
        ("window: {dialy: 02:00-05:00}", "policy.yaml: field window.dialy: unknown key (a typo?)"),
        (
            "window: nightly",
            "policy.yaml: field window: Input should be a valid dictionary or instance of Window, got 'nightly'",
        ),
        (
            "lead: soon",
            "policy.yaml: field lead: expected a duration like 90s, 30m, 2h, 1d, 1h30m or integer seconds, got 'soon'",
        ),
        (
            "drain_period: -1",
            "policy.yaml: field drain_period: expected a duration like 90s, 30m, 2h, 1d, 1h30m "
            "or integer seconds, got -1",
        ),
        ("max_drain: 0", "policy.yaml: field max_drain: expected more than 0s"),
        ("poll_interval: 0s", "policy.yaml: field poll_interval: expected more than 0s"),
        ("drain_period: 3h", "policy.yaml: field drain_period: 3h is longer than max_drain (2h)"),
        ("budget: {min: 0}", "policy.yaml: field budget.min: Input should be greater than or equal to 1, got 0"),
        (
            "budget: {percent: 150}",
            "policy.yaml: field budget.percent: Input should be less than or equal to 100, got 150",
        ),
        ("budget: {min: true}", "policy.yaml: field budget.min: Input should be a valid integer, got True"),
        (
            "snapshot: {maintenance: yes please}",
            "policy.yaml: field snapshot.maintenance: Input should be a valid boolean, got 'yes please'",
        ),
        ("snapshot: {backup: true}", "policy.yaml: field snapshot.backup: unknown key (a typo?)"),
        ("pre_reboot_command: {type: RunShellScript}", "policy.yaml: field pre_reboot_command.content: required"),
        (
            "pre_reboot_command: {content: '  '}",
            "policy.yaml: field pre_reboot_command.content: expected a script, got only white space",
        ),
        (
            "pre_reboot_command: {content: ls, type: bash}",
            "policy.yaml: field pre_reboot_command.type: Input should be 'RunShellScript', 'RunBatScript' or "
            "'RunPowerShellScript', got 'bash'",
        ),
        (
            "pre_reboot_command: {content: ls, timeout: 2d}",
            "policy.yaml: field pre_reboot_command.timeout: expected 10s to 1d (Cloud Assistant's range), got '2d'",
        ),
        (
            "accept_inquiring: maybe",
            "policy.yaml: field accept_inquiring: Input should be a valid boolean, got 'maybe'",
        ),
        ("self_redeploy: 1", "policy.yaml: field self_redeploy: Input should be a valid boolean, got 1"),
        (
            "events: {SystemMaintenance.Reboto: {lead: 1h}}",
            "policy.yaml: field events: unknown event type 'SystemMaintenance.Reboto' (expected e.g. "
            "SystemMaintenance.Reboot, Disk:Stalled, PreemptibleInstanceInterruption, or a glob matching one like "
            "SystemFailure.*)",
        ),
        ("events: {'SystemFailur.*': {lead: 1h}}", "policy.yaml: field events: unknown event type 'SystemFailur.*'"),
        ("events: {Disk:Stalled: {leed: 1h}}", "policy.yaml: field events.Disk:Stalled.leed: unknown key (a typo?)"),
        ("events: {Disk:Stalled: {lead: null}}", "policy.yaml: field events.Disk:Stalled.lead: expected a duration"),
        (
            "events: {Disk:Stalled: {skip: null}}",
            "policy.yaml: field events.Disk:Stalled.skip: Input should be a valid boolean, got None",
        ),
        (
            "events: {Disk:Stalled: {drain_period: 3h}}",
            "policy.yaml: field events.Disk:Stalled.drain_period: 3h is longer than max_drain (2h)",
        ),
        (
            "events: {Instance:SystemMaintenance.Reboot: {lead: 1h}, SystemMaintenance.Reboot: {lead: 2h}}",
            "policy.yaml: field events: 'Instance:SystemMaintenance.Reboot' and 'SystemMaintenance.Reboot' are the "
            "same event type",
        ),
        ("leed: 30m", "policy.yaml: field leed: unknown key (a typo?)"),
        (
            "lead: soon\npoll_interval: never",
            "policy.yaml: field lead: expected a duration like 90s, 30m, 2h, 1d, "
            "1h30m or integer seconds, got 'soon' (and 1 more)",
        ),
        ("- lead: 30m", "policy.yaml: expected a mapping of policy keys at the top level, got list"),
    ],
)
def test_every_error_is_one_line_naming_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, text + "\n").startswith(expected)


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'lead: 30m\nwindow:\n  daily: "02:00-05:00\n')
    assert message == (
        "policy.yaml:4:1: invalid YAML: while scanning a quoted scalar at 3:10: found unexpected end of stream"
    )
    assert error_of(tmp_path, "lead: [30m\nmax_drain: 2h\n").startswith("policy.yaml:2:")
    assert error_of(tmp_path, "lead: *nothing\n") == ("policy.yaml:1:7: invalid YAML: found undefined alias 'nothing'")


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    assert error_of(tmp_path, "lead: 30m\nlead: 1h\n") == "policy.yaml:2:1: key 'lead' given twice in one mapping"


def test_missing_directory_and_undecodable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(PolicyError) as info:
        load_policy(missing)
    assert str(info.value) == f"{missing}: no such file"
    with pytest.raises(PolicyError, match=r": is a directory, expected a YAML file$"):
        load_policy(tmp_path)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"# caf\xe9\n")
    with pytest.raises(PolicyError, match=r"latin.yaml: not UTF-8 text$"):
        load_policy(str(latin))


def test_policy_error_is_an_ecs_events_error_with_parts(tmp_path: Path) -> None:
    with pytest.raises(EcsEventsError) as info:
        load_policy(write(tmp_path, "lead: soon\n"))
    assert isinstance(info.value, PolicyError)
    assert (info.value.field, info.value.file) == ("lead", str(tmp_path / "policy.yaml"))


# --- event types and families -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "family"),
    [
        ("SystemMaintenance.Reboot", "maintenance"),
        ("SystemMaintenance.CleanInactiveDisks", "maintenance"),
        ("SystemFailure.Redeploy", "failure"),
        ("InstanceFailure.Reboot", "failure"),
        ("InstanceExpiration.Delete", "billing"),
        ("AccountUnbalanced.Stop", "billing"),
        ("Disk:ErrorDetected", "disk_error"),
        ("ErrorDetected", "disk_error"),
        ("PreemptibleInstanceInterruption", "preemption"),
        ("Instance:PreemptibleInstanceInterruption", "preemption"),
        ("Disk:Stalled", None),
        ("Security.TpmAlert", None),
        ("StateChange", None),
        ("Something.New", None),
    ],
)
def test_families(event_type: str, family: str | None) -> None:
    assert family_of(event_type) == family


def test_canonical_event_types() -> None:
    assert canonical_event_type("Instance:SystemMaintenance.Reboot") == "SystemMaintenance.Reboot"
    assert canonical_event_type("Stalled") == "Disk:Stalled"
    assert canonical_event_type("CreateSnapshotCompleted") == "Snapshot:CreateSnapshotCompleted"
    assert canonical_event_type("Disk:Stalled") == "Disk:Stalled"
