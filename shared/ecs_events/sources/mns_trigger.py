"""The FC 3.0 MNS queue trigger (EventBridge-backed): what it hands the function, and the queue message inside.

A CloudEvent per message (``type: mns:Queue:SendMessage``; ``source`` is ``MNS-<function>-<trigger>``, not
``acs.mns``, so the type is what identifies it), one per invocation (event-driven) or a JSON array of them (event
streaming)::

    {"id": "...", "source": "MNS-consumer-events", "specversion": "1.0", "type": "mns:Queue:SendMessage",
     "subject": "acs:mns:cn-hangzhou:1234567890123456:queues/ecs-events", "time": "2026-11-26T02:00:00.123Z",
     "data": {"requestId": "...", "messageId": "...", "messageBody": "..."}, ...}

With the RawData event schema each item is only the ``data`` object ``{"requestId", "messageId", "messageBody"}``.
``messageBody`` is the queue message: raw JSON when the trigger's IsBase64Decode is on (CloudMonitor's base64 decoded
for us), the base64 text as it sat on the queue when it is off. It carries a CloudMonitor notification, or one of
the engine's timer wakes (``ecs_events.engine.timers``: saga timers travel on the same queue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ecs_events.errors import EventValidationError

if TYPE_CHECKING:
    from ecs_events.engine.timers import Wake

TYPE = "mns:Queue:SendMessage"
SOURCE = "mns-queue-trigger"
_RAW_KEYS = ("messageId", "requestId")
_new = tuple.__new__


def is_trigger_event(obj: dict[str, Any]) -> bool:
    """A trigger CloudEvent: keyed on ``type`` (``source`` is per function and trigger; hand-made test events in
    the wild even say ``acs:mns``)."""
    return obj.get("type") == TYPE


def is_raw_data(obj: dict[str, Any]) -> bool:
    """A RawData item: the CloudEvent's bare ``data`` object."""
    return "messageBody" in obj and any(key in obj for key in _RAW_KEYS) and "type" not in obj


def is_trigger_item(obj: dict[str, Any]) -> bool:
    """``is_trigger_event(obj) or is_raw_data(obj)``, inlined: every item of a batch is asked."""
    return obj.get("type") == TYPE or (
        "messageBody" in obj and "type" not in obj and ("messageId" in obj or "requestId" in obj)
    )


class TriggerMessage(NamedTuple):
    """The queue message one item carries; ``field`` is where its body sits (``data.messageBody`` or, RawData,
    ``messageBody``), for errors. (A tuple: one C call builds it, for every message of every batch.)"""

    body: str
    message_id: str | None
    field: str


def _not_text(value: Any, field: str) -> EventValidationError:
    return EventValidationError(f"expected a string, got {type(value).__name__}", source=SOURCE, field=field)


def trigger_message(obj: dict[str, Any]) -> TriggerMessage:
    """The message of a trigger CloudEvent or RawData item; EventValidationError naming the field when the envelope
    is not the trigger's."""
    if obj.get("type") == TYPE:  # is_trigger_event
        data = obj.get("data")
        if not isinstance(data, dict):
            raise EventValidationError("missing or not an object", source=SOURCE, field="data")
        prefix = "data."
    else:
        data, prefix = obj, ""
    body = data.get("messageBody")
    if not isinstance(body, str) or not body or body.isspace():  # isspace: what strip() removes, without the copy
        what = "missing" if body is None else ("empty" if isinstance(body, str) else f"a {type(body).__name__}")
        raise EventValidationError(f"{what}, expected the message text", source=SOURCE, field=prefix + "messageBody")
    request_id = data.get("requestId")
    if request_id is not None and not isinstance(request_id, str):
        raise _not_text(request_id, prefix + "requestId")
    message_id = data.get("messageId")
    if message_id is not None and not isinstance(message_id, str):
        raise _not_text(message_id, prefix + "messageId")
    return _new(TriggerMessage, (body, message_id, prefix + "messageBody"))


def message_id_of(obj: dict[str, Any]) -> str | None:
    """The MNS message id of a trigger item, even a bad one (its dead-letter record names the message)."""
    data = obj.get("data") if is_trigger_event(obj) else obj
    value = data.get("messageId") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


_parse_wake: Callable[[str], Wake | None] | None = None  # the engine's, imported on the first trigger message


def parse_wake_body(body: str) -> Wake | None:
    """The engine's timer wake this message body carries (raw, or base64 as the queue holds it), else None. The
    same test the queue consumer applies before it reads a message as an event."""
    global _parse_wake  # noqa: PLW0603 (an import statement per message costs more than the test itself)
    if _parse_wake is None:
        from ecs_events.engine.timers import parse_wake  # the engine only when a trigger message is read

        _parse_wake = parse_wake
    return _parse_wake(body)
