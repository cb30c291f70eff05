"""Property test of the input path: whatever the body, ``sources.unwrap`` returns deliveries or raises an
InputError subclass with a one-line message, and the work is bounded (at most MAX_BATCH_ITEMS deliveries)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_events.errors import InputError
from ecs_events.sources import MAX_BATCH_ITEMS, unwrap

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
REAL = [p.read_bytes() for folder in ("seed", "cloudmonitor", "delivery") for p in sorted((SAMPLES / folder).iterdir())]
FORBIDDEN = ("\n", "\r", "\x1b")

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=10), children, max_size=6),
    max_leaves=40,
)


def _check(body: bytes | str) -> None:
    try:
        deliveries = unwrap(body)
    except InputError as exc:
        message = str(exc)
        assert not any(ch in message for ch in FORBIDDEN), repr(message)
        return
    assert 1 <= len(deliveries) <= MAX_BATCH_ITEMS
    for delivery in deliveries:
        assert sum(part is not None for part in (delivery.event, delivery.wake, delivery.error)) == 1
        if delivery.error is not None:
            assert not any(ch in str(delivery.error) for ch in FORBIDDEN)
        else:
            json.dumps(delivery.record())  # printing an accepted event never fails (times print, etc.)


def _mutate(data: bytes, at: int, cut: int, insert: bytes) -> bytes:
    at %= len(data) + 1
    return data[:at] + insert + data[at + cut :]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(body: bytes) -> None:
    _check(body)


@SETTINGS
@given(json_values)
def test_random_json_values(value: Any) -> None:
    text = json.dumps(value)  # NaN and Infinity literals included (json.dumps writes them)
    _check(text)
    _check(base64.b64encode(text.encode()))


@SETTINGS
@given(st.sampled_from(REAL), st.integers(0, 5000), st.integers(0, 8),
       st.sampled_from([b"", b"\n", b"\x1b[31m", b'"', b",", b"NaN", b"\xff", b'"name":"x",', b"{", b"]",
                        b'"content":{},', b"\\u0000", b"9999-12-31T23:59:59-12:00"]))  # fmt: skip
def test_mutated_real_samples(sample: bytes, at: int, cut: int, insert: bytes) -> None:
    _check(_mutate(sample, at, cut, insert))


@SETTINGS
@given(st.sampled_from(REAL), st.sampled_from(["name", "content", "resourceId", "type", "data", "Message", "body"]),
       json_values)  # fmt: skip
def test_real_samples_with_a_field_replaced_or_duplicated(sample: bytes, key: str, value: Any) -> None:
    stripped = sample.strip()
    if stripped[:1] != b"{":
        return
    obj = json.loads(stripped)
    obj[key] = value
    _check(json.dumps(obj))
    _check(stripped[:-1] + b"," + json.dumps(key).encode() + b":" + json.dumps(value).encode() + b"}")


@settings(max_examples=12, deadline=None)
@given(st.sampled_from([b"1,", b"{},", b"[],", b'"",', b'{"a":[]},']), st.integers(1, 3 * MAX_BATCH_ITEMS))
def test_big_flat_batches_are_bounded(unit: bytes, count: int) -> None:
    _check(b"[" + (unit * count)[:-1] + b"]")


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 5000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    _check(opener * depth + "1" + closer * depth)
