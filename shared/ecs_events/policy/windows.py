"""Maintenance windows and the one scheduling rule built on them, ``reboot_at``.

A window is either ``daily: "HH:MM-HH:MM"`` (an end at or before the start crosses midnight: ``22:00-02:00``) or
``cron: "<5 fields>"`` + ``duration``, in an IANA ``timezone`` (default UTC). Slots are computed on the local calendar
and returned as aware UTC datetimes; ``slots_on(day)`` lists one local day's, ``next_slot(after)`` finds the next.

Daylight saving time: ONE rule, the same for daily and cron windows (a daily window is the cron ``M H * * *`` with
its clock-face length as the duration):
- a slot starts at the window's start time on the local calendar and lasts the window's length in REAL time (a daily
  window's end - start on the clock face, a cron window's ``duration``), whatever the clock does meanwhile;
- a start time that does not exist that day (the spring-forward gap) moves forward by the gap, the PEP 495 ``fold=0``
  reading: in Europe/Berlin on 2026-03-29 a ``02:00-03:00`` window runs 03:00-04:00 CEST, ``02:30`` starts at 03:30;
  a window that starts before the gap and ends in it (``01:30-02:30``) runs 01:30 CET-03:30 CEST, still an hour;
- a start time that happens twice (the autumn repeated hour) means its first occurrence, and only that one: each
  slot happens once, never again on the repeated pass (a cron time in that hour fires once);
- so on the two change days a daily slot keeps its length and its clock-face END moves by the change (spring
  ``01:00-04:00`` ends 05:00 CEST; autumn ``01:00-04:00`` ends 03:00 CET); every other day it is exactly the window;
- a daily slot never runs into the next day's slot (only a window of nearly 24 hours over a change can): it is cut
  at the next start. Cron slots are not cut (``*/15`` for 1h overlap by design); two cron times landing on the same
  instant (``0 2,3`` on a spring-forward day) are one slot.
Slots are searched over a bounded horizon (``HORIZON_DAYS``); a cron that fires rarer than that (``0 0 29 2 *``) may
have no slot, and ``next_slot`` then returns None.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from ecs_events.policy.cron import CronSpec
from ecs_events.policy.durations import bounded, format_duration
from ecs_events.policy.errors import shown
from ecs_events.policy.limits import WINDOW_DURATION

HORIZON_DAYS = 400
_DAILY = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_DAY = timedelta(days=1)
Slot = tuple[datetime, datetime]


def parse_zone(name: str) -> ZoneInfo:
    """An IANA zone; ValueError naming what was given otherwise. The zone database is files: a folder of it
    (``America``) or a name too long for the file system raises OSError, not ZoneInfoNotFoundError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {shown(name)} (expected an IANA name like Asia/Shanghai or UTC)") from None


def parse_daily(text: str) -> tuple[int, int]:
    """``"HH:MM-HH:MM"`` as (start, end) minutes after midnight; the end may be ``24:00``; equal ends are refused."""
    match = _DAILY.match(text.strip())
    if match:
        start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if start_h < 24 and start_m < 60 and end_m < 60 and (end_h < 24 or end == 1440):
            if start % 1440 == end % 1440:
                raise ValueError(f"start and end are the same time of day in {shown(text)}")
            return start, end
    raise ValueError(f"expected HH:MM-HH:MM, got {shown(text)}")


class Window(BaseModel):
    """When disruptive steps may start. Build with ``Window(daily=..., timezone=...)`` or ``Window(cron=...,
    duration=timedelta(...), timezone=...)``; a policy file gives the same keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    daily: str | None = None
    cron: str | None = None
    duration: Annotated[timedelta, bounded(WINDOW_DURATION)] | None = Field(default=None, validate_default=True)
    timezone: str = "UTC"

    _zone: ZoneInfo = PrivateAttr()
    _span: tuple[int, int] | None = PrivateAttr(None)
    _cron: CronSpec | None = PrivateAttr(None)

    @field_validator("daily")
    @classmethod
    def _check_daily(cls, value: str | None) -> str | None:
        if value is not None:
            parse_daily(value)
        return value

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        if value is not None:
            CronSpec.parse(value)
        return value

    @field_validator("duration")
    @classmethod
    def _check_duration(cls, value: timedelta | None, info: ValidationInfo) -> timedelta | None:
        if value is None and info.data.get("cron") is not None:
            raise ValueError("a cron window needs a duration, like 3h")
        if value is not None and info.data.get("daily") is not None:
            raise ValueError("a daily window has no duration (its end time says it)")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        parse_zone(value)
        return value

    @model_validator(mode="after")
    def _build(self) -> Window:
        if (self.daily is None) == (self.cron is None):
            raise ValueError("expected either daily: HH:MM-HH:MM or cron: '<5 fields>' with a duration")
        self._zone = parse_zone(self.timezone)
        self._span = parse_daily(self.daily) if self.daily is not None else None
        self._cron = CronSpec.parse(self.cron) if self.cron is not None else None
        return self

    def __str__(self) -> str:
        if self.daily is not None:
            return f"daily {self.daily} {self.timezone}"
        return f"cron '{self.cron}' for {format_duration(self.duration or timedelta(0))} {self.timezone}"

    def next_slot(self, after: datetime) -> Slot | None:
        """The first slot (aware UTC start, end) that ends after ``after``: a slot containing ``after`` counts and
        is returned whole (callers use ``max(start, now)``). None if no slot starts within ``HORIZON_DAYS``."""
        after = _utc(after)
        first_day = after.astimezone(self._zone).date() - timedelta(days=self._lookback_days())
        best: Slot | None = None
        for offset in range(HORIZON_DAYS + self._lookback_days() + 1):
            day = first_day + timedelta(days=offset)
            # Slots of a later day start after its local midnight, give or take a DST shift: once past, stop.
            if best is not None and self._to_utc(day, time(0)) - _DAY > best[0]:
                break
            for start, end in self.slots_on(day):
                if end > after and (best is None or start < best[0]):
                    best = (start, end)
        return best

    def _lookback_days(self) -> int:
        """How many days before ``after`` a slot containing it may have started (plus one for DST)."""
        return 2 if self._span is not None else (self.duration or _DAY).days + 2

    def slots_on(self, day: date) -> list[Slot]:
        """The slots whose start time falls on ``day`` of the local calendar, in order (see the DST rule above)."""
        if self._span is not None:
            start_min, end_min = self._span
            at = time(start_min // 60, start_min % 60)
            start = self._to_utc(day, at)
            end = min(start + timedelta(minutes=(end_min - start_min) % 1440), self._to_utc(day + _DAY, at))
            return [(start, end)] if end > start else []
        cron = self._cron
        if cron is None or self.duration is None or not cron.matches_day(day):
            return []
        duration = self.duration
        return [(start, start + duration) for start in sorted({self._to_utc(day, at) for at in cron.times()})]

    def _to_utc(self, day: date, at: time) -> datetime:
        """A local wall time as UTC, fold=0: a time in a gap moves forward by the gap, a repeated time is its first
        occurrence (the module docstring)."""
        return datetime.combine(day, at).replace(tzinfo=self._zone, fold=0).astimezone(timezone.utc)


def reboot_at(not_before: datetime, now: datetime, window: Window | None, lead: timedelta) -> datetime:
    """When to start a self-scheduled disruption: the start (or ``now``, if later) of the first window slot that ends
    at least ``lead`` before ``not_before``; if there is none, ``not_before - lead``; if that is past, ``now``.

    Only the first slot ending after ``now`` needs checking: every slot lasts the same (cron) or slots never overlap
    (daily), so later slots end later still. The result is always >= now, and <= not_before - lead unless it is now.
    """
    now = _utc(now)
    deadline = _utc(not_before) - lead
    if window is not None:
        slot = window.next_slot(now)
        if slot is not None and slot[1] <= deadline:
            return max(slot[0], now)
    return max(deadline, now)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {value.isoformat()}")
    return value.astimezone(timezone.utc)
