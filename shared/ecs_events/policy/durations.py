"""Durations as operators write them: ``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``, ``"1h30m"`` or plain integer seconds.

One parser for the policy file and the instance tags, so ``lead: 45m`` and the tag ``ecs-events:lead=45m`` mean the
same thing. Fractions and negative values are refused: a duration is a whole number of seconds, never a guess.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

_PATTERN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_EXPECTED = "expected a duration like 90s, 30m, 2h, 1d, 1h30m or integer seconds"


def parse_duration(value: object) -> timedelta:
    """``value`` as a timedelta; ValueError with a one-line reason otherwise (pydantic reports it with the field)."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError(f"{_EXPECTED}, got a negative duration")
        return value
    if isinstance(value, bool):  # bool is an int in Python: `lead: true` is a typo, not one second
        raise ValueError(f"{_EXPECTED}, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{_EXPECTED}, got {value!r}")
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            return timedelta(seconds=int(text))
        match = _PATTERN.match(text)
        if text and match:
            days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
            return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    raise ValueError(f"{_EXPECTED}, got {value!r}")


def format_duration(value: timedelta) -> str:
    """The shortest canonical spelling (``timedelta(minutes=90)`` -> ``1h30m``), for logs and notices."""
    total = int(value.total_seconds())
    if total == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
"""A pydantic field type accepting every spelling above."""
