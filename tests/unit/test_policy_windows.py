"""Window slots (daily, cron, time zones, DST) and reboot_at's rules, with a property test over random inputs."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_events.policy import CronSpec, Window, reboot_at

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def daily(span: str, zone: str = "UTC") -> Window:
    return Window(daily=span, timezone=zone)


def cron(expression: str, hours: float, zone: str = "UTC") -> Window:
    return Window(cron=expression, duration=timedelta(hours=hours), timezone=zone)


# --- daily windows ---------------------------------------------------------------------------------------------


def test_daily_slot_later_today_and_tomorrow() -> None:
    window = daily("02:00-05:00")
    assert window.next_slot(utc(2024, 5, 1, 1)) == (utc(2024, 5, 1, 2), utc(2024, 5, 1, 5))
    assert window.next_slot(utc(2024, 5, 1, 5)) == (utc(2024, 5, 2, 2), utc(2024, 5, 2, 5))


def test_daily_slot_containing_after_is_returned_whole() -> None:
    assert daily("02:00-05:00").next_slot(utc(2024, 5, 1, 3, 17)) == (utc(2024, 5, 1, 2), utc(2024, 5, 1, 5))


def test_daily_window_crossing_midnight() -> None:
    window = daily("22:00-02:00")
    # 01:00 is inside the slot that started yesterday at 22:00
    assert window.next_slot(utc(2024, 5, 2, 1)) == (utc(2024, 5, 1, 22), utc(2024, 5, 2, 2))
    assert window.next_slot(utc(2024, 5, 2, 2)) == (utc(2024, 5, 2, 22), utc(2024, 5, 3, 2))
    assert window.next_slot(utc(2024, 5, 2, 23, 59)) == (utc(2024, 5, 2, 22), utc(2024, 5, 3, 2))
    assert daily("22:00-24:00").next_slot(utc(2024, 5, 2, 23)) == (utc(2024, 5, 2, 22), utc(2024, 5, 3, 0))


def test_daily_window_in_a_time_zone() -> None:
    # 02:00-05:00 in Shanghai (UTC+8) is 18:00-21:00 UTC the day before
    window = daily("02:00-05:00", "Asia/Shanghai")
    assert window.next_slot(utc(2024, 5, 1, 12)) == (utc(2024, 5, 1, 18), utc(2024, 5, 1, 21))
    assert window.next_slot(utc(2024, 5, 1, 20)) == (utc(2024, 5, 1, 18), utc(2024, 5, 1, 21))


def test_non_utc_aware_input_is_accepted_and_output_is_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    start, end = daily("02:00-05:00", "Asia/Shanghai").next_slot(datetime(2024, 5, 2, 1, tzinfo=shanghai))
    assert (start, end) == (utc(2024, 5, 1, 18), utc(2024, 5, 1, 21))
    assert start.tzinfo is UTC and end.tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="expected a timezone-aware datetime"):
        daily("02:00-05:00").next_slot(datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="expected a timezone-aware datetime"):
        reboot_at(datetime(2024, 5, 1), utc(2024, 5, 1), None, timedelta(0))


def test_dst_spring_forward_day_window_starts_when_the_clock_jumps() -> None:
    # America/New_York, 2024-03-10: 02:00 EST -> 03:00 EDT (07:00 UTC). 02:00 does not exist that day.
    window = daily("02:00-05:00", "America/New_York")
    # a start in the gap moves forward by it and the slot keeps its length: 03:00-06:00 EDT (more in test_policy_dst)
    assert window.next_slot(utc(2024, 3, 10, 0)) == (utc(2024, 3, 10, 7), utc(2024, 3, 10, 10))
    assert window.next_slot(utc(2024, 3, 9, 0)) == (utc(2024, 3, 9, 7), utc(2024, 3, 9, 10))  # EST: 3 hours
    assert window.next_slot(utc(2024, 3, 11, 0)) == (utc(2024, 3, 11, 6), utc(2024, 3, 11, 9))  # EDT: 3 hours
    assert daily("02:30-04:00", "America/New_York").next_slot(utc(2024, 3, 10, 0))[0] == utc(2024, 3, 10, 7, 30)


def test_dst_fall_back_day_ambiguous_time_is_the_first_occurrence() -> None:
    # America/New_York, 2024-11-03: 02:00 EDT -> 01:00 EST (06:00 UTC); 01:30 happens twice: the first one, and the
    # slot lasts its 1h30 (ending 02:00 EST on the clock instead of 03:00)
    window = daily("01:30-03:00", "America/New_York")
    assert window.next_slot(utc(2024, 11, 3, 0)) == (utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 7))
    assert window.next_slot(utc(2024, 11, 4, 0)) == (utc(2024, 11, 4, 6, 30), utc(2024, 11, 4, 8))


# --- cron windows ----------------------------------------------------------------------------------------------


def test_cron_weekly_by_number_and_by_name() -> None:
    # 2024-05-01 is a Wednesday; the next Saturday is 2024-05-04
    for expression in ("0 2 * * 6", "0 2 * * SAT", "0 2 * * sat"):
        assert cron(expression, 3).next_slot(utc(2024, 5, 1)) == (utc(2024, 5, 4, 2), utc(2024, 5, 4, 5))


def test_cron_slot_containing_after_counts_even_from_yesterday() -> None:
    window = cron("0 22 * * FRI", 6)
    assert window.next_slot(utc(2024, 5, 4, 3)) == (utc(2024, 5, 3, 22), utc(2024, 5, 4, 4))


def test_cron_steps_lists_ranges() -> None:
    assert cron("*/20 4 * * *", 0.25).next_slot(utc(2024, 5, 1, 4, 21)) == (
        utc(2024, 5, 1, 4, 20),
        utc(2024, 5, 1, 4, 35),
    )
    assert cron("*/20 4 * * *", 0.25).next_slot(utc(2024, 5, 1, 4, 36)) == (
        utc(2024, 5, 1, 4, 40),
        utc(2024, 5, 1, 4, 55),
    )
    assert cron("15 1,13 * * *", 1).next_slot(utc(2024, 5, 1, 2, 15)) == (
        utc(2024, 5, 1, 13, 15),
        utc(2024, 5, 1, 14, 15),
    )
    assert cron("0 9-17/4 * * *", 1).next_slot(utc(2024, 5, 1, 10, 30)) == (utc(2024, 5, 1, 13), utc(2024, 5, 1, 14))
    assert cron("0 0 1 JAN-MAR/2 *", 1).next_slot(utc(2024, 1, 2)) == (utc(2024, 3, 1), utc(2024, 3, 1, 1))
    assert cron("0 12 * * MON-FRI", 1).next_slot(utc(2024, 5, 4)) == (utc(2024, 5, 6, 12), utc(2024, 5, 6, 13))
    assert cron("0 12 * * FRI-SUN", 1).next_slot(utc(2024, 5, 6)) == (utc(2024, 5, 10, 12), utc(2024, 5, 10, 13))
    assert cron("0 12 5/10 * *", 1).next_slot(utc(2024, 5, 6)) == (utc(2024, 5, 15, 12), utc(2024, 5, 15, 13))


def test_cron_day_of_month_or_day_of_week_when_both_restricted() -> None:
    # "the 13th, or any Friday": from Mon 2024-05-06 the next is Fri 05-10, then Mon 05-13
    window = cron("0 0 13 * FRI", 1)
    assert window.next_slot(utc(2024, 5, 6))[0] == utc(2024, 5, 10)
    assert window.next_slot(utc(2024, 5, 11))[0] == utc(2024, 5, 13)
    # a "*"-led day field means both must match: odd days that are Fridays
    assert cron("0 0 */2 * FRI", 1).next_slot(utc(2024, 5, 1))[0] == utc(2024, 5, 3)
    assert cron("0 0 */2 * FRI", 1).next_slot(utc(2024, 5, 4))[0] == utc(2024, 5, 17)


def test_cron_sunday_is_0_and_7_and_macros() -> None:
    assert CronSpec.parse("0 0 * * 7").weekdays == CronSpec.parse("0 0 * * SUN").weekdays == frozenset({0})
    weekly, explicit = CronSpec.parse("@weekly"), CronSpec.parse("0 0 * * 0")
    assert (weekly.minutes, weekly.hours, weekly.days, weekly.months, weekly.weekdays) == (
        explicit.minutes,
        explicit.hours,
        explicit.days,
        explicit.months,
        explicit.weekdays,
    )
    assert cron("@daily", 1).next_slot(utc(2024, 5, 1, 3)) == (utc(2024, 5, 2), utc(2024, 5, 2, 1))
    assert CronSpec.parse("0 0 * * MON-SUN").weekdays == frozenset(range(7))


def test_cron_in_a_time_zone_and_dst() -> None:
    window = cron("0 2 * * *", 3, "Asia/Shanghai")
    assert window.next_slot(utc(2024, 5, 1, 19)) == (utc(2024, 5, 1, 18), utc(2024, 5, 1, 21))
    # New York spring forward: 02:30 does not exist on 2024-03-10 and moves forward by the gap to 03:30 EDT;
    # the slot lasts the duration in real time.
    ny = cron("30 2 * * *", 1, "America/New_York")
    assert ny.next_slot(utc(2024, 3, 10, 0)) == (utc(2024, 3, 10, 7, 30), utc(2024, 3, 10, 8, 30))


def test_cron_matches_day() -> None:
    spec = CronSpec.parse("0 0 29 2 *")
    assert spec.matches_day(date(2028, 2, 29))
    assert not spec.matches_day(date(2027, 3, 1))


def test_cron_beyond_the_horizon_has_no_slot() -> None:
    leap = cron("0 0 29 2 *", 1)
    assert leap.next_slot(utc(2025, 3, 1)) is None  # the next one is 2028-02-29, past 400 days
    assert leap.next_slot(utc(2027, 3, 1)) == (utc(2028, 2, 29), utc(2028, 2, 29, 1))
    assert reboot_at(utc(2025, 6, 1), utc(2025, 3, 1), leap, timedelta(minutes=30)) == utc(2025, 5, 31, 23, 30)


def test_window_str_for_notices() -> None:
    assert str(daily("02:00-05:00", "Asia/Shanghai")) == "daily 02:00-05:00 Asia/Shanghai"
    assert str(cron("0 2 * * 6", 1.5)) == "cron '0 2 * * 6' for 1h30m UTC"


# --- reboot_at ------------------------------------------------------------------------------------------------

LEAD = timedelta(minutes=30)


def test_reboot_at_slot_fits() -> None:
    # now Wed 10:00, notBefore Thu 12:00: the Thu 02:00-05:00 slot ends 7 hours before the deadline
    assert reboot_at(utc(2024, 5, 2, 12), utc(2024, 5, 1, 10), daily("02:00-05:00"), LEAD) == utc(2024, 5, 2, 2)


def test_reboot_at_slot_ending_exactly_lead_before_not_before_fits() -> None:
    assert reboot_at(utc(2024, 5, 2, 5, 30), utc(2024, 5, 1, 10), daily("02:00-05:00"), LEAD) == utc(2024, 5, 2, 2)


def test_reboot_at_slot_too_late_falls_back_to_not_before_minus_lead() -> None:
    # notBefore Thu 04:00: the slot ends 05:00, after 03:30 -> 03:30
    assert reboot_at(utc(2024, 5, 2, 4), utc(2024, 5, 1, 10), daily("02:00-05:00"), LEAD) == utc(2024, 5, 2, 3, 30)
    # a slot that ends one second too late does not fit either
    assert reboot_at(utc(2024, 5, 2, 5, 29, 59), utc(2024, 5, 1, 10), daily("02:00-05:00"), LEAD) == utc(
        2024, 5, 2, 4, 59, 59
    )


def test_reboot_at_no_window_is_not_before_minus_lead() -> None:
    assert reboot_at(utc(2024, 5, 2, 4), utc(2024, 5, 1, 10), None, LEAD) == utc(2024, 5, 2, 3, 30)


def test_reboot_at_already_past_is_now() -> None:
    now = utc(2024, 5, 2, 3, 50)
    assert reboot_at(utc(2024, 5, 2, 4), now, daily("02:00-05:00"), LEAD) == now
    assert reboot_at(utc(2024, 5, 2, 4), now, None, LEAD) == now
    assert reboot_at(utc(2024, 5, 1, 4), now, None, LEAD) == now  # notBefore itself already past


def test_reboot_at_now_inside_a_fitting_slot_is_now() -> None:
    now = utc(2024, 5, 2, 2, 45)
    assert reboot_at(utc(2024, 5, 3, 0), now, daily("02:00-05:00"), LEAD) == now


def test_reboot_at_uses_the_cron_window() -> None:
    window = cron("0 2 * * SAT", 3, "Asia/Shanghai")  # Sat 02:00 Shanghai = Fri 18:00 UTC
    assert reboot_at(utc(2024, 5, 5), utc(2024, 5, 1), window, LEAD) == utc(2024, 5, 3, 18)
    assert reboot_at(utc(2024, 5, 3, 20), utc(2024, 5, 1), window, LEAD) == utc(2024, 5, 3, 19, 30)


WINDOWS = st.one_of(
    st.builds(
        lambda span, zone: daily(
            f"{span[0] // 60:02d}:{span[0] % 60:02d}-{span[1] // 60:02d}:{span[1] % 60:02d}", zone
        ),
        st.tuples(st.integers(0, 1439), st.integers(0, 1439)).filter(lambda span: span[0] != span[1]),
        st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe"]),
    ),
    st.builds(
        lambda minute, hour, dow, hours, zone: cron(f"{minute} {hour} * * {dow}", hours, zone),
        st.sampled_from(["0", "*/15", "30", "5,45"]),
        st.sampled_from(["*", "2", "1-4", "*/6", "22"]),
        st.sampled_from(["*", "SAT", "MON-FRI", "0,3"]),
        st.sampled_from([0.25, 1, 3, 30]),
        st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin"]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    ahead=st.timedeltas(min_value=timedelta(hours=-6), max_value=timedelta(days=3)),
    lead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=4)),
    window=st.one_of(st.none(), WINDOWS),
)
def test_reboot_at_is_never_before_now_and_never_after_the_deadline(
    now: datetime, ahead: timedelta, lead: timedelta, window: Window | None
) -> None:
    not_before = now + ahead
    at = reboot_at(not_before, now, window, lead)
    assert at >= now
    assert at <= not_before - lead or at == now
    if window is not None and at not in (now, not_before - lead):
        start, end = window.next_slot(now) or (None, None)
        assert at == start and end is not None and end <= not_before - lead


def _brute_force(not_before: datetime, now: datetime, window: Window, lead: timedelta) -> datetime:
    """Every slot of every local day around the interval, the earliest-starting one that fits: the rule as stated,
    without reboot_at's shortcut of looking only at the first slot."""
    deadline = not_before - lead
    zone_day = now.astimezone(window._zone).date()
    days = [zone_day + timedelta(days=offset) for offset in range(-10, (deadline - now).days + 3)]
    fitting = [start for day in days for start, end in window.slots_on(day) if now < end <= deadline]
    return max(min(fitting), now) if fitting else max(deadline, now)


@settings(max_examples=200, deadline=None)
@given(
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    ahead=st.timedeltas(min_value=timedelta(hours=-6), max_value=timedelta(days=3)),
    lead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=4)),
    window=WINDOWS,
)
def test_reboot_at_agrees_with_brute_force(now: datetime, ahead: timedelta, lead: timedelta, window: Window) -> None:
    not_before = now + ahead
    assert reboot_at(not_before, now, window, lead) == _brute_force(not_before, now, window, lead)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe"])
@pytest.mark.parametrize(
    "day", [date(2024, 3, 10), date(2024, 3, 31), date(2024, 4, 7), date(2024, 10, 6), date(2024, 11, 3)]
)
def test_reboot_at_agrees_with_brute_force_around_dst_changes(zone: str, day: date) -> None:
    windows = [daily("01:30-02:30", zone), daily("23:00-02:15", zone), cron("*/30 1-3 * * *", 0.5, zone)]
    for window in windows:
        for minutes in range(-120, 24 * 60, 45):
            now = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(minutes=minutes)
            for ahead in (timedelta(hours=2), timedelta(hours=5), timedelta(hours=30)):
                assert reboot_at(now + ahead, now, window, LEAD) == _brute_force(now + ahead, now, window, LEAD)
