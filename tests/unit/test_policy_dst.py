"""Window slots across daylight-saving changes: the one rule (windows.py docstring, README "Policy and tags").

A slot starts at the window's start time on the local calendar and lasts the window's length in real time (a daily
window's clock-face length, a cron window's duration); a start in the spring-forward gap moves forward by the gap;
a start in the autumn's repeated hour is its first occurrence; a daily slot never runs into the next day's.

Zones and dates used (2026): Europe/Berlin springs forward 03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST) and falls
back 10-25 at 01:00 UTC (03:00 CEST -> 02:00 CET, 02:00-03:00 happens twice); America/New_York springs forward 03-08
at 07:00 UTC (02:00 EST -> 03:00 EDT) and falls back 11-01 at 06:00 UTC (02:00 EDT -> 01:00 EST, 01:00-02:00 twice).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_events.policy import Window, reboot_at

UTC = timezone.utc
BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
LEAD = timedelta(minutes=30)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def daily(span: str, zone: str) -> Window:
    return Window(daily=span, timezone=zone)


def cron(expression: str, duration: timedelta, zone: str) -> Window:
    return Window(cron=expression, duration=duration, timezone=zone)


def local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M %Z")


# --- the report, reproduced ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "at"),
    [(BERLIN, date(2026, 3, 29), utc(2026, 3, 29, 1)), (NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 7))],
)
def test_a_window_wholly_inside_the_gap_happens_that_day_like_its_cron(zone: str, day: date, at: datetime) -> None:
    # was: 02:00-03:00 gave no slot that day (both ends read as the same instant), so the reboot fell back to
    # notBefore - lead, while the cron form gave 03:00
    window = daily("02:00-03:00", zone)
    not_before = at + timedelta(hours=10)
    assert local(at, zone).endswith("03:00 CEST" if zone == BERLIN else "03:00 EDT")
    assert reboot_at(not_before, at - timedelta(hours=12), window, LEAD) == at
    assert window.next_slot(at - timedelta(hours=3)) == (at, at + timedelta(hours=1))
    assert window.slots_on(day) == [(at, at + timedelta(hours=1))]
    assert window.slots_on(day) == cron("0 2 * * *", timedelta(hours=1), zone).slots_on(day)


# --- both zones, both changes, daily and cron: the slot of each window, in UTC --------------------------------------

CASES = [
    # Berlin, spring forward 2026-03-29 (02:00 CET -> 03:00 CEST at 01:00 UTC)
    (BERLIN, date(2026, 3, 29), "02:00-03:00", utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),  # wholly inside: 03-04 CEST
    (BERLIN, date(2026, 3, 29), "02:15-02:45", utc(2026, 3, 29, 1, 15), utc(2026, 3, 29, 1, 45)),  # 03:15-03:45
    (BERLIN, date(2026, 3, 29), "01:30-02:30", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)),  # ends 03:30 CEST
    (BERLIN, date(2026, 3, 29), "02:30-03:30", utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 30)),  # 03:30-04:30
    (BERLIN, date(2026, 3, 29), "01:00-04:00", utc(2026, 3, 29, 0), utc(2026, 3, 29, 3)),  # spans it: ends 05:00
    (BERLIN, date(2026, 3, 28), "23:00-02:30", utc(2026, 3, 28, 22), utc(2026, 3, 29, 1, 30)),  # midnight, into it
    (BERLIN, date(2026, 3, 29), "02:30-01:00", utc(2026, 3, 29, 1, 30), utc(2026, 3, 30)),  # midnight, from it
    # Berlin, fall back 2026-10-25 (03:00 CEST -> 02:00 CET at 01:00 UTC; 02:00-03:00 twice)
    (BERLIN, date(2026, 10, 25), "02:00-03:00", utc(2026, 10, 25, 0), utc(2026, 10, 25, 1)),  # the first pass only
    (BERLIN, date(2026, 10, 25), "02:15-02:45", utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 0, 45)),
    (BERLIN, date(2026, 10, 25), "01:30-02:30", utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 30)),
    (BERLIN, date(2026, 10, 25), "02:30-03:30", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
    (BERLIN, date(2026, 10, 25), "01:00-04:00", utc(2026, 10, 24, 23), utc(2026, 10, 25, 2)),  # ends 03:00 CET
    (BERLIN, date(2026, 10, 24), "23:00-02:30", utc(2026, 10, 24, 21), utc(2026, 10, 25, 0, 30)),
    (BERLIN, date(2026, 10, 25), "02:30-01:00", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 23)),
    # New York, spring forward 2026-03-08 (02:00 EST -> 03:00 EDT at 07:00 UTC)
    (NEW_YORK, date(2026, 3, 8), "02:00-03:00", utc(2026, 3, 8, 7), utc(2026, 3, 8, 8)),
    (NEW_YORK, date(2026, 3, 8), "02:15-02:45", utc(2026, 3, 8, 7, 15), utc(2026, 3, 8, 7, 45)),
    (NEW_YORK, date(2026, 3, 8), "01:30-02:30", utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30)),
    (NEW_YORK, date(2026, 3, 8), "02:30-03:30", utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8, 30)),
    (NEW_YORK, date(2026, 3, 8), "01:00-04:00", utc(2026, 3, 8, 6), utc(2026, 3, 8, 9)),
    (NEW_YORK, date(2026, 3, 7), "23:00-02:30", utc(2026, 3, 8, 4), utc(2026, 3, 8, 7, 30)),
    (NEW_YORK, date(2026, 3, 8), "02:30-01:00", utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6)),
    # New York, fall back 2026-11-01 (02:00 EDT -> 01:00 EST at 06:00 UTC; 01:00-02:00 twice)
    (NEW_YORK, date(2026, 11, 1), "01:00-02:00", utc(2026, 11, 1, 5), utc(2026, 11, 1, 6)),
    (NEW_YORK, date(2026, 11, 1), "01:15-01:45", utc(2026, 11, 1, 5, 15), utc(2026, 11, 1, 5, 45)),
    (NEW_YORK, date(2026, 11, 1), "00:30-01:30", utc(2026, 11, 1, 4, 30), utc(2026, 11, 1, 5, 30)),
    (NEW_YORK, date(2026, 11, 1), "01:30-02:30", utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
    (NEW_YORK, date(2026, 11, 1), "00:00-03:00", utc(2026, 11, 1, 4), utc(2026, 11, 1, 7)),
    (NEW_YORK, date(2026, 10, 31), "23:00-01:30", utc(2026, 11, 1, 3), utc(2026, 11, 1, 5, 30)),
    (NEW_YORK, date(2026, 11, 1), "01:30-01:00", utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 5)),
]


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def cron_of(span: str, zone: str) -> Window:
    """The cron form of a daily window: ``M H * * *`` for its clock-face length."""
    start, end = span.split("-")
    length = timedelta(minutes=(minutes(end) - minutes(start)) % 1440)
    return cron(f"{minutes(start) % 60} {minutes(start) // 60} * * *", length, zone)


@pytest.mark.parametrize(("zone", "day", "span", "start", "end"), CASES)
def test_daily_and_cron_slots_across_dst(zone: str, day: date, span: str, start: datetime, end: datetime) -> None:
    window = daily(span, zone)
    assert window.slots_on(day) == [(start, end)], (local(start, zone), local(end, zone))
    assert cron_of(span, zone).slots_on(day) == [(start, end)]
    # the slot is found from the end of the day before's, and from inside it
    previous_end = window.slots_on(day - timedelta(days=1))[0][1]
    for after in (previous_end, start, end - timedelta(seconds=1)):
        assert window.next_slot(after) == (start, end)
        assert cron_of(span, zone).next_slot(after) == (start, end)


@pytest.mark.parametrize(
    ("zone", "day", "span"),
    [(BERLIN, date(2026, 10, 25), "02:00-03:00"), (NEW_YORK, date(2026, 11, 1), "01:00-02:00")],
)
def test_the_repeated_hour_is_used_once(zone: str, day: date, span: str) -> None:
    window = daily(span, zone)
    ((start, end),) = window.slots_on(day)
    assert end - start == timedelta(hours=1)
    # during the second pass of the same clock hour there is no second slot: the next one is tomorrow's
    second_pass = end + timedelta(minutes=30)
    assert local(second_pass, zone)[6:8] == local(start, zone)[6:8]  # the clock shows that hour again
    assert window.next_slot(second_pass) == window.slots_on(day + timedelta(days=1))[0]
    assert window.next_slot(second_pass)[0] - start == timedelta(hours=25)  # type: ignore[index]


def test_cron_times_in_the_gap_and_in_the_repeated_hour() -> None:
    half = timedelta(minutes=30)
    # spring: 02:00 and 02:30 move to 03:00 and 03:30 CEST, where 03:00 and 03:30 already are: two slots, not four
    spring = cron("0,30 2,3 * * *", half, BERLIN)
    assert spring.slots_on(date(2026, 3, 29)) == [
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)),
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2)),
    ]
    assert len(spring.slots_on(date(2026, 3, 30))) == 4
    # autumn: every half hour of 02:xx fires once, on the first pass
    autumn = cron("*/30 2 * * *", half, BERLIN)
    assert autumn.slots_on(date(2026, 10, 25)) == [
        (utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30)),
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1)),
    ]
    assert autumn.next_slot(utc(2026, 10, 25, 1)) == (utc(2026, 10, 26, 1), utc(2026, 10, 26, 1, 30))


def test_a_daily_slot_is_cut_at_the_next_days_start() -> None:
    # 03:00-02:30 lasts 23h30; from Saturday 03:00 CET that would run to 03:30 CEST on Sunday, past Sunday's start
    window = daily("03:00-02:30", BERLIN)
    assert window.slots_on(date(2026, 3, 28)) == [(utc(2026, 3, 28, 2), utc(2026, 3, 29, 1))]
    assert window.slots_on(date(2026, 3, 29)) == [(utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30))]
    # cron slots are not cut: the same cron form overlaps the next day's slot that one day
    assert cron_of("03:00-02:30", BERLIN).slots_on(date(2026, 3, 28)) == [
        (utc(2026, 3, 28, 2), utc(2026, 3, 29, 1, 30))
    ]


@pytest.mark.parametrize(
    ("zone", "not_before", "expected"),
    [
        # the report: 02:00-03:00 on the spring-forward day gives 03:00 local, like its cron form
        (BERLIN, utc(2026, 3, 29, 12), utc(2026, 3, 29, 1)),
        (NEW_YORK, utc(2026, 3, 8, 20), utc(2026, 3, 8, 7)),
        # and on the fall-back day, its first pass
        (BERLIN, utc(2026, 10, 25, 12), utc(2026, 10, 25, 0)),
        (NEW_YORK, utc(2026, 11, 1, 20), utc(2026, 11, 1, 7)),  # 02:00 EST: in New York 01:00-02:00 repeats
    ],
)
def test_reboot_at_uses_the_dst_day_slot(zone: str, not_before: datetime, expected: datetime) -> None:
    now = not_before - timedelta(hours=14)
    for window in (daily("02:00-03:00", zone), cron_of("02:00-03:00", zone)):
        assert reboot_at(not_before, now, window, LEAD) == expected


# --- property: any DST zone, any day of 2026-2027, any daily window ------------------------------------------------

DST_ZONES = [
    "Europe/Berlin", "America/New_York", "Europe/Dublin", "America/Havana", "America/St_Johns", "America/Santiago",
    "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham", "Antarctica/Troll", "Africa/Casablanca",
    "America/Nuuk", "Asia/Gaza",
]  # fmt: skip
# Havana and Santiago change at midnight (a day starting in the gap), Lord Howe by 30 minutes, Troll by 2 hours,
# Casablanca backwards in Ramadan, Dublin with a negative "DST" in tzdata.


def _changes(zone: str) -> list[date]:
    """The local days of 2026-2027 on which the zone's offset changes (and the day before and after each)."""
    info, days, day = ZoneInfo(zone), [], date(2025, 12, 31)
    while day < date(2028, 1, 2):
        today = datetime.combine(day, time(0), tzinfo=info).utcoffset()
        tomorrow = datetime.combine(day + timedelta(days=1), time(0), tzinfo=info).utcoffset()
        if today != tomorrow:
            days += [day - timedelta(days=1), day, day + timedelta(days=1)]
        day += timedelta(days=1)
    return days


CHANGE_DAYS = {zone: _changes(zone) for zone in DST_ZONES}


def _zone_and_day(zone: str) -> st.SearchStrategy[tuple[str, date]]:
    days = st.one_of(st.sampled_from(CHANGE_DAYS[zone]), st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    return st.tuples(st.just(zone), days)


def _gap(info: ZoneInfo, naive: datetime) -> timedelta:
    """How far a wall time is moved forward by a gap: 0 if it exists (independent of windows.py: PEP 495 folds)."""
    early, late = naive.replace(tzinfo=info, fold=0), naive.replace(tzinfo=info, fold=1)
    if early.astimezone(UTC).astimezone(info).replace(tzinfo=None) == naive:
        return timedelta(0)
    offset_after, offset_before = late.utcoffset(), early.utcoffset()
    assert offset_after is not None and offset_before is not None
    return offset_after - offset_before


def _first(info: ZoneInfo, naive: datetime) -> datetime:
    """The earliest real instant showing an existing wall time (its first occurrence if it happens twice)."""
    return min(naive.replace(tzinfo=info, fold=fold).astimezone(UTC) for fold in (0, 1))


@settings(max_examples=500, deadline=None)
@given(
    zone_day=st.sampled_from(DST_ZONES).flatmap(_zone_and_day),
    start_min=st.integers(0, 1439),
    end_min=st.integers(0, 1440),
)
def test_daily_slots_follow_the_dst_rule(zone_day: tuple[str, date], start_min: int, end_min: int) -> None:
    zone, day = zone_day
    if start_min % 1440 == end_min % 1440:
        return
    span = f"{start_min // 60:02d}:{start_min % 60:02d}-{end_min // 60:02d}:{end_min % 60:02d}"
    window, info = daily(span, zone), ZoneInfo(zone)
    length = timedelta(minutes=(end_min - start_min) % 1440)
    days = [day - timedelta(days=1), day, day + timedelta(days=1), day + timedelta(days=2)]
    slots = []
    for each in days:
        found = window.slots_on(each)
        assert len(found) == 1, (each, found)  # exactly one slot per local day
        slots.append(found[0])
    for each, (start, end), (next_start, _) in zip(days, slots, slots[1:], strict=False):
        assert start.tzinfo is UTC and end.tzinfo is UTC  # real instants, in UTC
        assert start < end <= next_start  # ordered, non-overlapping
        # the start: the start time on that local day, its first occurrence, or moved forward by the gap
        naive = datetime.combine(each, time(start_min // 60, start_min % 60))
        shift = _gap(info, naive)
        assert start.astimezone(info).replace(tzinfo=None) == naive + shift
        if not shift:
            assert start == _first(info, naive)
        # the end: the window's length later in real time, or the next day's start if that comes first
        assert end == min(start + length, next_start)
        # within the window's clock-face span, give or take the day's change of offset (none on most days)
        configured_end = naive + length
        local_end = end.astimezone(info).replace(tzinfo=None)
        offset_change = abs(
            (end.astimezone(info).utcoffset() or timedelta(0)) - (start.astimezone(info).utcoffset() or timedelta(0))
        )
        assert abs(local_end - configured_end) <= offset_change + shift + (start + length - end)
        if not shift and not offset_change and end == start + length:
            assert local_end == configured_end  # an ordinary day: exactly the window
        # one rule for daily and cron: the cron form gives the same slot, uncut
        ((cron_start, cron_end),) = cron_of(span, zone).slots_on(each)
        assert (cron_start, cron_end) == (start, start + length)
