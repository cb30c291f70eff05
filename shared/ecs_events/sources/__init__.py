"""Detect the delivery format of what FC passed a handler and unwrap it into typed events.

Formats (reference section 2):
- ``cloudmonitor``: a raw CloudMonitor notification (direct to FC, or an MNS topic trigger in STREAM format);
- ``mns-queue``: an MNS queue message body, the base64-encoded notification (CloudMonitor's practice) or raw JSON;
- ``mns-topic``: an MNS topic trigger in JSON format (``Message`` raw or base64);
- ``mns-topic-stream``: STREAM format with message attributes, ``{"body": ..., "attrs": {...}}``;
- ``eventbridge``: one CloudEvent, or a JSON array of them (event streaming);
- ``timer``: an FC timer trigger tick (no event; the queue consumer runs on it).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ecs_events.errors import BodyTooLargeError, InputError, UnknownFormatError, quote
from ecs_events.models import EcsEvent, parse_notification
from ecs_events.sources.decode import MAX_BATCH_BYTES, MAX_BATCH_ITEMS, MAX_BODY_BYTES, load_json, to_bytes
from ecs_events.sources.eventbridge import eventbridge_field, is_cloud_event, to_notification
from ecs_events.sources.timer import TimerTick, is_timer_event


class Source(str, Enum):
    CLOUDMONITOR = "cloudmonitor"
    MNS_QUEUE = "mns-queue"
    MNS_TOPIC = "mns-topic"
    MNS_TOPIC_STREAM = "mns-topic-stream"
    EVENTBRIDGE = "eventbridge"
    TIMER = "timer"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One thing a body carried: an event, a timer tick, or (inside a batch) the error of one bad item."""

    source: Source
    event: EcsEvent | TimerTick | None = None
    error: InputError | None = None
    message_id: str | None = None
    index: int = 0  # position in a batch

    @property
    def is_timer(self) -> bool:
        return isinstance(self.event, TimerTick)

    def record(self) -> dict[str, Any]:
        """The flat record ``ecs-events parse --json`` prints: the event's summary plus its source."""
        if self.error is not None:
            return {"source": self.source.value, "index": self.index, "error": str(self.error)}
        if isinstance(self.event, TimerTick):
            return {"source": self.source.value, **self.event.summary()}
        assert self.event is not None
        return {"source": self.source.value, **self.event.summary()}


def _is_notification(obj: dict[str, Any]) -> bool:
    return ("name" in obj and "content" in obj) or ("resourceId" in obj and "regionId" in obj)


def _is_topic_json(obj: dict[str, Any]) -> bool:
    return "Message" in obj and ("TopicName" in obj or "TopicOwner" in obj or "MessageId" in obj)


def _inner(value: Any, *, source: Source, field: str) -> Any:
    """An embedded message (a topic ``Message`` or STREAM ``body``): a JSON object already, or text to decode."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise UnknownFormatError(f"expected a string, got {type(value).__name__}", source=source.value, field=field)
    if len(value) > MAX_BODY_BYTES:  # characters never outnumber UTF-8 bytes: no need to encode to refuse
        raise BodyTooLargeError(f"{len(value)} characters is over the {MAX_BODY_BYTES}-byte limit",
                                source=source.value, field=field)  # fmt: skip
    data = value.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BODY_BYTES:
        raise BodyTooLargeError(f"{len(data)} bytes is over the {MAX_BODY_BYTES}-byte limit",
                                source=source.value, field=field)  # fmt: skip
    obj, _ = load_json(data, source=source.value, field=field)
    return obj


def _from_cloud_event(obj: dict[str, Any]) -> Delivery:
    try:
        event = parse_notification(to_notification(obj), source=Source.EVENTBRIDGE.value)
    except InputError as exc:
        raise exc.renamed(field=eventbridge_field(exc.field)) from None
    return Delivery(Source.EVENTBRIDGE, event, message_id=_text(obj.get("id")))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _from_object(obj: dict[str, Any], hint: Source | None, was_base64: bool) -> Delivery:
    # The plain notification first: it is what arrives most, and no other format has both name and content.
    if _is_notification(obj):
        source = hint or (Source.MNS_QUEUE if was_base64 else Source.CLOUDMONITOR)
        return Delivery(source, parse_notification(obj, source=source.value), message_id=_text(obj.get("id")))
    if is_timer_event(obj):
        return Delivery(Source.TIMER, TimerTick.from_wire(obj))
    if is_cloud_event(obj):
        return _from_cloud_event(obj)
    if _is_topic_json(obj):
        inner = _inner(obj["Message"], source=Source.MNS_TOPIC, field="Message")
        try:
            event = parse_notification(inner, source=Source.MNS_TOPIC.value)
        except InputError as exc:
            raise exc.within(Source.MNS_TOPIC.value, "Message") from None
        return Delivery(Source.MNS_TOPIC, event, message_id=_text(obj.get("MessageId")))
    if "body" in obj and "attrs" in obj:
        inner = _inner(obj["body"], source=Source.MNS_TOPIC_STREAM, field="body")
        try:
            event = parse_notification(inner, source=Source.MNS_TOPIC_STREAM.value)
        except InputError as exc:
            raise exc.within(Source.MNS_TOPIC_STREAM.value, "body") from None
        return Delivery(Source.MNS_TOPIC_STREAM, event)
    keys = ", ".join(quote(key, 40) for key in heapq.nsmallest(8, obj)) or "none"
    raise UnknownFormatError(
        f"not a CloudMonitor notification, MNS message, CloudEvent or timer event (top-level keys: {keys})",
        source=hint.value if hint else "body",
    )


def unwrap(body: bytes | bytearray | memoryview | str, *, hint: Source | None = None) -> list[Delivery]:
    """Every event a body carries. ``hint`` names the source when the caller knows it (the queue consumer says
    ``mns-queue``). A bad body raises InputError; in a batch, each bad item becomes a Delivery with ``error``.

    Work is bounded by the size: at most 64 KiB for one message, 6 MiB and ``MAX_BATCH_ITEMS`` items for a batch
    (a longer batch is one BodyTooLargeError, raised before any item is looked at)."""
    label = hint.value if hint else "body"
    value, was_base64 = load_json(to_bytes(body, source=label), source=label)
    if isinstance(value, list):
        return _unwrap_batch(value, hint)
    if not isinstance(value, dict):
        raise UnknownFormatError(f"expected a JSON object or array, got {type(value).__name__}", source=label)
    return [_from_object(value, hint, was_base64)]


def _unwrap_batch(items: Sequence[Any], hint: Source | None) -> list[Delivery]:
    """A batch (an EventBridge push, unless ``hint`` says otherwise). Every delivery of the batch, good or bad,
    carries the batch's source; an error names the item (``[3].data.notBefore``)."""
    batch = hint or Source.EVENTBRIDGE
    if not items:
        raise UnknownFormatError("empty batch", source=batch.value)
    if len(items) > MAX_BATCH_ITEMS:  # load_json refuses these already; kept for callers passing a list
        raise BodyTooLargeError(f"batch of {len(items)} items is over the {MAX_BATCH_ITEMS}-item limit",
                                source=batch.value)  # fmt: skip
    out: list[Delivery] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            error: InputError = UnknownFormatError(
                f"expected a JSON object, got {type(item).__name__}", source=batch.value, field=f"[{index}]"
            )
            out.append(Delivery(batch, error=error, index=index))
            continue
        try:
            delivery = _from_object(item, hint, False)
        except InputError as exc:
            out.append(Delivery(batch, error=exc.within(batch.value, f"[{index}]"), index=index))
            continue
        out.append(Delivery(batch, delivery.event, message_id=delivery.message_id, index=index))
    return out


def parse_events(body: bytes | str, *, hint: Source | None = None) -> list[EcsEvent]:
    """The events of a body, raising the first error (batches included); timer ticks are left out."""
    events: list[EcsEvent] = []
    for delivery in unwrap(body, hint=hint):
        if delivery.error is not None:
            raise delivery.error
        if delivery.event is not None and not isinstance(delivery.event, TimerTick):
            events.append(delivery.event)
    return events


__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_ITEMS",
    "MAX_BODY_BYTES",
    "Delivery",
    "Source",
    "TimerTick",
    "parse_events",
    "unwrap",
]
