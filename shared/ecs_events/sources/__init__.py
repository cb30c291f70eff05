"""Detect the delivery format of what FC passed a handler and unwrap it into typed events.

Formats (reference section 2):
- ``cloudmonitor``: a raw CloudMonitor notification (direct to FC, or an MNS topic trigger in STREAM format);
- ``mns-queue``: an MNS queue message body, the base64-encoded notification (CloudMonitor's practice) or raw JSON;
- ``mns-topic``: an MNS topic trigger in JSON format (``Message`` raw or base64);
- ``mns-topic-stream``: STREAM format with message attributes, ``{"body": ..., "attrs": {...}}``;
- ``eventbridge``: one CloudEvent (``source: acs.ecs``), or a JSON array of them (event streaming);
- ``mns-queue-trigger``: the FC 3.0 MNS queue trigger: a CloudEvent ``type: mns:Queue:SendMessage`` (or an array, or
  the RawData schema's bare ``data`` objects) whose ``data.messageBody`` is the queue message: a notification, raw or
  base64, or the engine's timer wake (``Delivery.wake``), see ``sources.mns_trigger``;
- ``timer``: an FC timer trigger tick (no event; the queue consumer runs on it).

A CloudEvent from any other ``source`` is refused (one line naming its source and type), never read as an event.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import Enum
from typing import TYPE_CHECKING, Any

from ecs_events.errors import BodyTooLargeError, InputError, UnknownFormatError, quote
from ecs_events.models import EcsEvent, parse_notification
from ecs_events.sources.decode import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ITEMS,
    MAX_BODY_BYTES,
    fast_json,
    load_json,
    to_bytes,
)
from ecs_events.sources.eventbridge import ECS_SOURCE, eventbridge_field, is_cloud_event, to_notification
from ecs_events.sources.mns_trigger import is_trigger_item, message_id_of, parse_wake_body, trigger_message
from ecs_events.sources.timer import TimerTick, is_timer_event

if TYPE_CHECKING:
    from ecs_events.engine.timers import Wake


class Source(str, Enum):
    CLOUDMONITOR = "cloudmonitor"
    MNS_QUEUE = "mns-queue"
    MNS_TOPIC = "mns-topic"
    MNS_TOPIC_STREAM = "mns-topic-stream"
    EVENTBRIDGE = "eventbridge"
    MNS_QUEUE_TRIGGER = "mns-queue-trigger"
    TIMER = "timer"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One thing a body carried: an event, a timer tick, an engine timer wake (from a queue trigger message), or
    (inside a batch) the error of one bad item."""

    source: Source
    event: EcsEvent | TimerTick | None = None
    error: InputError | None = None
    message_id: str | None = None
    index: int = 0  # position in a batch
    wake: Wake | None = None

    @property
    def is_timer(self) -> bool:
        return isinstance(self.event, TimerTick)

    def record(self) -> dict[str, Any]:
        """The flat record ``ecs-events parse --json`` prints: the event's summary plus its source."""
        if self.error is not None:
            return {"source": self.source.value, "index": self.index, "error": str(self.error)}
        if self.wake is not None:
            return {"source": self.source.value, **_wake_summary(self.wake, self.message_id)}
        if isinstance(self.event, TimerTick):
            return {"source": self.source.value, **self.event.summary()}
        assert self.event is not None
        return {"source": self.source.value, **self.event.summary()}


class _Unfrozen:
    """Delivery's slots without the frozen ``__setattr__``: ``_delivery`` fills one with plain attribute stores,
    then makes it a Delivery (the same slots, so the same layout: ``__class__`` may change)."""

    __slots__ = Delivery.__slots__
    source: Source
    event: EcsEvent | TimerTick | None
    error: InputError | None
    message_id: str | None
    index: int
    wake: Wake | None


# Changing a Delivery we just built (a batch item's source and index): the slots' own setters
_SET_SOURCE, _SET_MESSAGE_ID, _SET_INDEX = (
    Delivery.__dict__[name].__set__ for name in ("source", "message_id", "index")
)
assert [f.name for f in fields(Delivery)] == list(_Unfrozen.__slots__)


def _delivery(source: Source, event: EcsEvent | TimerTick | None = None, *, error: InputError | None = None,
              message_id: str | None = None, index: int = 0, wake: Wake | None = None) -> Delivery:  # fmt: skip
    """``Delivery(...)`` at a quarter of the cost: the frozen dataclass's ``__init__`` goes through
    ``object.__setattr__`` per field, and calling each slot's setter costs twice what plain stores do."""
    delivery = _Unfrozen()
    delivery.source = source
    delivery.event = event
    delivery.error = error
    delivery.message_id = message_id
    delivery.index = index
    delivery.wake = wake
    delivery.__class__ = Delivery  # type: ignore[assignment]
    return delivery  # type: ignore[return-value]


_CLOUDMONITOR, _MNS_QUEUE_TRIGGER, _EVENTBRIDGE, _MNS_TOPIC, _MNS_TOPIC_STREAM = (
    Source.CLOUDMONITOR.value,
    Source.MNS_QUEUE_TRIGGER.value,
    Source.EVENTBRIDGE.value,
    Source.MNS_TOPIC.value,
    Source.MNS_TOPIC_STREAM.value,
)


def _wake_summary(wake: Wake, message_id: str | None) -> dict[str, Any]:
    """Same keys as an event's summary, so a wake prints in line with events."""
    from ecs_events.models.times import iso_utc

    empty = dict.fromkeys(("event_type", "status", "level", "instance_id", "disk_id", "snapshot_id", "not_before",
                           "region", "account"))  # fmt: skip
    return {"id": message_id, "name": "wake", "kind": "wake", **empty, "event_time": iso_utc(wake.at),
            "saga": wake.saga}  # fmt: skip


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
    if data[:1] == b"{":
        obj = fast_json(data)
        if obj is not None:
            return obj
    if len(data) > MAX_BODY_BYTES:
        raise BodyTooLargeError(f"{len(data)} bytes is over the {MAX_BODY_BYTES}-byte limit",
                                source=source.value, field=field)  # fmt: skip
    obj, _ = load_json(data, source=source._value_, field=field)
    return obj


def _from_cloud_event(obj: dict[str, Any]) -> Delivery:
    if obj.get("source") != ECS_SOURCE:
        raise UnknownFormatError(
            f"a CloudEvent from source {quote(obj.get('source'), 60)} of type {quote(obj.get('type'), 60)} is neither "
            f"an ECS event (source {ECS_SOURCE!r}) nor an MNS queue trigger message",
            source=Source.EVENTBRIDGE.value,
        )
    try:
        event = parse_notification(to_notification(obj), source=_EVENTBRIDGE)
    except InputError as exc:
        raise exc.renamed(field=eventbridge_field(exc.field)) from None
    return _delivery(Source.EVENTBRIDGE, event, message_id=_text(obj.get("id")))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _from_trigger(obj: dict[str, Any]) -> Delivery:
    """One MNS queue trigger item: its message body is a timer wake, or a notification (or anything a queue message
    may be) raw or base64; errors name the item's field (``data.messageBody.content.notBefore``)."""
    source = Source.MNS_QUEUE_TRIGGER
    message = trigger_message(obj)
    wake = parse_wake_body(message.body)
    if wake is not None:
        return _delivery(source, wake=wake, message_id=message.message_id)
    inner = _inner(message.body, source=source, field=message.field)
    if not isinstance(inner, dict):
        raise UnknownFormatError(f"expected a JSON object, got {type(inner).__name__}", source=source.value,
                                 field=message.field)  # fmt: skip
    if is_trigger_item(inner):
        raise UnknownFormatError("a queue trigger message inside another", source=source.value, field=message.field)
    if "name" in inner and "content" in inner:  # a notification: the _from_object branch, inline (what arrives)
        try:
            event = parse_notification(inner, source=_MNS_QUEUE_TRIGGER)
        except InputError as exc:
            raise exc.within(source.value, message.field) from None
        return _delivery(source, event, message_id=message.message_id or event.id)
    try:
        delivery = _from_object(inner, source, False)
    except InputError as exc:
        raise exc.within(source.value, message.field) from None
    # ``delivery`` is new and ours alone (every return of _from_object builds one): set two slots, not a copy
    _SET_SOURCE(delivery, source)
    _SET_MESSAGE_ID(delivery, message.message_id or delivery.message_id)
    return delivery


def _from_object(obj: dict[str, Any], hint: Source | None, was_base64: bool) -> Delivery:
    # The plain notification first: it is what arrives most, and no other format has both name and content.
    if ("name" in obj and "content" in obj) or ("resourceId" in obj and "regionId" in obj):  # _is_notification
        source = hint or (Source.MNS_QUEUE if was_base64 else Source.CLOUDMONITOR)
        event = parse_notification(obj, source=source._value_)  # ._value_: .value is a Python property
        return _delivery(source, event, message_id=event.id)  # the model's id: ``obj["id"]``, a str or absent
    if is_timer_event(obj):
        return _delivery(Source.TIMER, TimerTick.from_wire(obj))
    if is_trigger_item(obj):
        return _from_trigger(obj)
    if is_cloud_event(obj):
        return _from_cloud_event(obj)
    if _is_topic_json(obj):
        inner = _inner(obj["Message"], source=Source.MNS_TOPIC, field="Message")
        try:
            event = parse_notification(inner, source=_MNS_TOPIC)
        except InputError as exc:
            raise exc.within(Source.MNS_TOPIC.value, "Message") from None
        return _delivery(Source.MNS_TOPIC, event, message_id=_text(obj.get("MessageId")))
    if "body" in obj and "attrs" in obj:
        inner = _inner(obj["body"], source=Source.MNS_TOPIC_STREAM, field="body")
        try:
            event = parse_notification(inner, source=_MNS_TOPIC_STREAM)
        except InputError as exc:
            raise exc.within(Source.MNS_TOPIC_STREAM.value, "body") from None
        return _delivery(Source.MNS_TOPIC_STREAM, event)
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
    if body.__class__ is bytes:  # what FC hands a handler
        value = fast_json(body)
        if value.__class__ is dict:
            if hint is None and "name" in value and "content" in value:  # a notification: _from_object, inline
                event = parse_notification(value, source=_CLOUDMONITOR)
                return [_delivery(Source.CLOUDMONITOR, event, message_id=event.id)]
            return [_from_object(value, hint, False)]
        if value is not None:
            return _unwrap_batch(value, hint)
    return _unwrap(body, hint)


def _unwrap(body: bytes | bytearray | memoryview | str, hint: Source | None) -> list[Delivery]:
    """``unwrap`` the full way: size and encoding (``to_bytes``), then JSON or base64 JSON (``load_json``)."""
    label = hint._value_ if hint else "body"
    value, was_base64 = load_json(to_bytes(body, source=label), source=label)
    if value.__class__ is dict:  # what JSON objects are (jiter builds exact dicts and lists)
        return [_from_object(value, hint, was_base64)]
    if isinstance(value, list):
        return _unwrap_batch(value, hint)
    if not isinstance(value, dict):
        raise UnknownFormatError(f"expected a JSON object or array, got {type(value).__name__}", source=label)
    return [_from_object(value, hint, was_base64)]


def _unwrap_batch(items: Sequence[Any], hint: Source | None) -> list[Delivery]:
    """A batch (an EventBridge push, or an MNS queue trigger's when an item is one of its messages, unless ``hint``
    says otherwise). Every delivery of the batch, good or bad, carries the batch's source; an error names the item
    (``[3].data.notBefore``)."""
    batch = hint or _batch_source(items)
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
            out.append(_delivery(batch, error=error, index=index))
            continue
        try:
            delivery = _from_object(item, hint, False)
        except InputError as exc:
            message_id = message_id_of(item) if is_trigger_item(item) else None
            error = exc.within(batch.value, f"[{index}]")
            out.append(_delivery(batch, error=error, message_id=message_id, index=index))
            continue
        _SET_SOURCE(delivery, batch)  # new and ours alone (see _from_trigger)
        _SET_INDEX(delivery, index)
        out.append(delivery)
    return out


def _batch_source(items: Sequence[Any]) -> Source:
    for item in items[:MAX_BATCH_ITEMS]:
        if isinstance(item, dict) and is_trigger_item(item):
            return Source.MNS_QUEUE_TRIGGER
    return Source.EVENTBRIDGE


def is_queue_trigger(deliveries: Sequence[Delivery]) -> bool:
    """These deliveries came from an MNS queue trigger (see ``ecs_events.runtime.handlers``)."""
    return any(d.source is Source.MNS_QUEUE_TRIGGER for d in deliveries)


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
    "is_queue_trigger",
    "parse_events",
    "unwrap",
]
