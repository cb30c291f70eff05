"""Absurd values: a tag of any size is ignored with a warning, a policy value of any size is a one-line PolicyError,
and nothing the policy resolves to can overflow the datetime arithmetic downstream (``notBefore - lead``,
``now + max_drain``)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ecs_events.policy import (
    Effective,
    Policy,
    PolicyError,
    load_policy,
    parse_duration,
    parse_policy,
    reboot_at,
)
from ecs_events.policy.durations import MAX_DURATION

UTC = timezone.utc
REBOOT = "SystemMaintenance.Reboot"
FULL_POLICY = parse_policy(
    {
        "window": {"daily": "02:00-03:00", "timezone": "Europe/Berlin"},
        "lead": "7d",
        "max_drain": "1d",
        "drain_period": "1d",
        "poll_interval": "1h",
        "pre_reboot_command": {"content": "sync", "timeout": "1d"},
        "events": {"Disk:*": {"window": {"cron": "0 2 * * SUN", "duration": "7d", "timezone": "America/New_York"}}},
    }
)


# --- the reported failures, reproduced ---------------------------------------------------------------------------


def test_a_huge_lead_tag_is_ignored_and_the_reboot_is_still_planned() -> None:
    # was: the tag was accepted as 800000 days, and reboot_at raised OverflowError (the event was dead-lettered)
    effective = Policy().resolve(REBOOT, {"ecs-events:lead": "800000d"})
    now = datetime(2026, 5, 1, tzinfo=UTC)
    start = reboot_at(now + timedelta(days=2), now, effective.window, effective.lead)
    assert start == now + timedelta(days=2, minutes=-30)
    assert effective.lead == timedelta(minutes=30)
    assert effective.warnings == ("tag ecs-events:lead: expected at most 7d, got '800000d'; ignored",)


@pytest.mark.parametrize("text", ["99999999999d", "99999999999999999999s", "9" * 30, "1d" + "9" * 20 + "h"])
def test_an_overflowing_duration_is_a_value_error(text: str) -> None:
    # was: OverflowError (Python int too large to convert to C int), which nobody catches
    with pytest.raises(ValueError, match=r"^expected at most 366d, got "):
        parse_duration(text)


def test_an_overflowing_duration_in_the_policy_file_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"^policy: field lead: expected at most 7d, got '99999999999d'$"):
        parse_policy({"lead": "99999999999d"})
    with pytest.raises(
        PolicyError, match=r"^policy: field max_drain: expected more than 0s and at most 1d, got 10{30}$"
    ):
        parse_policy({"max_drain": 10**30})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "9" * 5000,
            "invalid YAML: '99999999999999999999999999999999999...' is not a valid integer (Exceeds the limit",
        ),
        ("2026-02-30", "invalid YAML: '2026-02-30' is not a valid date (day is out of range for month)"),
        ("0000-01-01", "invalid YAML: '0000-01-01' is not a valid date (year 0 is out of range)"),
    ],
)
def test_a_yaml_value_yaml_cannot_read_is_a_policy_error_at_its_line(tmp_path: Path, value: str, message: str) -> None:
    # was: a bare ValueError out of PyYAML's constructors, not a PolicyError (a traceback instead of one line)
    path = tmp_path / "policy.yaml"
    path.write_text(f"lead: 30m\nmax_drain: {value}\n", encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value).startswith(f"{path}:2:12: {message}")


def test_a_5000_digit_value_is_described_not_printed() -> None:
    # was: ValueError (Exceeds the limit (4300 digits) for integer string conversion) while writing the message
    with pytest.raises(PolicyError, match=r"^policy: field accept_inquiring: .*, got a number of about 5000 digits$"):
        parse_policy({"accept_inquiring": 10**5000})
    with pytest.raises(PolicyError, match=r"^policy: field lead: expected at most 7d, got a number of about 5000"):
        parse_policy({"lead": 10**5000})


# --- every bound, as documented in README ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "largest", "too_large", "message"),
    [
        ("lead", "7d", "7d1s", "expected at most 7d, got '7d1s'"),
        ("drain_period", "1d", "1d1s", "expected at most 1d, got '1d1s'"),
        ("max_drain", "1d", "25h", "expected more than 0s and at most 1d, got '25h'"),
        ("poll_interval", "1h", "3601", "expected more than 0s and at most 1h, got '3601'"),
    ],
)
def test_each_duration_setting_has_an_upper_bound(field: str, largest: str, too_large: str, message: str) -> None:
    settings = {"max_drain": "1d"} if field == "drain_period" else {}
    assert getattr(parse_policy({**settings, field: largest}), field) == parse_duration(largest)
    with pytest.raises(PolicyError, match=rf"^policy: field {field}: {re.escape(message)}$"):
        parse_policy({**settings, field: too_large})


def test_event_overrides_and_nested_durations_have_the_same_bounds() -> None:
    with pytest.raises(PolicyError, match=r"^policy: field events.SystemMaintenance.Reboot.lead: expected at most 7d"):
        parse_policy({"events": {REBOOT: {"lead": "8d"}}})
    with pytest.raises(PolicyError, match=r"^policy: field events.Disk:Stalled.drain_period: expected at most 1d"):
        parse_policy({"max_drain": "1d", "events": {"Disk:Stalled": {"drain_period": "9" * 40}}})
    with pytest.raises(PolicyError, match=r"^policy: field pre_reboot_command.timeout: expected 10s to 1d "):
        parse_policy({"pre_reboot_command": {"content": "ls", "timeout": "99999999999d"}})
    with pytest.raises(PolicyError, match=r"^policy: field window.duration: expected more than 0s and at most 7d"):
        parse_policy({"window": {"cron": "@daily", "duration": "99999999999d"}})


# Arabic-Indic, full-width and superscript digits
@pytest.mark.parametrize("text", ["\u0663\u0660m", "\uff11\uff12h", "\u00b2", "3\u0660"])
def test_only_ascii_digits_make_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration like 90s"):
        parse_duration(text)


def test_a_tag_at_a_bound_is_taken_and_past_it_is_ignored() -> None:
    assert Policy().resolve(REBOOT, {"ecs-events:lead": "7d"}).lead == timedelta(days=7)
    effective = Policy().resolve(REBOOT, {"ecs-events:lead": "1" + "0" * 5000})
    assert effective.lead == timedelta(minutes=30)
    (warning,) = effective.warnings
    assert warning.startswith("tag ecs-events:lead: expected at most 7d, got '100000000") and len(warning) < 120


# --- any value at all: property tests ----------------------------------------------------------------------------

HOSTILE_WORDS = [
    "nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-309", "0x10", "1_000", "+5", "-0", "-1", "-1s",
    "0", "0s", "\u0663\u0660m", "\uff11\uff12h", "\u00b2", "1.5h", "1d1d", "1w",
    "1y", "1ms", "24:00-24:00", "00:00-24:00", "23:59-00:00",
    "02:00-03:00 Europe/Berlin", "02:00-05:00 ../../etc/passwd", "02:00-05:00 America", "02:00-05:00 zone.tab",
    "02:00-05:00 a\x00b", "02:00-05:00 /UTC", "none", "NONE", "true", "TRUE", "false", "", " ", "\n", "9" * 5000,
    "9" * 5000 + "d", "99999999999d", "800000d", "1d" + "9" * 400 + "s", "@daily", "* * * * *", "0 2 31 2 *",
]  # fmt: skip
HOSTILE_TEXT = st.one_of(
    st.sampled_from(HOSTILE_WORDS),
    st.text(max_size=60),
    st.builds(
        lambda number, unit: f"{number}{unit}",
        st.one_of(st.integers(), st.integers(min_value=10**9, max_value=10**60)),
        st.sampled_from(["", "d", "h", "m", "s", "d1h", "h30m", "w", "D", " s"]),
    ),
    st.builds(lambda digits, unit: digits + unit, st.text(st.characters(categories=["Nd"]), min_size=1), st.just("m")),
    st.builds(
        lambda h1, m1, h2, m2, zone: f"{h1}:{m1:02d}-{h2}:{m2:02d} {zone}",
        st.integers(-1, 99),
        st.integers(0, 99),
        st.integers(-1, 99),
        st.integers(0, 99),
        st.one_of(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]), st.text()),
    ),
)
HOSTILE_VALUE = st.one_of(
    HOSTILE_TEXT,
    st.integers(),
    st.integers(min_value=10**15, max_value=10**400),
    st.sampled_from([10**5000, -(10**5000), 2**63, -(2**63) - 1]),  # str() of a 5000-digit int raises ValueError
    st.floats(),  # NaN, inf, 1e308, -0.0, subnormals
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
WHEN = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9000, 12, 31), timezones=st.just(UTC))


def assert_arithmetic_is_safe(effective: Effective, at: datetime) -> None:
    """What the engine and the playbooks compute from an Effective, at any instant of 1971..9000."""
    durations = [effective.lead, effective.drain_period, effective.max_drain, effective.poll_interval]
    if effective.pre_reboot_command is not None:
        durations.append(effective.pre_reboot_command.timeout)
    if effective.window is not None and effective.window.duration is not None:
        durations.append(effective.window.duration)
    for duration in durations:
        assert timedelta(0) <= duration <= MAX_DURATION
        assert at - duration < at + duration or duration == timedelta(0)
    assert at + max(effective.poll_interval, effective.drain_period) > at
    for not_before in (at, at + effective.lead, at + timedelta(days=3)):
        start = reboot_at(not_before, at, effective.window, effective.lead)
        assert at <= start <= max(at, not_before - effective.lead)
    if effective.window is not None:
        effective.window.next_slot(at)
    for backends in (0, 1, 7, 10**6):
        assert effective.budget_for(backends) >= effective.budget_min


TAGS = ["window", "lead", "snapshot", "skip", "managed", "LEAD"]


@settings(max_examples=400, deadline=None)
@given(
    values=st.dictionaries(st.sampled_from(TAGS), HOSTILE_TEXT, min_size=1),
    event_type=st.one_of(st.sampled_from([REBOOT, "Disk:Stalled", "StateChange"]), st.text(max_size=30)),
    at=WHEN,
)
def test_any_tag_value_is_taken_or_ignored_with_a_warning(
    values: dict[str, str], event_type: str, at: datetime
) -> None:
    tags = {f"ecs-events:{name}": value for name, value in values.items()}
    base = FULL_POLICY.resolve(event_type, {})
    effective = FULL_POLICY.resolve(event_type, tags)
    warned = {warning.split(":", 2)[1].removeprefix("ecs-events:") for warning in effective.warnings}
    assert warned <= set(values) & {"window", "lead", "snapshot", "skip"}
    for warning in effective.warnings:
        assert "\n" not in warning and warning.endswith("; ignored") and len(warning) < 300
    for name in warned:
        assert getattr(effective, name) == getattr(base, name)  # fell back to the policy's value
    assert_arithmetic_is_safe(effective, at)


FIELDS: dict[str, Callable[[object], dict[str, Any]]] = {
    "lead": lambda v: {"lead": v},
    "drain_period": lambda v: {"drain_period": v},
    "max_drain": lambda v: {"max_drain": v},
    "poll_interval": lambda v: {"poll_interval": v},
    "budget.min": lambda v: {"budget": {"min": v}},
    "budget.percent": lambda v: {"budget": {"percent": v}},
    "window.daily": lambda v: {"window": {"daily": v, "timezone": "Europe/Berlin"}},
    "window.timezone": lambda v: {"window": {"daily": "02:00-03:00", "timezone": v}},
    "window.cron": lambda v: {"window": {"cron": v, "duration": "1h"}},
    "window.duration": lambda v: {"window": {"cron": "0 2 * * *", "duration": v}},
    "pre_reboot_command.timeout": lambda v: {"pre_reboot_command": {"content": "ls", "timeout": v}},
    "snapshot.maintenance": lambda v: {"snapshot": {"maintenance": v}},
    "accept_inquiring": lambda v: {"accept_inquiring": v},
    f"events.{REBOOT}.lead": lambda v: {"events": {REBOOT: {"lead": v}}},
    f"events.{REBOOT}.drain_period": lambda v: {"events": {REBOOT: {"drain_period": v}}},
}


@settings(max_examples=600, deadline=None)
@given(field=st.sampled_from(sorted(FIELDS)), value=HOSTILE_VALUE, at=WHEN)
def test_any_policy_value_is_taken_or_a_one_line_error_naming_the_field(
    field: str, value: object, at: datetime
) -> None:
    try:
        policy = parse_policy(FIELDS[field](value))
    except PolicyError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 400
        # the field, or what contains it (window.cron: null is a window with neither form); a max_drain below the
        # default drain_period is reported on drain_period, the value that no longer fits
        assert exc.field is not None
        named = exc.field.startswith(field) or field.startswith(exc.field + ".")
        assert named or (field == "max_drain" and exc.field == "drain_period"), message
        return
    for event_type in (REBOOT, "Disk:Stalled", "PreemptibleInstanceInterruption"):
        assert_arithmetic_is_safe(policy.resolve(event_type, {"ecs-events:lead": "45m"}), at)


@settings(max_examples=100, deadline=None)
@given(field=st.sampled_from(sorted(FIELDS)), value=HOSTILE_VALUE)
def test_any_policy_value_through_a_yaml_file(field: str, value: object) -> None:
    """The same, through the file the operator writes (the YAML loader included)."""
    assume(not isinstance(value, int) or abs(value) < 10**4000)  # PyYAML cannot write those (it reads them: above)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "policy.yaml"
        path.write_text(yaml.safe_dump(FIELDS[field](value), allow_unicode=True), encoding="utf-8")
        try:
            load_policy(path)
        except PolicyError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(f"{path}: field ")


@pytest.mark.parametrize("zone", ["America", "Europe", "9" * 5000, "../../etc/passwd", "UTC\x00"])
def test_a_zone_name_the_zone_database_cannot_open_is_a_one_line_error(zone: str) -> None:
    """Found by the property tests with the tzdata package installed: a folder of the zone database raised
    IsADirectoryError and a very long name OSError (ENAMETOOLONG), neither of them a ValueError."""
    from ecs_events.policy.windows import parse_zone

    with pytest.raises(ValueError, match="unknown time zone") as info:
        parse_zone(zone)
    assert "\n" not in str(info.value)
