"""A small 5-field cron matcher for maintenance windows (no dependency: FC cold start, and we need 40 lines of it).

``minute hour day-of-month month day-of-week`` with ``*``, lists ``1,3``, ranges ``1-5``, steps ``*/15`` / ``0-30/10``
/ ``5/15`` (from 5 to the field's maximum), names ``JAN``-``DEC`` and ``SUN``-``SAT`` (case-insensitive; day-of-week
0 and 7 are both Sunday), and the macros ``@yearly`` ``@annually`` ``@monthly`` ``@weekly`` ``@daily`` ``@hourly``.

Day matching follows Vixie cron, the behaviour every crontab user expects: when both day-of-month and day-of-week are
restricted (neither field starts with ``*``), a day matches if EITHER matches; otherwise both must match.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, time

from ecs_events.policy.errors import shown

_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# (name, low, high, names)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
)
_LONGEST_MONTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


@dataclass(frozen=True)
class CronSpec:
    """A parsed expression: the allowed values of each field, and whether the day fields were ``*``-led."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday .. 6 = Saturday (7 folded into 0)
    days_star: bool
    weekdays_star: bool

    @classmethod
    def parse(cls, expression: str) -> CronSpec:
        """Parse ``expression``; ValueError with a one-line reason naming the cron field otherwise."""
        text = _MACROS.get(expression.strip().lower(), expression)
        parts = text.split()
        if len(parts) != len(_FIELDS):
            fields = "minute hour day-of-month month day-of-week"
            raise ValueError(f"expected 5 fields ({fields}), got {len(parts)} in {shown(expression)}")
        values = [_parse_field(part, *field) for part, field in zip(parts, _FIELDS, strict=True)]
        spec = cls(
            expression=expression,
            minutes=values[0],
            hours=values[1],
            days=values[2],
            months=values[3],
            weekdays=frozenset(day % 7 for day in values[4]),
            days_star=parts[2].startswith("*"),
            weekdays_star=parts[4].startswith("*"),
        )
        if not spec._can_fire():
            raise ValueError(f"{shown(expression)} never fires (no month has those days)")
        return spec

    def matches_day(self, day: date) -> bool:
        """Whether any time of ``day`` (a local calendar date) can fire."""
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.weekday() + 1) % 7 in self.weekdays
        if self.days_star or self.weekdays_star:
            return by_date and by_weekday
        return by_date or by_weekday

    def times(self) -> list[time]:
        """Every local wall-clock time of a matching day, in order."""
        return [time(hour, minute) for hour in sorted(self.hours) for minute in sorted(self.minutes)]

    def _can_fire(self) -> bool:
        if not (self.days_star or self.weekdays_star):
            return True  # either-matches: any weekday will do
        return any(day <= _LONGEST_MONTH[month] for month in self.months for day in self.days)


def _parse_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        values.update(_parse_item(item, name, low, high, names))
    return frozenset(values)


def _parse_item(item: str, name: str, low: int, high: int, names: dict[str, int]) -> range:
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise ValueError(f"{name}: bad step {shown(step_text)} in {shown(item)}")
        step = int(step_text)
    if base == "*":
        return range(low, high + 1, step)
    first_text, dash, last_text = base.partition("-")
    first = _value(first_text, name, low, high, names)
    last = _value(last_text, name, low, high, names) if dash else (high if slash else first)
    if dash and name == "day-of-week" and last == 0 < first:
        last = 7  # FRI-SUN: Sunday as the week's end
    if last < first:
        raise ValueError(f"{name}: range {shown(base)} runs backwards")
    return range(first, last + 1, step)


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    upper = text.strip().upper()
    if upper in names:
        return names[upper]
    if not upper.isdigit():
        raise ValueError(f"{name}: {shown(text)} is not a number" + (" or a name" if names else ""))
    number = int(upper)
    if not low <= number <= high:
        raise ValueError(f"{name}: {number} is out of range {low}-{high}")
    return number
