"""The dead-letter queue: one JSON record per message that can never succeed, with its reason and original body.

Both paths write the same record: the queue consumer (``source: mns-queue``, with ``message_id`` and
``dequeue_count``) and the push handlers (topic / EventBridge: ``function``, ``request_id``, ``index``):
``{"reason", "source", "at", "body" | "body_base64", ...}``. MNS refuses a message over 64 KiB *as sent*, and the
SDK sends base64 (4/3 larger): a record over ``LIMIT`` is kept whole in the store under ``dead/<id>`` and its
message carries the head of the body with ``truncated`` and ``store_key``. Nothing is lost either way.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Protocol

from ecs_events.store.base import Store

log = logging.getLogger("ecs_events.deadletter")

LIMIT = 45 * 1024  # base64 of 45 KiB is ~60 KiB: under MNS's 64 KiB with room for the XML envelope
HEAD = 1000


class Sender(Protocol):
    name: str

    def send(self, body: str, delay_seconds: int = 0) -> str: ...


def dead_letter(queue: Sender, store: Store, record: dict[str, Any]) -> str:
    """Send ``record`` to the dead-letter queue (spilling a large one to the store); returns the message body sent.
    A failed send raises: the caller keeps the message for later."""
    body = json.dumps(record, ensure_ascii=False)
    if len(body.encode("utf-8")) > LIMIT:
        key = f"dead/{uuid.uuid4().hex}"
        store.update(key, lambda _: record)
        head = {k: v[:HEAD] if isinstance(v, str) and len(v) > HEAD else v for k, v in record.items()}  # reason too
        body = json.dumps({**head, "truncated": True, "store_key": key}, ensure_ascii=False)
    queue.send(body)
    log.error("dead-lettered to %s: %s", queue.name, str(record.get("reason"))[:HEAD])
    return body
