"""Issue 15, parse speed: every fast path refuses exactly what the slow, exact one refuses, on generated inputs that
aim at the hardening checks (NaN / Infinity, duplicate keys at any depth and under escapes, deep nesting, odd
times, odd ARNs, odd base64), and accepts the same value."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import PlainValidator, TypeAdapter, ValidationError
from pydantic_core import SchemaValidator, core_schema

from ecs_events.errors import EventValidationError, InputError, InvalidJsonError
from ecs_events.models import parse_notification, parse_time, times
from ecs_events.models.arn import ResourceArn
from ecs_events.models.base import NAME_STATUS_ERROR, SystemEventName, name_status_problem
from ecs_events.models.times import (
    _COMPACT,
    _ISO,
    MAX_YEAR,
    MIN_YEAR,
    WIRE_TIME_ERROR,
    EventTime,
    WireTime,
    iso_utc,
)
from ecs_events.sources import Delivery, Source, _delivery, _unwrap, unwrap
from ecs_events.sources.decode import _BASE64, _from_base64, _parse, fast_json, load_json, strict_json, to_bytes

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
SCHEDULED = json.loads((SAMPLES / "cloudmonitor" / "instance-systemmaintenance-reboot-scheduled.json").read_bytes())
REAL = [p.read_bytes() for folder in ("seed", "cloudmonitor", "delivery") for p in sorted((SAMPLES / folder).iterdir())]
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- JSON: jiter's one pass against from_json + json's exact duplicate check -------------------------------------

_KEYS = st.sampled_from(["a", "b", "name", "\\u0061", "\\u006e\\u0061me", "a\\u0000", "\\u00e9", "é", 'a\\"', ""])
_SCALARS = st.sampled_from(["1", "-0", "0.5", "1e999", "-1e999", "1E400", "01", "1.", ".5", "NaN", "-NaN", "Infinity",
                            "-Infinity", "infinity", "true", "false", "null", '"x"', '"a\\":1"', '"\\ud800"', '"\\t"',
                            '"\t"', "1" * 30])  # fmt: skip
_WS = st.sampled_from(["", " ", "\n", "\t", "\r\n  ", "\x0c"])


def _object(members: list[tuple[str, str, str, str]]) -> str:
    return "{" + ",".join(f'{before}"{key}"{after}:{value}' for key, before, after, value in members) + "}"


JSON_TEXT = st.recursive(
    _SCALARS | st.integers().map(str) | st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    lambda children: (
        st.lists(children, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
        | st.lists(st.tuples(_KEYS, _WS, _WS, children), max_size=4).map(_object)
    ),
    max_leaves=25,
).filter(lambda text: text[:1] in "{[")


def _outcome(parse: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", parse(data, source="body", field=None, what="invalid JSON")
    except InputError as exc:
        return type(exc).__name__, str(exc)


@SETTINGS
@given(JSON_TEXT)
@example('{"a":1,"\\u0061":2}')
@example('{"x":[{"k":1},{"k":2,"k":3}]}')
@example('{"a":{"b":NaN}}')
@example('{"a":1e999}')
@example("[" * 250 + "]" * 250)
@example('{"a":' * 250 + "1" + "}" * 250)
def test_jiter_refuses_exactly_what_the_reference_refuses(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    fast, reference = _outcome(_parse, data), _outcome(strict_json, data)
    assert fast == reference


def test_a_duplicate_is_named_in_the_reference_words() -> None:
    with pytest.raises(InvalidJsonError, match="invalid JSON: duplicate key 'a'"):
        _parse(b'{"b":{"a":1,"\\u0061":2}}', source="body", field=None, what="invalid JSON")


# -- unwrap: jiter on the bytes as FC hands them, against the full way (to_bytes, load_json) ------------------------


def _unwrapped(read: Any, body: bytes) -> tuple[str, Any]:
    try:
        return "ok", [delivery.record() for delivery in read(body, None)]
    except InputError as exc:
        return type(exc).__name__, str(exc)


_BYTES = st.sampled_from(
    [b"\xff", b"\xc3", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe2\x82", b"\xef\xbb\xbf",
     b"\x00", b"\x0c", b"\x0b", b" ", b"\n", b"\r", b"\t", b"\\", b'"', b"{", b"}", b"NaN", b"Infinity",
     b'"id":"x",', b"\xc3\xa9", b"\xe4\xb8\xad", b"\xf0\x9f\x98\x80"]
)  # fmt: skip


@SETTINGS
@given(st.sampled_from(REAL), st.integers(0, 2000), st.integers(0, 3), _BYTES)
@example(REAL[0], 1, 0, b"\xff")  # not UTF-8 inside the object
@example(REAL[0], 10_000, 0, b"\x0c")  # white space that strip() removes and JSON does not know, at the end
@example(REAL[0], 10_000, 0, b"\xed\xa0\x80")  # a surrogate, UTF-8 encoded, after the object
@example(REAL[0], 1, 0, b'"id":"x",')  # a duplicate key
@example(REAL[0], 1, 0, b'"x":NaN,')
def test_the_bytes_fast_path_is_the_full_reading(sample: bytes, at: int, cut: int, insert: bytes) -> None:
    """``unwrap`` hands bytes starting with ``{`` to jiter as they are; the full way checks size and encoding and
    strips first. Same deliveries, same refusals in the same words, whatever bytes are put where."""
    at %= len(sample) + 1
    body = sample[:at] + insert + sample[at + cut :]
    assert _unwrapped(lambda data, hint: unwrap(data, hint=hint), body) == _unwrapped(_unwrap, body)


def _full_json(data: bytes) -> tuple[str, Any]:
    try:
        return "ok", load_json(to_bytes(data))[0]
    except InputError as exc:
        return type(exc).__name__, str(exc)


# the JSON texts inside the samples (topic Message, STREAM body, trigger messageBody) as well as the samples
_EMBEDDED = [
    text.encode("utf-8")
    for sample in REAL
    for text in re.findall(r'"((?:\\.|[^"\\])*)"', sample.decode("utf-8"))
    if text.startswith("{\\")
]
_EMBEDDED = [json.loads(b'"' + text + b'"').encode("utf-8") for text in _EMBEDDED]


@SETTINGS
@given(st.sampled_from(REAL + _EMBEDDED), st.integers(0, 2000), st.integers(0, 3), _BYTES)
@example(b"[" + b"{}," * 10_000 + b"{}]", 0, 0, b"")  # over MAX_BATCH_ITEMS
@example(b'{"a":"' + b"x" * 65_536 + b'"}', 0, 0, b"")  # over 64 KiB
def test_fast_json_is_the_full_reading(sample: bytes, at: int, cut: int, insert: bytes) -> None:
    """Whatever ``fast_json`` returns (it says None for what it leaves to the full way) is what ``to_bytes`` +
    ``load_json`` return for the same bytes; it is what ``unwrap`` and the embedded messages read first."""
    at %= len(sample) + 1
    body = sample[:at] + insert + sample[at + cut :]
    fast = fast_json(body)
    if fast is not None:
        assert ("ok", fast) == _full_json(body)
        assert type(fast) in (dict, list)


def test_embedded_messages_are_in_the_fast_json_corpus() -> None:
    assert len(_EMBEDDED) >= 3 and all(text.startswith(b"{") for text in _EMBEDDED)


def test_the_bytes_fast_path_keeps_the_size_limit() -> None:
    body = b'{"a":"' + b"x" * (64 * 1024) + b'"}'
    assert _unwrapped(lambda data, hint: unwrap(data, hint=hint), body)[0] == "BodyTooLargeError"


# -- base64: C's strict decoder first, the lenient regex reading when it refuses -----------------------------------


def _reference_base64(text: bytes) -> bytes | None:
    if not _BASE64.match(text):
        return None
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return b""


@SETTINGS
@given(st.binary(max_size=40).map(base64.b64encode), st.integers(0, 60), st.sampled_from([b"", b"=", b"==", b" ", b"\n",
       b"A", b"-", b"_", b"*", b"\xff", b"{"]))  # fmt: skip
def test_base64_fast_path_decodes_as_the_lenient_reading(encoded: bytes, at: int, insert: bytes) -> None:
    at %= len(encoded) + 1
    text = encoded[:at] + insert + encoded[at:]
    assert _from_base64(text) == _reference_base64(text)


# -- times: one regex without groups, against the two with groups ---------------------------------------------------

_DATES = st.sampled_from(
    [
        "2019-04-12",
        "20190412",
        "1970-01-01",
        "9998-12-31",
        "1969-12-31",
        "2019-02-29",
        "2019-13-01",
        "2019-W15-5",
        "2019-102",
        "0001-01-01",
        "\u0662019-04-12",
        "2019-4-12",
    ]
)
_SEPARATORS = st.sampled_from(["T", " ", "t", "", "_"])
_CLOCKS = st.sampled_from(["01:01:01", "010101", "01:01", "0101", "23:59:60", "24:00:00", "00:00:00", "1:01:01", "01"])
_FRACTIONS = st.sampled_from(["", ".1", ".123", ".123456", ".1234567", ".123456789", ".1234567890", ",5", "."])
_ZONES = st.sampled_from(["", "Z", "z", "+08:00", "+0800", "-12:00", "+24:00", "+08:60", "+08", "+08:00:00", "-00:00"])
_ISO_LIKE = st.tuples(st.integers(1960, 9999).map("{:04d}".format), st.integers(0, 13).map("-{:02d}".format),
                      st.integers(0, 32).map("-{:02d}".format), st.sampled_from(["T", " "]),
                      st.integers(0, 24).map("{:02d}".format), st.integers(0, 60).map(":{:02d}".format),
                      st.sampled_from(["", ":00", ":59", ":60"]), _FRACTIONS, _ZONES).map("".join)  # fmt: skip
_COMPACT_LIKE = st.tuples(st.integers(1960, 9999).map("{:04d}".format), st.integers(1, 12).map("{:02d}".format),
                          st.integers(1, 31).map("{:02d}".format), st.just("T"),
                          st.integers(0, 235959).map("{:06d}".format), _FRACTIONS, _ZONES).map("".join)  # fmt: skip
_BUILT = st.tuples(_DATES, _SEPARATORS, _CLOCKS, _FRACTIONS, _ZONES).map("".join) | _ISO_LIKE | _COMPACT_LIKE
_EDITS = st.sampled_from(["", "0", "9", "-", ":", "T", "Z", "+", "\n"])
TIMES = _BUILT | st.tuples(_BUILT, st.integers(0, 40), _EDITS).map(
    lambda parts: parts[0][: parts[1]] + parts[2] + parts[0][parts[1] + 1 :]
)


def _reference_time(value: str) -> datetime:
    """The groups reading (the one every Python version had before)."""
    match = _ISO.match(value) or _COMPACT.match(value)
    if match is None:
        raise ValueError("not a time")
    year, month, day, hour, minute, second, fraction, tz = match.groups()
    if tz in (None, "Z", "z"):
        zone = timezone.utc
    else:
        digits = tz[1:].replace(":", "")
        if int(digits[:2]) > 23 or int(digits[2:]) > 59:
            raise ValueError("offset out of range")
        minutes = int(digits[:2]) * 60 + int(digits[2:])
        zone = timezone(timedelta(minutes=-minutes if tz[0] == "-" else minutes))
    when = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                    int(fraction[:6].ljust(6, "0")) if fraction else 0, tzinfo=zone)  # fmt: skip
    if not MIN_YEAR <= when.astimezone(timezone.utc).year <= MAX_YEAR:
        raise ValueError("out of range")
    return when


@SETTINGS
@given(TIMES)
def test_parse_time_accepts_exactly_what_the_groups_reading_accepts(text: str) -> None:
    try:
        expected: datetime | None = _reference_time(text)
    except (ValueError, OverflowError):
        expected = None
    try:
        got: datetime | None = parse_time(text)
    except ValueError:
        got = None
    assert (got is None) == (expected is None), (text, got, expected)
    if got is not None and expected is not None:
        assert got == expected and got.utcoffset() == expected.utcoffset()


_WIRE_TIME = TypeAdapter(WireTime)
_NATIVE_LIKE = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{}".format,
    st.sampled_from([1969, 1970, 2019, 2020, 2100, 9998, 9999]), st.integers(0, 13), st.integers(0, 32),
    st.integers(0, 24), st.integers(0, 60), st.integers(0, 60),
    st.sampled_from(["", ".1", ".123", ".999999", ".1234567"]),
    st.sampled_from(["Z", "+00:00", "-00:00", "+08:00", "-12:00", "+23:59", "-23:59", "+24:00", "+08:60", "z", ""]),
)  # fmt: skip


@SETTINGS
@given(
    TIMES
    | st.sampled_from(
        [
            "2019-04-12T01:01:01.1234567Z",
            "2019-04-12T01:01:01.123456+00:00",
            "1970-01-01T00:30:00+01:00",
            "9998-12-31T23:59:59-01:00",
            "2019-02-29T00:00:00Z",
        ]
    )
)
def test_the_native_reading_of_wire_times_is_parse_time(text: str) -> None:
    """pydantic-core reads the usual ISO times itself; it must accept and read exactly what parse_time does, and a
    refusal says what parse_time says."""
    try:
        expected: datetime | None = parse_time(text)
    except ValueError as exc:
        expected, reason = None, str(exc)
    try:
        got: datetime | None = _WIRE_TIME.validate_python(text)
    except ValidationError as exc:
        got = None
        assert exc.errors()[0]["type"] == WIRE_TIME_ERROR
        payload = {**SCHEDULED, "content": {**SCHEDULED["content"], "notBefore": text}}
        with pytest.raises(EventValidationError) as caught:
            parse_notification(payload)
        assert str(caught.value) == f"cloudmonitor: field content.notBefore: {reason}"
    assert (got is None) == (expected is None), (text, got, expected)
    if got is not None and expected is not None:
        assert got == expected and got.utcoffset() == expected.utcoffset()
        assert iso_utc(got) == iso_utc(expected)


def test_a_wire_time_is_a_string_as_parse_time_says() -> None:
    """pydantic-core's lax str reading took bytes (``b"2019-04-12T01:01:01Z"``) that parse_time refuses."""
    for value in (b"2019-04-12T01:01:01Z", bytearray(b"2019-04-12T01:01:01Z")):
        with pytest.raises(ValidationError) as caught:
            _WIRE_TIME.validate_python(value)
        assert caught.value.errors()[0]["type"] == WIRE_TIME_ERROR
        with pytest.raises(ValueError, match="expected a time string, got"):
            parse_time(value)


_EVENT_TIME = TypeAdapter(EventTime)
_PLAIN_EVENT_TIME = TypeAdapter(Annotated[datetime, PlainValidator(parse_time)])  # what EventTime was
_COMPACT_NEAR_BOUNDS = st.builds(
    "{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}{}{}".format,
    st.sampled_from([1969, 1970, 1971, 2026, 9997, 9998, 9999]), st.integers(0, 13), st.integers(0, 32),
    st.integers(0, 24), st.integers(0, 60), st.integers(0, 60),
    st.sampled_from(["", ".1", ".123", ".123456", ".1234567"]),
    st.sampled_from(["Z", "+0800", "-0800", "+08:00", "+2359", "-2359", "+2400", "+0860", "z", "", "+00:00"]),
)  # fmt: skip
_DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none() | st.timezones()
)


def _read(adapter: TypeAdapter[datetime], value: Any) -> tuple[str, Any]:
    try:
        got = adapter.validate_python(value)
    except ValidationError as exc:
        return "refused", [(e["type"], e["loc"], e["msg"], e["input"]) for e in exc.errors(include_url=False)]
    return "ok", (got, got.utcoffset(), type(got.tzinfo))


@SETTINGS
@given(TIMES | _COMPACT_NEAR_BOUNDS | _NATIVE_LIKE | _DATETIMES | st.sampled_from([b"20190409T121826Z", None, 1.5]))
@example("20190409T121826.922+0800")
@example("19700101T000000+0100")  # an instant before 1970 in UTC: parse_time's words, with the text as sent
@example("99981231T230000-0100")
@example("2019-04-12T01:01:01Z")
def test_the_event_time_reading_is_parse_time(value: Any) -> None:
    """``eventTime``'s regex + fromisoformat branch accepts, reads and refuses exactly what ``parse_time`` as a
    plain validator (what EventTime was) does, with the same errors (type, message, input)."""
    assert _read(_EVENT_TIME, value) == _read(_PLAIN_EVENT_TIME, value)


def _schemas_without_fast_fromisoformat() -> tuple[SchemaValidator, SchemaValidator]:
    """The wire and event time schemas as Python 3.10 builds them (its fromisoformat reads neither ``Z`` nor the
    compact form): pydantic-core's datetime parser for content times, the plain parse_time for eventTime."""
    saved = times._FAST
    times._FAST = False
    try:
        wire = core_schema.union_schema(
            [times._native_time(), core_schema.no_info_plain_validator_function(parse_time)],
            mode="left_to_right", custom_error_type=WIRE_TIME_ERROR, custom_error_message="not a time",
        )  # fmt: skip
        return SchemaValidator(wire), SchemaValidator(times._event_time_schema())
    finally:
        times._FAST = saved


_WIRE_310, _EVENT_310 = _schemas_without_fast_fromisoformat()


@SETTINGS
@given(TIMES | _NATIVE_LIKE | _COMPACT_NEAR_BOUNDS)
def test_the_310_readings_are_parse_time(text: str) -> None:
    try:
        expected: datetime | None = parse_time(text)
    except ValueError:
        expected = None
    for validator in (_WIRE_310, _EVENT_310):
        try:
            got: datetime | None = validator.validate_python(text)
        except ValidationError:
            got = None
        assert (got is None) == (expected is None), (text, got, expected)
        if got is not None and expected is not None:
            assert got == expected and got.utcoffset() == expected.utcoffset()


# -- a system event's name: the Rust regex against the Python check ------------------------------------------------

_NAME_PARTS = st.sampled_from(["Instance", "Disk", "SystemMaintenance.Reboot", "Stalled", "Scheduled", "Executed",
                               "Exploded", "scheduled", "Scheduled ", "\n", "é", "", ":", "Failed\n"])  # fmt: skip
NAMES = (
    st.lists(_NAME_PARTS, max_size=6).map("".join)
    | st.lists(_NAME_PARTS, max_size=5).map(":".join)
    | st.lists(_NAME_PARTS, max_size=3).map(lambda parts: "Instance:SystemMaintenance.Reboot:" + ":".join(parts))
)
_NAME = TypeAdapter(SystemEventName)


@SETTINGS
@given(NAMES)
@example("Instance:SystemMaintenance.Reboot:Exploded")
@example("Instance:SystemMaintenance.Reboot:Scheduled:extra:more")
@example("Instance:SystemMaintenance.Reboot:Scheduled\n")
def test_the_name_regex_refuses_what_the_python_check_refuses(name: str) -> None:
    problem = name_status_problem(name)
    try:
        _NAME.validate_python(name)
    except ValidationError as exc:
        assert exc.errors()[0]["type"] == NAME_STATUS_ERROR
        assert problem is not None, name
        if name.startswith("Instance:SystemMaintenance.Reboot:"):  # dispatched to the system event model
            with pytest.raises(EventValidationError) as caught:
                parse_notification({**SCHEDULED, "name": name})
            assert str(caught.value) == f"cloudmonitor: field name: {problem}"
    else:
        assert problem is None, name


# -- ARNs ---------------------------------------------------------------------------------------------------------

ARNS = st.lists(st.sampled_from(["acs", "ecs", "", ":", "/", "cn-hangzhou", "123", "instance", "i-1", "x/y", "é"]),
                max_size=9).map("".join)  # fmt: skip


@SETTINGS
@given(ARNS)
@example("acs:ecs:cn-hangzhou:123:instance/i-1")
def test_arn_parse_is_the_documented_grammar(text: str) -> None:
    match = re.fullmatch(r"acs:([^:]+):([^:]*):([^:]*):([^/]+)/(.+)", text, re.DOTALL)
    try:
        got: ResourceArn | None = ResourceArn.parse(text)
    except ValueError:
        got = None
    assert (got is None) == (match is None), text
    if got is not None and match is not None:
        assert tuple(got) == match.groups() and type(got) is ResourceArn


# -- the Delivery constructor -------------------------------------------------------------------------------------


def test_fast_delivery_is_the_dataclass() -> None:
    fast = _delivery(Source.EVENTBRIDGE, None, error=InvalidJsonError("x"), message_id="m", index=3)
    slow = Delivery(Source.EVENTBRIDGE, None, error=fast.error, message_id="m", index=3)
    assert fast == slow and repr(fast) == repr(slow) and hash(fast) == hash(slow)
    with pytest.raises(AttributeError):
        fast.index = 4  # type: ignore[misc]


@pytest.mark.parametrize("text", ["2019-04-12T01:01:01+08:60", "20190409T121826.922+0860", "2019-04-12T01:01:01-23:60"])
def test_an_offset_minute_over_59_is_refused_on_every_python(text: str) -> None:
    """Python 3.11's fromisoformat read ``+08:60`` as +09:00; 3.10's reading (the groups) refused it."""
    with pytest.raises(ValueError, match=r"not a valid time: .*out of range"):
        parse_time(text)
