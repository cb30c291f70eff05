"""Durations as operators write them: ``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``, ``"1h30m"`` or plain integer seconds.

One parser for the policy file and the instance tags, so ``lead: 45m`` and the tag ``ecs-events:lead=45m`` mean the
same thing. Fractions and negative values are refused: a duration is a whole number of seconds, never a guess. Only
ASCII digits count (Arabic-Indic or full-width digits are refused, not read as numbers).

Every duration-valued setting has bounds (``Bounds``; the table is in ``ecs_events.policy.limits``), checked on the
number as written before any ``timedelta`` is built, so ``99999999999d`` is a ``ValueError`` naming the bound, never
an ``OverflowError``; and the largest bound (``MAX_DURATION``, 366 days) keeps ``notBefore - lead`` or
``now + max_drain`` far from the ends of the datetime range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

from ecs_events.policy.errors import shown

_PATTERN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$", re.ASCII)
_EXPECTED = "expected a duration like 90s, 30m, 2h, 1d, 1h30m or integer seconds"
_UNITS = (86400, 3600, 60, 1)
_MAX_DIGITS = 18  # more digits than this is far past any bound: refused before int() (which caps at 4300 digits)
_TOO_BIG = 10**18

MAX_DURATION = timedelta(days=366)
"""No duration setting may be longer; a parse without bounds of its own uses this one."""


@dataclass(frozen=True)
class Bounds:
    """The allowed range of one duration setting: ``at_most`` always; ``positive`` (more than 0s) or
    ``at_least``; ``why`` is said after the range in the error (``"Cloud Assistant's range"``)."""

    at_most: timedelta
    at_least: timedelta = timedelta(0)
    positive: bool = False
    why: str = ""

    def __post_init__(self) -> None:
        if not timedelta(0) <= self.at_least <= self.at_most <= MAX_DURATION:
            raise ValueError(f"bad bounds {self}")  # a programming error, not input

    def describe(self) -> str:
        """``at most 7d``, ``more than 0s and at most 1d`` or ``10s to 1d``, plus the reason if any."""
        high = format_duration(self.at_most)
        if self.positive:
            text = f"more than 0s and at most {high}"
        elif self.at_least:
            text = f"{format_duration(self.at_least)} to {high}"
        else:
            text = f"at most {high}"
        return f"{text} ({self.why})" if self.why else text

    def check(self, value: timedelta, shown: object = None) -> timedelta:
        """``value`` if in range; ValueError ``expected <range>, got <shown or value>`` otherwise."""
        low_ok = value > timedelta(0) if self.positive else value >= self.at_least
        if low_ok and value <= self.at_most:
            return value
        raise ValueError(f"expected {self.describe()}, got {_show(value if shown is None else shown)}")


UNBOUNDED = Bounds(MAX_DURATION)


def parse_duration(value: object, bounds: Bounds = UNBOUNDED) -> timedelta:
    """``value`` as a timedelta within ``bounds``; ValueError with a one-line reason otherwise (pydantic reports it
    with the field). Never raises anything else, whatever the value."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError(f"{_EXPECTED}, got a negative duration")
        return bounds.check(value)
    if isinstance(value, bool):  # bool is an int in Python: `lead: true` is a typo, not one second
        raise ValueError(f"{_EXPECTED}, got {_show(value)}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{_EXPECTED}, got {_show(value)}")
        return _checked(value, bounds, value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isascii() and text.isdigit():
            return _checked(_number(text), bounds, value)
        match = _PATTERN.match(text)
        if text and match:
            seconds = sum(_number(part) * size for part, size in zip(match.groups(), _UNITS, strict=True) if part)
            return _checked(seconds, bounds, value)
    raise ValueError(f"{_EXPECTED}, got {_show(value)}")


def format_duration(value: timedelta) -> str:
    """The shortest canonical spelling (``timedelta(minutes=90)`` -> ``1h30m``), for logs and notices."""
    total = int(value.total_seconds())
    if total == 0:
        return "0s"
    sign, total = ("-", -total) if total < 0 else ("", total)
    parts = []
    for unit, size in zip("dhms", _UNITS, strict=True):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


def _number(digits: str) -> int:
    """ASCII digits as an int; a number too long to matter is a sure overflow of every bound (returned as one)."""
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        return _TOO_BIG
    return int(digits)


def _checked(seconds: int, bounds: Bounds, shown: object) -> timedelta:
    """Compare as an int first: only an in-range number ever becomes a timedelta."""
    if seconds > bounds.at_most.total_seconds():
        raise ValueError(f"expected {bounds.describe()}, got {_show(shown)}")
    return bounds.check(timedelta(seconds=seconds), shown)


def _show(value: object) -> str:
    if isinstance(value, timedelta):
        return format_duration(value)
    return shown(value)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
"""A pydantic field type accepting every spelling above, at most ``MAX_DURATION``."""


def bounded(bounds: Bounds) -> BeforeValidator:
    """A pydantic validator parsing a duration within ``bounds``: ``Annotated[timedelta, bounded(LEAD)]``."""
    return BeforeValidator(lambda value: parse_duration(value, bounds))
