"""The wake fast path (a regex over ``wake_body``'s own output) is the general JSON reading, on generated wakes and
on every spelling of them the regex does not take (issue "performance": the trigger batch's wakes)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_events.engine import timers
from ecs_events.engine.timers import _parse_wake_json, parse_wake, wake_body

sagas = st.one_of(
    st.from_regex(r"saga/i-[a-z0-9]{1,20}/e-[a-z0-9]{1,20}", fullmatch=True),
    st.text(min_size=0, max_size=40),  # anything a saga key could not be, escapes and unicode included
)
times = st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(timezone.utc))
attempts = st.integers(min_value=0, max_value=10**10)


def _spellings(body: str) -> list[str]:
    value = json.loads(body)
    return [
        body,
        json.dumps(value),  # spaces
        json.dumps(dict(reversed(list(value.items()))), separators=(",", ":")),  # another key order
        json.dumps(value, separators=(",", ":"), ensure_ascii=False),
        body.replace('"at":"', '"at": "'),
        body[:-1] + ',"attempt":0}' if "attempt" not in value else body,
        body.replace("Z", "+00:00"),
        body.replace("Z", "z"),
    ]


@settings(max_examples=400, deadline=None)
@given(saga=sagas, at=times, attempt=attempts)
def test_the_fast_path_is_the_json_reading(saga: str, at: datetime, attempt: int) -> None:
    body = wake_body(saga, at, attempt)
    for text in _spellings(body):
        expected = _parse_wake_json(text) if timers._QUOTED_MARKER in text[:64] else None
        assert parse_wake(text) == expected, text
    assert parse_wake(base64.b64encode(body.encode()).decode()) == parse_wake(body)  # as the queue holds it


@given(at=times)
def test_the_fast_path_takes_what_wake_body_writes(at: datetime) -> None:
    body = wake_body("saga/i-bp1a2b3c4d5e6f7g8h9i/e-bp1h2j3k4l5z6x7c8v9b", at, 3)
    assert timers._WAKE_SHAPE(body) is not None
    assert parse_wake(body) == _parse_wake_json(body)


def test_out_of_range_times_are_no_wake_either_way() -> None:
    body = '{"ecs-events":"wake","saga":"saga/i-1/e-1","at":"1960-01-01T00:00:00Z"}'
    assert timers._WAKE_SHAPE(body) is not None
    assert parse_wake(body) is None and _parse_wake_json(body) is None
