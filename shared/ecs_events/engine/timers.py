"""Timers: a saga's future step is an MNS message to the events queue, delayed until it is due, that comes back
through the queue consumer like any event and wakes the saga.

MNS delays a message by at most 7 days, and deletes any message its queue's ``MessageRetentionPeriod`` after it was
SENT, delayed or not (4 days by default for a queue made by hand, 7 days at most): a wake delayed past the retention
is never delivered. So no timer is armed longer than the retention less a margin (read once from
GetQueueAttributes); a longer wait is armed that far and re-armed when it comes back (the saga is simply not due
yet). A wake that arrives early, late or twice is harmless: the engine looks at the saga and does what is due,
nothing else. And whatever happens to a timer, the reconciler wakes a saga whose ``wake_at`` has passed.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from ecs_events.models.times import iso_utc, parse_time

log = logging.getLogger("ecs_events.engine")

MAX_DELAY_SECONDS = 7 * 24 * 3600
DEFAULT_RETENTION = 4 * 24 * 3600  # MNS's default MessageRetentionPeriod, assumed when it cannot be read
MARKER = "ecs-events"
_B64_MARKER_PREFIX = base64.b64encode(b'{"ecs-events"').decode()[:8]


class Sender(Protocol):
    def send(self, body: str, delay_seconds: int = 0) -> str: ...


def max_delay(retention: int) -> int:
    """The longest delay that still leaves a wake time to be consumed before the queue deletes it: the retention less
    a tenth of it (at least an hour, at most half of it), never above MNS's 7-day delay limit."""
    margin = min(max(3600, retention // 10), retention // 2)
    return max(1, min(MAX_DELAY_SECONDS, retention - margin))


@dataclass(frozen=True)
class Wake:
    saga: str
    at: datetime
    attempt: int = 0  # how many times this wake was sent again because handling it kept failing


def wake_body(saga: str, at: datetime, attempt: int = 0) -> str:
    value: dict[str, Any] = {MARKER: "wake", "saga": saga, "at": iso_utc(at)}
    if attempt:
        value["attempt"] = attempt
    return json.dumps(value, separators=(",", ":"))


# ``wake_body``'s own output, exactly: keys in its order, no space, no character JSON would escape. Read without
# ``json.loads`` (a trigger batch carries a wake for every saga timer); anything else takes the general reading.
_WAKE_SHAPE = re.compile(
    r'\{"ecs-events":"wake","saga":"([A-Za-z0-9/._:-]{1,512})","at":"([0-9T:.Z-]{20,24})"(?:,"attempt":([1-9][0-9]{0,8}))?\}'
).fullmatch
_QUOTED_MARKER = f'"{MARKER}"'


def parse_wake(body: str | bytes) -> Wake | None:
    """The wake a queue message carries, or None when it is something else (an event)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if text[:1] != "{" and text[:8] == _B64_MARKER_PREFIX:  # the queue carries it base64-encoded
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
    if _QUOTED_MARKER not in text[:64]:
        return None
    shape = _WAKE_SHAPE(text)
    if shape is not None:
        saga, at, attempt = shape.groups()
        try:
            return Wake(saga, parse_time(at), int(attempt) if attempt else 0)
        except ValueError:
            return None  # as below: a wake whose time is not one is not ours
    return _parse_wake_json(text)


def _parse_wake_json(text: str) -> Wake | None:
    """The general reading of a wake (any JSON spelling of it): the reference the fast path is held to."""
    try:
        value: Any = json.loads(text)
        if value.get(MARKER) != "wake" or not isinstance(value.get("saga"), str):
            return None
        attempt = value.get("attempt", 0)
        return Wake(value["saga"], parse_time(value["at"]), attempt if isinstance(attempt, int) else 0)
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError):  # deep nesting: not ours either
        return None


class Timers:
    def __init__(self, queue: Sender, retention: Callable[[], int] | None = None) -> None:
        """``retention``: reads the queue's MessageRetentionPeriod (seconds), called once, on the first timer."""
        self.queue = queue
        self._retention = retention
        self._cap: int | None = None

    @property
    def cap(self) -> int:
        """The longest delay a timer gets (seconds)."""
        if self._cap is None:
            retention = DEFAULT_RETENTION
            if self._retention is not None:
                try:
                    retention = int(self._retention())
                except Exception as exc:  # unreadable now: the default's cap, and read again next time
                    log.warning("could not read the queue's retention (%s): timers capped as for 4 days", exc)
                    return max_delay(DEFAULT_RETENTION)
            self._cap = max_delay(retention)
        return self._cap

    def arm(self, saga: str, at: datetime, now: datetime) -> datetime:
        """Send the wake for ``at``; returns when it will really arrive (capped, see ``cap``)."""
        cap = self.cap
        delay = min(max(0, math.ceil((at - now).total_seconds())), cap)
        self.queue.send(wake_body(saga, at), delay_seconds=delay)
        return at if delay < cap else now + timedelta(seconds=delay)
