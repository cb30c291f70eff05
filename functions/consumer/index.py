"""FC function ``consumer``: a timer trigger drains the events queue, where saga timers (delayed wake messages)
and queue-delivered CloudMonitor events arrive, until it is idle or the invocation's time is nearly up.

Handler ``index.handler``, initializer ``index.initialize``. The timer's payload may be a JSON object
``{"until_idle": true, "wait_seconds": 3}``. Nothing is built at import time: ``ecs_events.handlers`` builds the App
once per instance.
"""

from __future__ import annotations

from typing import Any

from ecs_events import handlers

NAME = "consumer"


def initialize(context: Any) -> None:
    """FC initializer: build the App once per instance; a bad configuration fails here, in one line."""
    handlers.initialize(context)


def handler(event: bytes, context: Any) -> dict[str, Any]:
    """One timer tick: run the queue consumer within the deadline; its report back."""
    return handlers.handle_timer(event, context)
