"""Time formats on the wire, parsed without strptime (it dominates parse cost otherwise).

- CloudMonitor ``eventTime``: ``20190409T121826.922+0800`` (local time with offset, UTC+8 in practice).
- Content times: ISO-8601 UTC, ``2019-04-12T01:01:01Z``; EventBridge ``time`` also ISO with offset.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?\Z")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:?\d{2})?\Z")
_TZ_CACHE: dict[str, timezone] = {"Z": timezone.utc, "z": timezone.utc}


def _tz(text: str | None) -> timezone:
    if not text:
        return timezone.utc  # content times are documented as UTC
    tz = _TZ_CACHE.get(text)
    if tz is None:
        digits = text[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(-offset if text[0] == "-" else offset)
        _TZ_CACHE[text] = tz
    return tz


def parse_time(value: Any) -> datetime:
    """An aware datetime from either wire form; naive input is taken as UTC. Raises ValueError."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        raise ValueError(f"expected a time string, got {type(value).__name__}")
    match = _ISO.match(value) or _COMPACT.match(value)
    if match is None:
        raise ValueError(f"not a time: {value!r} (expected 2019-04-12T01:01:01Z or 20190409T121826.922+0800)")
    year, month, day, hour, minute, second, fraction, tz = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=_tz(tz)
        )
    except ValueError as exc:
        raise ValueError(f"not a valid time: {value!r} ({exc})") from None


def iso_utc(value: datetime | None) -> str | None:
    """``2019-04-12T01:01:01Z`` (milliseconds kept when present); None stays None."""
    if value is None:
        return None
    utc = value.astimezone(timezone.utc)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_iso_text(value: Any) -> Any:
    """Before pydantic's own (Rust) datetime parsing: only strings are times here (no unix numbers), the compact
    CloudMonitor form is rewritten as ISO, and a time without an offset is UTC. Cheap string work only."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        raise ValueError(f"expected a time string, got {type(value).__name__}")
    if value[8:9] == "T" and value[4:5] != "-":  # 20190409T121826.922+0800: slice into ISO, Rust validates
        rest = value[15:]
        if rest[:1] not in ("", ".", "Z", "+", "-"):
            raise ValueError(f"not a time: {value!r} (expected 2019-04-12T01:01:01Z or 20190409T121826.922+0800)")
        value = f"{value[:4]}-{value[4:6]}-{value[6:8]}T{value[9:11]}:{value[11:13]}:{value[13:15]}{rest}"
        if rest[-5:-4] not in ("+", "-") and rest[-1:] != "Z":
            value += "Z"
        return value
    if value[-1:] not in ("Z", "z") and value[-6:-5] not in ("+", "-") and value[-5:-4] not in ("+", "-"):
        value += "Z"
    return value


WireTime = Annotated[datetime, BeforeValidator(to_iso_text), PlainSerializer(iso_utc, return_type=str)]
"""An aware datetime read from either wire form (strings only), written back as ISO-8601 UTC."""
