"""An MNS queue through aliyun-mns-sdk: send (optionally delayed: our timers), receive, delete, change visibility.

Bodies: ``send`` base64-encodes (the SDK default, and how CloudMonitor writes events); ``receive`` returns the body
as it is on the wire, undecoded, because a queue may also hold raw JSON and ``ecs_events.sources`` accepts both.
A fresh SDK ``Queue`` object per call: its encoding flag is per object, and nothing is shared between threads.

``send`` and the queue's attributes (what arming a timer needs: the first event that acts) go through the SDK's
``MNSClient`` with its request and response objects, as ``mns.queue.Queue`` does: ``mns.queue`` imports
``deprecated``, whose ``wrapt`` imports ``asyncio`` (about 40 ms of an FC cold start, issue 15). The consumer's
receive, delete and visibility calls, and ``ensure``, use ``mns.queue`` itself.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from ecs_events import retry
from ecs_events.actions.errors import CloudCallError, NotFoundError
from ecs_events.actions.types import QueueMessage

MAX_BATCH = 16
MAX_DELAY = 604800


def _time(millis: Any) -> datetime | None:
    try:
        value = int(millis)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc) if value > 0 else None


def _message(m: Any) -> QueueMessage:
    body = m.message_body
    return QueueMessage(
        message_id=str(m.message_id),
        receipt_handle=str(m.receipt_handle),
        body=body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body),
        dequeue_count=int(m.dequeue_count),
        enqueue_time=_time(m.enqueue_time) or datetime.fromtimestamp(0, tz=timezone.utc),
        first_dequeue_time=_time(m.first_dequeue_time),
    )


class Queue:
    def __init__(self, client: Any, name: str) -> None:
        """``client``: the SDK's ``mns.mns_client.MNSClient`` (what ``mns.account.Account`` holds)."""
        self.client = client
        self.name = name

    def _queue(self, encoding: bool) -> Any:
        from mns.queue import Queue as SdkQueue

        queue = SdkQueue(self.name, self.client)  # what Account.get_queue builds
        queue.set_encoding(encoding)
        return queue

    def send(self, body: str, delay_seconds: int = 0, *, raw: bool = False) -> str:
        """Send ``body`` (base64 on the wire; ``raw``: as it is, e.g. a received message's wire text sent again),
        visible after ``delay_seconds`` (0..604800); the message id."""
        from mns.mns_request import SendMessageRequest, SendMessageResponse

        delay = max(0, min(int(delay_seconds), MAX_DELAY))

        def attempt() -> Any:
            # What mns.queue.Queue.send_message sends for Message(body, delay): no priority, no group, no properties.
            response = SendMessageResponse()
            self.client.send_message(SendMessageRequest(self.name, body, delay, -1, not raw), response)
            return response

        return str(retry.call(attempt, what="Mns.SendMessage").message_id)

    def receive(self, batch: int = MAX_BATCH, wait_seconds: int = 0) -> list[QueueMessage]:
        """Up to ``batch`` (1..16) visible messages, waiting up to ``wait_seconds`` (0..30) for one; [] if none."""
        count = max(1, min(batch, MAX_BATCH))
        try:
            got = retry.call(
                lambda: self._queue(False).batch_receive_message(count, wait_seconds), what="Mns.BatchReceiveMessage"
            )
        except NotFoundError as err:
            if err.code == "MessageNotExist":
                return []
            raise
        return [_message(m) for m in got]

    def delete(self, handles: Iterable[str]) -> list[str]:
        """Delete by receipt handle, 16 per call; the handles that could not be deleted (expired, already gone)."""
        failed: list[str] = []
        todo = list(handles)
        for start in range(0, len(todo), MAX_BATCH):
            chunk = todo[start : start + MAX_BATCH]
            failed.extend(retry.call(functools.partial(self._delete, chunk), what="Mns.BatchDeleteMessage"))
        return failed

    def _delete(self, handles: list[str]) -> list[str]:
        """One BatchDeleteMessage; a partial failure (sub-errors per handle) is a result, not an exception."""
        from mns.mns_exception import MNSServerException

        try:
            self._queue(False).batch_delete_message(handles)
        except MNSServerException as exc:
            if not exc.sub_errors:
                raise
            return [str(e.get("ReceiptHandle", "")) for e in exc.sub_errors]
        return []

    def change_visibility(self, handle: str, seconds: int) -> str:
        """Make the message visible again in ``seconds`` (0..43200); the new receipt handle."""
        changed = retry.call(
            lambda: self._queue(False).change_message_visibility(handle, int(seconds)),
            what="Mns.ChangeMessageVisibility",
        )
        return str(changed.receipt_handle)

    def ensure(self) -> None:
        """Create the queue if it does not exist (default attributes); an existing queue is left as it is."""
        from mns.queue import QueueMeta

        try:
            self._attributes()
            return
        except NotFoundError as err:
            if err.code != "QueueNotExist":
                raise
        try:
            retry.call(lambda: self._queue(False).create(QueueMeta()), what="Mns.CreateQueue")
        except CloudCallError as err:
            if err.code != "QueueAlreadyExist":  # created meanwhile by someone else, with other attributes
                raise

    def peek_counts(self) -> tuple[int, int, int]:
        """(active, inactive, delayed) message counts from GetQueueAttributes."""
        meta = self._attributes()  # the response's plain fields (QueueMeta marks the counters deprecated)
        return int(meta.active_messages), int(meta.inactive_messages), int(meta.delay_messages)

    def retention(self) -> int:
        """The queue's MessageRetentionPeriod in seconds (MNS deletes a message that long after it was sent,
        delayed or not)."""
        return int(self._attributes().message_retention_period)

    def _attributes(self) -> Any:
        """The SDK's ``GetQueueAttributesResponse`` (the fields ``mns.queue.QueueMeta`` copies)."""
        from mns.mns_request import GetQueueAttributesRequest, GetQueueAttributesResponse

        def attempt() -> Any:
            response = GetQueueAttributesResponse()
            self.client.get_queue_attributes(GetQueueAttributesRequest(self.name), response)
            return response

        return retry.call(attempt, what="Mns.GetQueueAttributes")
