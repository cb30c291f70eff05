"""Where "now" comes from: the wall clock, or a served localcloud's clock (``ECS_EVENTS_LOCALCLOUD``), so a test or
``make demo`` in another process can step time and the engine sees the same time the fake cloud does."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

from ecs_events.errors import EcsEventsError

Now = Callable[[], datetime]


class ClockError(EcsEventsError):
    """The localcloud clock could not be read."""


def system_now() -> datetime:
    return datetime.now(timezone.utc)


def localcloud_now(url: str, timeout: float = 5.0) -> Now:
    """A ``now`` reading ``GET {url}/_localcloud/clock`` on every call (cheap on loopback; never cached, since
    another process moves it)."""
    endpoint = url.rstrip("/") + "/_localcloud/clock"

    def now() -> datetime:
        import urllib.request  # here, not at import: only a localcloud clock reads it (FC cold start)

        from ecs_events.models.times import parse_time  # the models import pydantic: not on the no-op path

        try:
            with urllib.request.urlopen(endpoint, timeout=timeout) as response:
                return parse_time(json.loads(response.read())["now"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ClockError(f"ECS_EVENTS_LOCALCLOUD: cannot read the clock at {endpoint}: {exc}") from None

    return now


def clock_for(localcloud: str | None) -> Now:
    return localcloud_now(localcloud) if localcloud else system_now
