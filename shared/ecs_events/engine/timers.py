"""Timers: a saga's future step is an MNS message to the events queue, delayed until it is due, that comes back
through the queue consumer like any event and wakes the saga.

MNS delays a message by at most 7 days; a longer wait is armed for 7 days and re-armed when it comes back (the saga
is simply not due yet). A wake that arrives early, late or twice is harmless: the engine looks at the saga and does
what is due, nothing else.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from ecs_events.models.times import iso_utc, parse_time

MAX_DELAY_SECONDS = 7 * 24 * 3600
MARKER = "ecs-events"
_B64_MARKER_PREFIX = base64.b64encode(b'{"ecs-events"').decode()[:8]


class Sender(Protocol):
    def send(self, body: str, delay_seconds: int = 0) -> str: ...


@dataclass(frozen=True)
class Wake:
    saga: str
    at: datetime


def wake_body(saga: str, at: datetime) -> str:
    return json.dumps({MARKER: "wake", "saga": saga, "at": iso_utc(at)}, separators=(",", ":"))


def parse_wake(body: str | bytes) -> Wake | None:
    """The wake a queue message carries, or None when it is something else (an event)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if text[:1] != "{" and text[:8] == _B64_MARKER_PREFIX:  # the queue carries it base64-encoded
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
    if f'"{MARKER}"' not in text[:64]:
        return None
    try:
        value: Any = json.loads(text)
        if value.get(MARKER) != "wake" or not isinstance(value.get("saga"), str):
            return None
        return Wake(value["saga"], parse_time(value["at"]))
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError):  # deep nesting: not ours either
        return None


class Timers:
    def __init__(self, queue: Sender) -> None:
        self.queue = queue

    def arm(self, saga: str, at: datetime, now: datetime) -> datetime:
        """Send the wake for ``at``; returns when it will really arrive (capped at 7 days from now)."""
        delay = min(max(0, math.ceil((at - now).total_seconds())), MAX_DELAY_SECONDS)
        self.queue.send(wake_body(saga, at), delay_seconds=delay)
        return at if delay < MAX_DELAY_SECONDS else now + timedelta(seconds=delay)
