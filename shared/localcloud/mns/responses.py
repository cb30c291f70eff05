"""MNS REST routing and response shaping: read parameters, call the model, render the XML the SDK expects.

Routes (aliyun-mns-sdk ``mns_client.py``): ``/queues[/{q}[/messages]]``, ``/topics[/{t}[/messages |
/subscriptions[/{s}]]]`` and ``/?accountmeta=true``. Every handler takes the service condition itself (its lock),
so the long-polling receive can wait on it without blocking senders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from localcloud.errors import CloudError
from localcloud.mns import exceptions as exc
from localcloud.mns import wire
from localcloud.mns.models import (
    MAX_BATCH,
    MAX_BATCH_BYTES,
    QUEUE_RANGES,
    MessageView,
    MnsModel,
    Queue,
    SubscriptionAttributes,
    Topic,
    check_range,
    epoch_s,
)

_T = TypeVar("_T")

# Long-poll waits re-check this often, so a message made visible by an advanced clock is found promptly.
POLL_SLICE = 0.05


@dataclass(frozen=True)
class Request:
    action: str
    names: tuple[str, ...]  # queue or topic name, then subscription name
    query: dict[str, str]  # lowercased names, raw values
    headers: dict[str, str]
    body: bytes
    account_id: str


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    code: str = ""  # for the call log: the first error of a partly failed batch


def route(method: str, path: str, query: dict[str, str], body: bytes) -> tuple[str, tuple[str, ...]] | None:
    """(action, names) for a request, or None for a URL no MNS API has."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        if "accountmeta" in query:
            return {"GET": "GetAccountAttributes", "PUT": "SetAccountAttributes"}.get(method, ""), ()
        return None
    kind, rest = parts[0], tuple(parts[1:])
    if kind == "queues":
        return _queue_route(method, rest, query, body)
    if kind == "topics":
        return _topic_route(method, rest, query)
    return None


Route = tuple[str, tuple[str, ...]]


def _queue_route(method: str, rest: tuple[str, ...], query: dict[str, str], body: bytes) -> Route | None:
    if not rest:
        return ("ListQueue", ()) if method == "GET" else None
    name = rest[:1]
    if len(rest) == 1:
        if method == "PUT":
            return ("SetQueueAttributes" if "metaoverride" in query else "CreateQueue"), name
        action = {"GET": "GetQueueAttributes", "DELETE": "DeleteQueue"}.get(method)
        return (action, name) if action else None
    if len(rest) != 2 or rest[1] != "messages":
        return None
    if method == "POST":
        return ("BatchSendMessage" if wire.root_name(body) == "Messages" else "SendMessage"), name
    if method == "GET":
        batch = "numofmessages" in query
        if query.get("peekonly", "").lower() == "true":
            return ("BatchPeekMessage" if batch else "PeekMessage"), name
        return ("BatchReceiveMessage" if batch else "ReceiveMessage"), name
    if method == "DELETE":
        return ("DeleteMessage" if "receipthandle" in query else "BatchDeleteMessage"), name
    if method == "PUT":
        return "ChangeMessageVisibility", name
    return None


def _topic_route(method: str, rest: tuple[str, ...], query: dict[str, str]) -> tuple[str, tuple[str, ...]] | None:
    if not rest:
        return ("ListTopic", ()) if method == "GET" else None
    if len(rest) == 1:
        if method == "PUT":
            return ("SetTopicAttributes" if "metaoverride" in query else "CreateTopic"), rest
        action = {"GET": "GetTopicAttributes", "DELETE": "DeleteTopic"}.get(method)
        return (action, rest) if action else None
    if rest[1] == "messages" and len(rest) == 2:
        return ("PublishMessage", rest[:1]) if method == "POST" else None
    if rest[1] != "subscriptions":
        return None
    if len(rest) == 2:
        return ("ListSubscriptionByTopic", rest[:1]) if method == "GET" else None
    if len(rest) == 3:
        names = (rest[0], rest[2])
        if method == "PUT":
            return ("SetSubscriptionAttributes" if "metaoverride" in query else "Subscribe"), names
        action = {"GET": "GetSubscriptionAttributes", "DELETE": "Unsubscribe"}.get(method)
        return (action, names) if action else None
    return None


def _queue_values(body: bytes, root: str) -> dict[str, int | bool]:
    """QueueAttributes fields given in a ``<Queue>`` body (absent elements keep their defaults)."""
    values: dict[str, int | bool] = {}
    if not body.strip():
        return values
    given = wire.fields(wire.parse(body, root))
    for element, (name, *_rest) in QUEUE_RANGES.items():
        number = wire.int_value(given, element)
        if number is not None:
            values[name] = number
    logging = wire.bool_value(given, "LoggingEnabled")
    if logging is not None:
        values["logging_enabled"] = logging
    return values


def _topic_values(body: bytes) -> dict[str, int | bool]:
    values: dict[str, int | bool] = {}
    if not body.strip():
        return values
    given = wire.fields(wire.parse(body, "Topic"))
    size = wire.int_value(given, "MaximumMessageSize")
    if size is not None:
        values["maximum_message_size"] = size
    logging = wire.bool_value(given, "LoggingEnabled")
    if logging is not None:
        values["logging_enabled"] = logging
    return values


class MnsResponses:
    def __init__(self, model: MnsModel, cond: threading.Condition) -> None:
        self.model = model
        self.cond = cond
        self.logging_buckets: dict[str, str] = {}

    def dispatch(self, req: Request) -> Response:
        handler: Callable[[Request], Response] = getattr(self, "_" + req.action)
        return handler(req)

    # -- account --
    def _GetAccountAttributes(self, req: Request) -> Response:
        bucket = self.logging_buckets.get(req.account_id, "")
        return Response(200, wire.document("Account", [("LoggingBucket", bucket)]))

    def _SetAccountAttributes(self, req: Request) -> Response:
        given = wire.fields(wire.parse(req.body, "Account"))
        self.logging_buckets[req.account_id] = given.get("LoggingBucket", "")
        return Response(204)

    # -- queues --
    def _CreateQueue(self, req: Request) -> Response:
        values = _queue_values(req.body, "Queue")
        with self.cond:
            queue, created = self.model.create_queue(req.account_id, req.names[0], values)
        return Response(201 if created else 204, headers={"Location": queue.url})

    def _SetQueueAttributes(self, req: Request) -> Response:
        values = _queue_values(req.body, "Queue")
        with self.cond:
            self.model.set_queue_attributes(req.account_id, req.names[0], values)
            self.cond.notify_all()  # a shorter delay or visibility may wake a waiting receiver
        return Response(204)

    def _GetQueueAttributes(self, req: Request) -> Response:
        with self.cond:
            queue = self._queue(req)
            counts = queue.counts(self.model.now())
            a = queue.attrs
            values: wire.Fields = [
                ("QueueName", queue.name),
                ("CreateTime", epoch_s(queue.create_time)),
                ("LastModifyTime", epoch_s(queue.last_modify_time)),
                ("VisibilityTimeout", a.visibility_timeout),
                ("MaximumMessageSize", a.maximum_message_size),
                ("MessageRetentionPeriod", a.message_retention_period),
                ("DelaySeconds", a.delay_seconds),
                ("PollingWaitSeconds", a.polling_wait_seconds),
                ("ActiveMessages", counts.active),
                ("InactiveMessages", counts.inactive),
                ("DelayMessages", counts.delayed),
                ("LoggingEnabled", a.logging_enabled),
            ]
        return Response(200, wire.document("Queue", values))

    def _DeleteQueue(self, req: Request) -> Response:
        with self.cond:
            self.model.delete_queue(req.account_id, req.names[0])
            self.cond.notify_all()
        return Response(204)

    def _ListQueue(self, req: Request) -> Response:
        with self.cond:
            queues = sorted(self.model.account(req.account_id).queues.values(), key=lambda q: q.name)
            page, marker = self._page(req, queues, lambda q: q.name)
            with_meta = req.headers.get("x-mns-with-meta", "").lower() == "true"
            entries = [self._queue_entry(q, with_meta) for q in page]
        tail: wire.Fields = [("NextMarker", marker)] if marker else []
        return Response(200, wire.list_document("Queues", "Queue", entries, tail))

    def _queue_entry(self, q: Queue, with_meta: bool) -> wire.Fields:
        entry: list[tuple[str, object]] = [("QueueURL", q.url)]
        if with_meta:
            counts = q.counts(self.model.now())
            entry += [
                ("QueueName", q.name),
                ("CreateTime", epoch_s(q.create_time)),
                ("LastModifyTime", epoch_s(q.last_modify_time)),
                ("VisibilityTimeout", q.attrs.visibility_timeout),
                ("MaximumMessageSize", q.attrs.maximum_message_size),
                ("MessageRetentionPeriod", q.attrs.message_retention_period),
                ("DelaySeconds", q.attrs.delay_seconds),
                ("PollingWaitSeconds", q.attrs.polling_wait_seconds),
                ("ActiveMessages", counts.active),
                ("InactiveMessages", counts.inactive),
                ("DelayMessages", counts.delayed),
                ("LoggingEnabled", q.attrs.logging_enabled),
            ]
        return entry

    @staticmethod
    def _page(req: Request, rows: list[_T], key: Callable[[_T], str]) -> tuple[list[_T], str]:
        prefix = req.headers.get("x-mns-prefix", "")
        marker = req.headers.get("x-mns-marker", "")
        raw_number = req.headers.get("x-mns-ret-number", "1000")
        try:
            number = int(raw_number)
        except ValueError as err:
            raise exc.invalid_argument(f"The value of x-mns-ret-number should be an integer: {raw_number!r}.") from err
        check_range("x-mns-ret-number", number, 1, 1000, "")
        selected = [r for r in rows if key(r).startswith(prefix) and key(r) >= marker]
        page = selected[:number]
        return page, key(selected[number]) if len(selected) > number else ""

    # -- messages --
    def _SendMessage(self, req: Request) -> Response:
        given = wire.fields(wire.parse(req.body, "Message"))
        with self.cond:
            view = self.model.send(
                req.account_id,
                req.names[0],
                given.get("MessageBody"),
                wire.int_value(given, "DelaySeconds"),
                wire.int_value(given, "Priority"),
            )
            self.cond.notify_all()
        values: wire.Fields = [("MessageId", view.message_id), ("MessageBodyMD5", view.body_md5)]
        return Response(201, wire.document("Message", values))

    def _BatchSendMessage(self, req: Request) -> Response:
        """The whole request is refused (nothing sent) over 16 messages or over 64 KB of bodies in total (counted
        as sent, i.e. base64 text when the SDK encodes). The real service documents the 64 KB total; the code and
        message are our assumption, in the style of its single-message limit: 400 InvalidArgument."""
        entries = wire.items(wire.parse(req.body, "Messages"), "Message")
        if not 1 <= len(entries) <= MAX_BATCH:
            raise exc.invalid_argument(f"The count of message in batch request should between 1 and {MAX_BATCH}.")
        total = sum(len(wire.fields(e).get("MessageBody", "").encode("utf-8")) for e in entries)
        if total > MAX_BATCH_BYTES:
            raise exc.invalid_argument(
                f"The total length of MessageBody in batch request should not exceed {MAX_BATCH_BYTES} bytes."
            )
        results: list[wire.Fields] = []
        with self.cond:
            self._queue(req)
            for entry in entries:
                given = wire.fields(entry)
                try:
                    view = self.model.send(
                        req.account_id,
                        req.names[0],
                        given.get("MessageBody"),
                        wire.int_value(given, "DelaySeconds"),
                        wire.int_value(given, "Priority"),
                    )
                except CloudError as err:
                    results.append([("ErrorCode", err.code), ("ErrorMessage", err.message)])
                else:
                    results.append([("MessageId", view.message_id), ("MessageBodyMD5", view.body_md5)])
            self.cond.notify_all()
        first_error = next((str(r[0][1]) for r in results if r[0][0] == "ErrorCode"), "")
        payload = wire.list_document("Messages", "Message", results)
        return Response(400 if first_error else 201, payload, code=first_error)

    def _ReceiveMessage(self, req: Request) -> Response:
        views = self._receive(req, 1)
        return Response(200, wire.document("Message", wire.received_fields(views[0])))

    def _BatchReceiveMessage(self, req: Request) -> Response:
        count = wire.query_int(req.query, "numofmessages", "numOfMessages") or 0
        check_range("numOfMessages", count, 1, MAX_BATCH, "")
        views = self._receive(req, count)
        return Response(200, wire.list_document("Messages", "Message", [wire.received_fields(v) for v in views]))

    def _receive(self, req: Request, count: int) -> list[MessageView]:
        """Long poll: wait (for real, up to waitseconds) on the condition; senders notify it. The wait releases
        the lock, and re-checks in short slices so messages made visible by the cloud clock are seen too."""
        wait = wire.query_int(req.query, "waitseconds", "waitseconds")
        if wait is not None:
            check_range("waitseconds", wait, 0, 30)
        with self.cond:
            queue = self._queue(req)
            seconds = queue.attrs.polling_wait_seconds if wait is None else wait
            deadline = time.monotonic() + seconds
            while True:
                if queue.deleted:
                    raise exc.queue_not_exist()
                views = queue.receive(count, self.model.now())
                if views:
                    return views
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise exc.message_not_exist()
                self.cond.wait(min(remaining, POLL_SLICE))

    def _PeekMessage(self, req: Request) -> Response:
        with self.cond:
            views = self._queue(req).peek(1, self.model.now())
        if not views:
            raise exc.message_not_exist()
        return Response(200, wire.document("Message", wire.peeked_fields(views[0])))

    def _BatchPeekMessage(self, req: Request) -> Response:
        count = wire.query_int(req.query, "numofmessages", "numOfMessages") or 0
        check_range("numOfMessages", count, 1, MAX_BATCH, "")
        with self.cond:
            views = self._queue(req).peek(count, self.model.now())
        if not views:
            raise exc.message_not_exist()
        return Response(200, wire.list_document("Messages", "Message", [wire.peeked_fields(v) for v in views]))

    def _DeleteMessage(self, req: Request) -> Response:
        handle = req.query.get("receipthandle", "")
        if not handle:
            raise exc.receipt_handle_error()
        with self.cond:
            self._queue(req).delete(handle, self.model.now())
        return Response(204)

    def _BatchDeleteMessage(self, req: Request) -> Response:
        handles = [e.text or "" for e in wire.items(wire.parse(req.body, "ReceiptHandles"), "ReceiptHandle")]
        if not 1 <= len(handles) <= MAX_BATCH:
            raise exc.invalid_argument(f"The count of ReceiptHandle in batch request should between 1 and {MAX_BATCH}.")
        errors: list[wire.Fields] = []
        with self.cond:
            queue = self._queue(req)
            now = self.model.now()
            for handle in handles:
                try:
                    queue.delete(handle, now)
                except CloudError as err:
                    errors.append([("ErrorCode", err.code), ("ErrorMessage", err.message), ("ReceiptHandle", handle)])
        if errors:
            return Response(404, wire.list_document("Errors", "Error", errors), code=str(errors[0][0][1]))
        return Response(204)

    def _ChangeMessageVisibility(self, req: Request) -> Response:
        handle = req.query.get("receipthandle", "")
        if not handle:
            raise exc.receipt_handle_error()
        seconds = wire.query_int(req.query, "visibilitytimeout", "VisibilityTimeout")
        if seconds is None:
            raise CloudError("MissingVisibilityTimeout", "VisibilityTimeout is required.", 400)
        with self.cond:
            view = self._queue(req).change_visibility(handle, seconds, self.model.now())
            self.cond.notify_all()
        values: wire.Fields = [("ReceiptHandle", view.receipt_handle), ("NextVisibleTime", view.next_visible_time)]
        return Response(200, wire.document("ChangeVisibility", values))

    # -- topics --
    def _CreateTopic(self, req: Request) -> Response:
        values = _topic_values(req.body)
        with self.cond:
            topic, created = self.model.create_topic(req.account_id, req.names[0], values)
        return Response(201 if created else 204, headers={"Location": topic.url})

    def _SetTopicAttributes(self, req: Request) -> Response:
        values = _topic_values(req.body)
        with self.cond:
            self.model.set_topic_attributes(req.account_id, req.names[0], values)
        return Response(204)

    def _GetTopicAttributes(self, req: Request) -> Response:
        with self.cond:
            topic = self._topic(req)
            values: wire.Fields = [
                ("TopicName", topic.name),
                ("CreateTime", epoch_s(topic.create_time)),
                ("LastModifyTime", epoch_s(topic.last_modify_time)),
                ("MaximumMessageSize", topic.attrs.maximum_message_size),
                ("MessageRetentionPeriod", topic.attrs.message_retention_period),
                ("MessageCount", topic.message_count(self.model.now())),
                ("LoggingEnabled", topic.attrs.logging_enabled),
            ]
        return Response(200, wire.document("Topic", values))

    def _DeleteTopic(self, req: Request) -> Response:
        with self.cond:
            self.model.delete_topic(req.account_id, req.names[0])
        return Response(204)

    def _ListTopic(self, req: Request) -> Response:
        with self.cond:
            topics = sorted(self.model.account(req.account_id).topics.values(), key=lambda t: t.name)
            page, marker = self._page(req, topics, lambda t: t.name)
            with_meta = req.headers.get("x-mns-with-meta", "").lower() == "true"
            entries: list[wire.Fields] = []
            for t in page:
                entry: list[tuple[str, object]] = [("TopicURL", t.url)]
                if with_meta:
                    entry += [
                        ("TopicName", t.name),
                        ("CreateTime", epoch_s(t.create_time)),
                        ("LastModifyTime", epoch_s(t.last_modify_time)),
                        ("MaximumMessageSize", t.attrs.maximum_message_size),
                        ("MessageRetentionPeriod", t.attrs.message_retention_period),
                        ("MessageCount", t.message_count(self.model.now())),
                        ("LoggingEnabled", t.attrs.logging_enabled),
                    ]
                entries.append(entry)
        tail: wire.Fields = [("NextMarker", marker)] if marker else []
        return Response(200, wire.list_document("Topics", "Topic", entries, tail))

    def _PublishMessage(self, req: Request) -> Response:
        given = wire.fields(wire.parse(req.body, "Message"))
        body = given.get("MessageBody")
        if body is None:
            raise exc.schema_error("MessageBody")
        with self.cond:
            published = self.model.publish(req.account_id, req.names[0], body, given.get("MessageTag", ""))
            self.cond.notify_all()
        values: wire.Fields = [("MessageId", published.message_id), ("MessageBodyMD5", published.body_md5)]
        return Response(201, wire.document("Message", values))

    def _Subscribe(self, req: Request) -> Response:
        given = wire.fields(wire.parse(req.body, "Subscription"))
        endpoint = given.get("Endpoint", "").strip()
        if not endpoint:
            raise exc.schema_error("Endpoint")
        attrs = SubscriptionAttributes(
            endpoint=endpoint,
            notify_strategy=given.get("NotifyStrategy") or "BACKOFF_RETRY",
            notify_content_format=given.get("NotifyContentFormat") or "XML",
            filter_tag=given.get("FilterTag", ""),
        )
        with self.cond:
            topic = self._topic(req)
            created = topic.subscribe(req.names[1], attrs, self.model.now())
            url = topic.subscriptions[req.names[1]].url
        return Response(201 if created else 204, headers={"Location": url})

    def _SetSubscriptionAttributes(self, req: Request) -> Response:
        given = wire.fields(wire.parse(req.body, "Subscription"))
        with self.cond:
            sub = self._topic(req).subscription(req.names[1])
            strategy = given.get("NotifyStrategy") or sub.attrs.notify_strategy
            if strategy not in ("BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"):
                raise exc.invalid_argument(f"The NotifyStrategy you provided is not valid: {strategy}.")
            sub.attrs = SubscriptionAttributes(
                sub.attrs.endpoint, strategy, sub.attrs.notify_content_format, sub.attrs.filter_tag
            )
            sub.last_modify_time = self.model.now()
        return Response(204)

    def _GetSubscriptionAttributes(self, req: Request) -> Response:
        with self.cond:
            sub = self._topic(req).subscription(req.names[1])
            values: list[tuple[str, object]] = [
                ("TopicOwner", sub.topic_owner),
                ("TopicName", sub.topic_name),
                ("SubscriptionName", sub.name),
                ("Endpoint", sub.attrs.endpoint),
                ("NotifyStrategy", sub.attrs.notify_strategy),
                ("NotifyContentFormat", sub.attrs.notify_content_format),
                ("CreateTime", epoch_s(sub.create_time)),
                ("LastModifyTime", epoch_s(sub.last_modify_time)),
            ]
            if sub.attrs.filter_tag:
                values.append(("FilterTag", sub.attrs.filter_tag))
        return Response(200, wire.document("Subscription", values))

    def _Unsubscribe(self, req: Request) -> Response:
        with self.cond:
            self._topic(req).subscriptions.pop(req.names[1], None)
        return Response(204)

    def _ListSubscriptionByTopic(self, req: Request) -> Response:
        with self.cond:
            subs = sorted(self._topic(req).subscriptions.values(), key=lambda s: s.name)
            page, marker = self._page(req, subs, lambda s: s.name)
            entries: list[wire.Fields] = [[("SubscriptionURL", s.url)] for s in page]
        tail: wire.Fields = [("NextMarker", marker)] if marker else []
        return Response(200, wire.list_document("Subscriptions", "Subscription", entries, tail))

    # -- lookups (under the lock) --
    def _queue(self, req: Request) -> Queue:
        return self.model.account(req.account_id).queue(req.names[0])

    def _topic(self, req: Request) -> Topic:
        return self.model.account(req.account_id).topic(req.names[0])
