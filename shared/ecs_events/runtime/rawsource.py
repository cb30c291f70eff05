"""The delivery envelopes the raw triage reads, without pydantic (FC cold start): a raw CloudMonitor notification
(an MNS topic trigger in STREAM format, or direct) and an MNS topic trigger in JSON format whose ``Message`` is the
notification as JSON. ``notification`` returns what ``ecs_events.sources.unwrap`` would hand the model (the source,
the notification dict, the message id) only when it is certain ``unwrap`` reads the body the same way: one JSON object,
within the size limit, UTF-8, strict JSON (no duplicate key, no NaN), detected as the same format. Anything else
(base64, arrays, other formats, a BOM, any doubt) is None: the full path decides, with its one-line errors.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from jiter import from_json

MAX_BODY_BYTES = 64 * 1024  # ecs_events.sources.decode.MAX_BODY_BYTES (tests/unit/test_rawtriage.py holds them equal)
_BOM = b"\xef\xbb\xbf"
CLOUDMONITOR, MNS_TOPIC = "cloudmonitor", "mns-topic"


class RawNotification(NamedTuple):
    source: str
    notification: dict[str, Any]
    message_id: str | None


def _object(data: bytes) -> dict[str, Any] | None:
    """``data`` as one strict JSON object (``sources.decode.load_json``'s reading), None when in any doubt."""
    if len(data) > MAX_BODY_BYTES or data.startswith(_BOM):
        return None
    stripped = data.strip()
    if stripped[:1] != b"{":
        return None
    try:
        data.decode("utf-8")
        value = from_json(stripped, allow_inf_nan=False, catch_duplicate_keys=True, cache_mode="keys")
    except ValueError:  # UnicodeDecodeError is one
        return None
    return value if value.__class__ is dict else None


def _is_notification(obj: dict[str, Any]) -> bool:
    return ("name" in obj and "content" in obj) or ("resourceId" in obj and "regionId" in obj)


def notification(body: Any) -> RawNotification | None:
    """The one notification ``body`` (what FC passed) carries, when certain; else None."""
    if body.__class__ is not bytes:
        return None
    obj = _object(body)
    if obj is None:
        return None
    if _is_notification(obj):
        message_id = obj.get("id")
        return RawNotification(CLOUDMONITOR, obj, message_id if isinstance(message_id, str) else None)
    if (
        "Message" in obj
        and ("TopicName" in obj or "TopicOwner" in obj or "MessageId" in obj)
        # what unwrap looks for before a topic message: a timer tick, a queue trigger item, a CloudEvent
        and not ("triggerTime" in obj and "triggerName" in obj)
        and "type" not in obj
        and "messageBody" not in obj
        and "specversion" not in obj
    ):
        message = obj["Message"]
        if not isinstance(message, str):
            return None  # a dict Message is read as is by unwrap, but rare: the full path
        inner = _object(message.encode("utf-8", "surrogatepass")) if len(message) <= MAX_BODY_BYTES else None
        if inner is None:
            return None
        message_id = obj.get("MessageId")
        return RawNotification(MNS_TOPIC, inner, message_id if isinstance(message_id, str) else None)
    return None
