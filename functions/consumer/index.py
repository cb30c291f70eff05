"""FC function ``consumer``: the events queue, where saga timers (delayed wake messages) and queue-delivered
CloudMonitor events arrive. Two triggers may call it:

- a timer trigger: drain the queue until it is idle or the invocation's time is nearly up; the timer's payload may be
  a JSON object ``{"until_idle": true, "wait_seconds": 3}``;
- an FC 3.0 MNS queue trigger on the events queue: the CloudEvent(s) it pushes (``type: mns:Queue:SendMessage``,
  one or an array, or RawData ``data`` objects), each message into the engine.

``ecs_events.runtime.handlers.handle_consumer`` tells them apart (the rule is in its module doc). Handler
``index.handler``, initializer ``index.initialize``. Nothing is built at import time: ``ecs_events.runtime.handlers``
builds the App once per instance.
"""

from __future__ import annotations

from typing import Any

from ecs_events.runtime import handlers

NAME = "consumer"


def initialize(context: Any) -> None:
    """FC initializer: the App once per instance (account, store, credentials checked here, in one line; the other
    settings at the first event that needs them)."""
    handlers.initialize(context)


def handler(event: bytes, context: Any) -> dict[str, Any]:
    """A timer tick (the queue consumer's report back) or a queue trigger push (its push summary back)."""
    return handlers.handle_consumer(event, context)
