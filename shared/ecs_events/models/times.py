"""Time formats on the wire, parsed by one function (``parse_time``) without strptime (it dominates parse cost).

- CloudMonitor ``eventTime``: ``20190409T121826.922+0800`` (local time with offset, UTC+8 in practice).
- Content times: ISO-8601 UTC, ``2019-04-12T01:01:01Z``; EventBridge ``time`` also ISO with offset.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import GetPydanticSchema, PlainSerializer, WithJsonSchema
from pydantic_core import core_schema

from ecs_events.errors import quote

_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?\Z", re.ASCII)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:?\d{2})?\Z", re.ASCII
)
# The common time, without groups (on 3.11+ ``fromisoformat`` builds it; groups only cost): either form, ASCII
# digits, an offset within -23:59..+23:59 (``fromisoformat`` reads ``+08:60`` as +09:00). What it refuses goes to
# the groups reading, which accepts exactly the same times (tests/unit/test_parse_fast_paths.py) and says why not.
_OFFSET = r"[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9]"
_SHAPE = re.compile(
    rf"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9]{{2}}:[0-9]{{2}}(?::[0-9]{{2}})?(?:\.[0-9]{{1,9}})?(?:[Zz]|{_OFFSET})?"
    rf"|[0-9]{{8}}T[0-9]{{6}}(?:\.[0-9]{{1,6}})?(?:Z|{_OFFSET})?"
).fullmatch
_fromisoformat = datetime.fromisoformat
_TZ_CACHE: dict[str, timezone] = {"Z": timezone.utc, "z": timezone.utc}
_UTC = timezone.utc
_FAST = sys.version_info >= (3, 11)  # fromisoformat reads any ISO-8601 from 3.11 on (Z, compact form, 9 digits)
MIN_YEAR, MAX_YEAR = 1970, 9998  # in UTC: every accepted time converts and prints (iso_utc) without overflow
_EXPECTED = "expected 2019-04-12T01:01:01Z or 20190409T121826.922+0800"


def _tz(text: str | None) -> timezone:
    if not text:
        return _UTC  # content times are documented as UTC
    tz = _TZ_CACHE.get(text)
    if tz is None:
        digits = text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise ValueError(f"offset {text} out of range")
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if text[0] == "-" else offset)
        if len(_TZ_CACHE) < 256:
            _TZ_CACHE[text] = tz
    return tz


def _from_groups(match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second, fraction, tz = match.groups()
    return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                    int(fraction[:6].ljust(6, "0")) if fraction else 0, tzinfo=_tz(tz))  # fmt: skip


def parse_time(value: Any) -> datetime:
    """The one time parser: an aware datetime from either wire form (a string; a datetime is checked the same
    way), its offset kept; no offset is UTC. Refused (ValueError quoting the value as sent): anything else, a
    date without a time, and times outside years 1970..9998 in UTC.

    The regexes decide what is a time; on Python 3.11+ the C ``datetime.fromisoformat`` builds the common ones
    (``_SHAPE``: it reads both forms, several times cheaper than building from the groups)."""
    if isinstance(value, str):
        if _FAST and _SHAPE(value) is not None:
            try:
                when = _fromisoformat(value if value[-1] != "z" else value[:-1] + "Z")
            except ValueError as exc:
                raise ValueError(f"not a valid time: {quote(value)} ({exc})") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=_UTC)
        else:
            match = _ISO.match(value) or _COMPACT.match(value)
            if match is None:
                raise ValueError(f"not a time: {quote(value)} ({_EXPECTED})")
            try:
                when = _from_groups(match)
            except ValueError as exc:
                raise ValueError(f"not a valid time: {quote(value)} ({exc})") from None
        text: str | None = value
    elif isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=_UTC)
        text = None
    else:
        raise ValueError(f"expected a time string, got {type(value).__name__}")
    # Years strictly inside the range convert to UTC without overflow (offsets are under a day) and stay inside.
    if not MIN_YEAR < when.year < MAX_YEAR:
        try:
            year_utc = when.astimezone(_UTC).year
        except OverflowError:
            year_utc = 0
        if not MIN_YEAR <= year_utc <= MAX_YEAR:
            shown = quote(text) if text is not None else when.isoformat()
            raise ValueError(f"time out of range: {shown} (years {MIN_YEAR}..{MAX_YEAR} in UTC)")
    return when


def iso_utc(value: datetime | None) -> str | None:
    """``2019-04-12T01:01:01Z`` (milliseconds kept when present); None stays None."""
    if value is None:
        return None
    utc = value.astimezone(_UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


# The wire's usual time (content times, EventBridge's ``time``: ISO-8601 with Z or an offset, whole fields in range)
# is read without a Python call: a Rust regex, then (3.11+) C's ``datetime.fromisoformat``, the very call parse_time
# makes for these, with the years whose every instant is inside the range (1971..9997 as written); on 3.10, whose
# fromisoformat does not read ``Z``, pydantic-core's datetime parser with the range as bounds. Anything else (the
# compact eventTime, no offset, nanoseconds, 1970 and 9998, a datetime object), and whatever the native reading
# refuses, goes to ``parse_time``; the two accept the same times and read them the same
# (tests/unit/test_parse_fast_paths.py). A refusal is one ``wire_time`` error; ``parse_time`` of its input says why.
_YEAR_INSIDE = r"(?:197[1-9]|19[89][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-7])"  # 1971..9997
_NATIVE = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
WIRE_TIME_ERROR = "wire_time"


def _native_time() -> core_schema.CoreSchema:
    if _FAST:
        return core_schema.chain_schema(
            [
                core_schema.str_schema(pattern="^" + _YEAR_INSIDE + _NATIVE[len("^[0-9]{4}") :], strict=True),
                core_schema.no_info_plain_validator_function(_fromisoformat),
            ]
        )
    return core_schema.chain_schema(
        [
            core_schema.str_schema(pattern=_NATIVE, strict=True),  # a str: lax would read bytes too
            core_schema.datetime_schema(
                ge=datetime(MIN_YEAR, 1, 1, tzinfo=_UTC), lt=datetime(MAX_YEAR + 1, 1, 1, tzinfo=_UTC)
            ),
        ]
    )


_WIRE_TIME_SCHEMA = core_schema.union_schema(
    [_native_time(), core_schema.no_info_plain_validator_function(parse_time)],
    mode="left_to_right",
    custom_error_type=WIRE_TIME_ERROR,
    custom_error_message=f"not a time ({_EXPECTED}, years {MIN_YEAR}..{MAX_YEAR} in UTC)",
    serialization=core_schema.plain_serializer_function_ser_schema(iso_utc, return_schema=core_schema.str_schema()),
)


WireTime = Annotated[
    datetime,
    GetPydanticSchema(lambda _type, _handler: _WIRE_TIME_SCHEMA),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware datetime read from either wire form (strings only), written back as ISO-8601 UTC; for fields that
are usually ISO-8601 (content times)."""

# ``eventTime`` (usually the compact ``20190409T121826.922+0800``, which pydantic-core's datetime parser does not
# read): a Rust regex picks the common forms, with an offset and a year whose every instant is inside the range, and
# C's ``datetime.fromisoformat`` builds them, the very call ``parse_time`` makes for them (3.11+: 3.10's does not
# read these forms). The rest, and what fromisoformat refuses, reach ``parse_time`` with the value as sent, so a
# refusal is parse_time's ``value_error`` in its words, as with the plain validator this replaces. The one Python
# call left (``_event_time``) only passes through what the regex branch built (tests/unit/test_parse_fast_paths.py).
_EVENT_TIME_FAST = (
    rf"^{_YEAR_INSIDE}(?:[0-9]{{4}}T[0-9]{{6}}|-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}})"
    rf"(?:\.[0-9]{{1,6}})?(?:Z|{_OFFSET})$"
)


def _event_time(value: Any) -> datetime:
    """What the regex branch built passes (parse_time would return it as it is: aware, the year inside), anything
    else is parse_time's: the value as sent, or a datetime given in Python."""
    if value.__class__ is datetime and value.tzinfo is not None and MIN_YEAR < value.year < MAX_YEAR:
        return value
    return parse_time(value)


def _event_time_schema() -> core_schema.CoreSchema:
    text = core_schema.str_schema()  # what the JSON schema says it reads
    if not _FAST:
        return core_schema.no_info_plain_validator_function(parse_time, json_schema_input_schema=text)
    fast = core_schema.chain_schema(
        [
            core_schema.str_schema(pattern=_EVENT_TIME_FAST, strict=True),
            core_schema.no_info_plain_validator_function(_fromisoformat),
        ]
    )
    return core_schema.chain_schema(
        [
            core_schema.union_schema([fast, core_schema.any_schema()], mode="left_to_right"),
            core_schema.no_info_plain_validator_function(_event_time, json_schema_input_schema=text),
        ]
    )


_EVENT_TIME_SCHEMA = _event_time_schema()

EventTime = Annotated[
    datetime,
    GetPydanticSchema(lambda _type, _handler: _EVENT_TIME_SCHEMA),
    WithJsonSchema({"type": "string"}),
    PlainSerializer(iso_utc, return_type=str),
]
"""``WireTime`` for ``eventTime``: the same times read and refused as ``parse_time`` does, in its words."""
