"""MNS state and its transitions: queues and their messages, topics and their subscriptions, per account.

Time is the cloud clock's: a message is *delayed* until ``visible_at`` after a send with DelaySeconds, *active*
when ``visible_at <= now``, *inactive* (invisible) after a receive until its visibility timeout ends, and dropped
once its retention period has passed since it was enqueued. Nothing here blocks or locks: ``MnsService`` calls
into these objects under its own condition variable (which long-polling receivers wait on).

Receipt handles: every receive and every ChangeMessageVisibility issues a new handle and makes the previous one
invalid. A handle that does not parse, or was not issued by this queue -> ReceiptHandleError; the message is gone,
or the handle's visibility window has ended (the message went back to active) -> MessageNotExist (what real MNS
answers, see "message not exist appears when you delete a message"); a handle that was replaced by a later one
while its window is still open -> ReceiptHandleError.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from localcloud.mns import exceptions as exc

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,255}$")
QUEUE_ENDPOINT_RE = re.compile(r"^acs:mns:(?P<region>[^:]+):(?P<account>[^:]+):/?queues/(?P<queue>[^/]+)$")
MAX_BATCH = 16
# BatchSendMessage: at most 64 KB of message bodies in one request, whatever each queue's MaximumMessageSize.
MAX_BATCH_BYTES = 65536
DEFAULT_PRIORITY = 8
NOTIFY_FORMATS = ("XML", "JSON", "SIMPLIFIED")
NOTIFY_STRATEGIES = ("BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY")
XMLNS = "http://mns.aliyuncs.com/doc/v1/"


def epoch_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def epoch_s(when: datetime) -> int:
    return int(when.timestamp())


def body_md5(body: str) -> str:
    """MessageBodyMD5 / MessageMD5: uppercase hex MD5 of the body text as it travels in the XML."""
    return hashlib.md5(body.encode("utf-8")).hexdigest().upper()


def check_name(name: str, kind: str) -> None:
    if not NAME_RE.match(name):
        raise exc.invalid_argument(
            f"The {kind} name you provided is not valid: it must start with a letter and contain only letters, "
            "digits and hyphens, at most 256 characters."
        )


def check_range(element: str, value: int, low: int, high: int, unit: str = "seconds") -> int:
    if not low <= value <= high:
        raise exc.out_of_range(element, low, high, unit)
    return value


# -- queues --------------------------------------------------------------------------------------------------------


# wire element -> (QueueAttributes field, low, high, unit)
QUEUE_RANGES: dict[str, tuple[str, int, int, str]] = {
    "VisibilityTimeout": ("visibility_timeout", 1, 43200, "seconds"),
    "MaximumMessageSize": ("maximum_message_size", 1024, 65536, "bytes"),
    "MessageRetentionPeriod": ("message_retention_period", 60, 604800, "seconds"),
    "DelaySeconds": ("delay_seconds", 0, 604800, "seconds"),
    "PollingWaitSeconds": ("polling_wait_seconds", 0, 30, "seconds"),
}


@dataclass(frozen=True)
class QueueAttributes:
    visibility_timeout: int = 30
    maximum_message_size: int = 65536
    message_retention_period: int = 345600
    delay_seconds: int = 0
    polling_wait_seconds: int = 0
    logging_enabled: bool = False

    def merged(self, values: Mapping[str, int | bool]) -> QueueAttributes:
        """A copy with the given fields (python names) changed, each checked against its range."""
        for element, (name, low, high, unit) in QUEUE_RANGES.items():
            value = values.get(name)
            if value is not None:
                check_range(element, int(value), low, high, unit)
        return replace(self, **values)  # type: ignore[arg-type]


@dataclass
class Message:
    seq: int
    message_id: str
    body: str
    body_md5: str
    priority: int
    enqueue_time: datetime
    visible_at: datetime
    dequeue_count: int = 0
    first_dequeue_time: datetime | None = None
    receipt_handle: str = ""


@dataclass(frozen=True)
class MessageView:
    """A message as one response shows it (a snapshot, safe to render after the lock is released)."""

    message_id: str
    body: str
    body_md5: str
    priority: int
    enqueue_time: int  # ms
    first_dequeue_time: int  # ms; 0 if never received
    dequeue_count: int
    next_visible_time: int  # ms
    receipt_handle: str = ""

    @staticmethod
    def of(m: Message) -> MessageView:
        first = m.first_dequeue_time
        return MessageView(
            message_id=m.message_id,
            body=m.body,
            body_md5=m.body_md5,
            priority=m.priority,
            enqueue_time=epoch_ms(m.enqueue_time),
            first_dequeue_time=epoch_ms(first) if first is not None else 0,
            dequeue_count=m.dequeue_count,
            next_visible_time=epoch_ms(m.visible_at),
            receipt_handle=m.receipt_handle,
        )


@dataclass(frozen=True)
class QueueCounts:
    active: int
    inactive: int
    delayed: int


class Queue:
    def __init__(
        self, uid: int, account_id: str, region_id: str, name: str, *, attrs: QueueAttributes, now: datetime
    ) -> None:
        self.uid = uid
        self.account_id = account_id
        self.region_id = region_id
        self.name = name
        self.attrs = attrs
        self.create_time = now
        self.last_modify_time = now
        self.messages: dict[int, Message] = {}
        self._handle_serial = 0
        self.deleted = False

    @property
    def url(self) -> str:
        return f"http://{self.account_id}.mns.{self.region_id}.aliyuncs.com/queues/{self.name}"

    # -- state upkeep --
    def purge_expired(self, now: datetime) -> None:
        ttl = timedelta(seconds=self.attrs.message_retention_period)
        for seq in [s for s, m in self.messages.items() if m.enqueue_time + ttl <= now]:
            del self.messages[seq]

    def counts(self, now: datetime) -> QueueCounts:
        self.purge_expired(now)
        active = inactive = delayed = 0
        for m in self.messages.values():
            if m.visible_at <= now:
                active += 1
            elif m.dequeue_count == 0:
                delayed += 1
            else:
                inactive += 1
        return QueueCounts(active, inactive, delayed)

    # -- messages --
    def check_message(self, body: str | None, delay_seconds: int | None, priority: int | None) -> tuple[str, int, int]:
        if body is None or body == "":
            raise exc.schema_error("MessageBody")
        size = len(body.encode("utf-8"))
        if size > self.attrs.maximum_message_size:
            raise exc.invalid_argument(
                f"The length of MessageBody should between 1 and {self.attrs.maximum_message_size} bytes."
            )
        delay = self.attrs.delay_seconds
        if delay_seconds is not None:
            delay = check_range("DelaySeconds", delay_seconds, 0, 604800)
        prio = DEFAULT_PRIORITY if priority is None else check_range("Priority", priority, 1, 16, "")
        return body, delay, prio

    def add(self, seq: int, message_id: str, body: str, *, delay: int, priority: int, now: datetime) -> MessageView:
        m = Message(
            seq=seq,
            message_id=message_id,
            body=body,
            body_md5=body_md5(body),
            priority=priority,
            enqueue_time=now,
            visible_at=now + timedelta(seconds=delay),
        )
        self.messages[seq] = m
        return MessageView.of(m)

    def _candidates(self, now: datetime) -> list[Message]:
        self.purge_expired(now)
        ready = [m for m in self.messages.values() if m.visible_at <= now]
        ready.sort(key=lambda m: (m.priority, m.seq))
        return ready

    def receive(self, count: int, now: datetime) -> list[MessageView]:
        out = []
        for m in self._candidates(now)[:count]:
            m.dequeue_count += 1
            if m.first_dequeue_time is None:
                m.first_dequeue_time = now
            m.visible_at = now + timedelta(seconds=self.attrs.visibility_timeout)
            m.receipt_handle = self._new_handle(m)
            out.append(MessageView.of(m))
        return out

    def peek(self, count: int, now: datetime) -> list[MessageView]:
        return [MessageView.of(m) for m in self._candidates(now)[:count]]

    def delete(self, handle: str, now: datetime) -> None:
        m = self._resolve(handle, now)
        del self.messages[m.seq]

    def change_visibility(self, handle: str, seconds: int, now: datetime) -> MessageView:
        check_range("VisibilityTimeout", seconds, 0, 43200)
        m = self._resolve(handle, now)
        m.visible_at = now + timedelta(seconds=seconds)
        m.receipt_handle = self._new_handle(m)
        return MessageView.of(m)

    # -- receipt handles --
    def _new_handle(self, m: Message) -> str:
        self._handle_serial += 1
        raw = f"{self.uid}-{m.seq}-{self._handle_serial}-{epoch_ms(m.visible_at)}"
        return "1-" + base64.b64encode(raw.encode()).decode()

    def _resolve(self, handle: str, now: datetime) -> Message:
        parsed = self._parse_handle(handle)
        if parsed is None or parsed[0] != self.uid:
            raise exc.receipt_handle_error()
        _, seq, expires_ms = parsed
        self.purge_expired(now)
        m = self.messages.get(seq)
        if m is None or expires_ms <= epoch_ms(now):
            raise exc.message_not_exist()
        if m.receipt_handle != handle:
            raise exc.receipt_handle_error()
        return m

    @staticmethod
    def _parse_handle(handle: str) -> tuple[int, int, int] | None:
        if not handle.startswith("1-"):
            return None
        try:
            raw = base64.b64decode(handle[2:], validate=True).decode("ascii")
            uid, seq, _serial, expires = (int(p) for p in raw.split("-"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return uid, seq, expires


# -- topics --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionAttributes:
    endpoint: str
    notify_strategy: str = "BACKOFF_RETRY"
    notify_content_format: str = "XML"
    filter_tag: str = ""


@dataclass
class Subscription:
    topic_owner: str
    topic_name: str
    name: str
    attrs: SubscriptionAttributes
    create_time: datetime
    last_modify_time: datetime
    region_id: str

    @property
    def url(self) -> str:
        return f"http://{self.topic_owner}.mns.{self.region_id}.aliyuncs.com/topics/{self.topic_name}/subscriptions/{self.name}"

    def queue_target(self) -> tuple[str, str, str] | None:
        """(region, account, queue) for a queue endpoint; None for HTTP / mail / SMS endpoints (not delivered)."""
        endpoint = self.attrs.endpoint
        match = QUEUE_ENDPOINT_RE.match(endpoint)
        if match:
            return match["region"], match["account"], match["queue"]
        if NAME_RE.match(endpoint):
            return self.region_id, self.topic_owner, endpoint
        return None


def check_endpoint(endpoint: str) -> None:
    if QUEUE_ENDPOINT_RE.match(endpoint) or NAME_RE.match(endpoint):
        return
    if endpoint.startswith(("http://", "https://", "mail:directmail:", "sms:directsms:")):
        return
    raise exc.invalid_argument(f"The Endpoint you provided is not valid: {endpoint}.")


@dataclass(frozen=True)
class TopicAttributes:
    maximum_message_size: int = 65536
    logging_enabled: bool = False
    message_retention_period: int = 86400


@dataclass(frozen=True)
class Published:
    message_id: str
    body_md5: str


@dataclass(frozen=True)
class Delivery:
    """One copy of a published message bound for a subscriber's queue."""

    region_id: str
    account_id: str
    queue_name: str
    body: str


@dataclass
class Topic:
    account_id: str
    region_id: str
    name: str
    attrs: TopicAttributes
    create_time: datetime
    last_modify_time: datetime
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    publish_times: list[datetime] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.account_id}.mns.{self.region_id}.aliyuncs.com/topics/{self.name}"

    def message_count(self, now: datetime) -> int:
        ttl = timedelta(seconds=self.attrs.message_retention_period)
        self.publish_times = [t for t in self.publish_times if t + ttl > now]
        return len(self.publish_times)

    def subscribe(self, name: str, attrs: SubscriptionAttributes, now: datetime) -> bool:
        """True if created, False if it already exists with the same attributes."""
        check_name(name, "subscription")
        check_endpoint(attrs.endpoint)
        if attrs.notify_content_format not in NOTIFY_FORMATS:
            fmt = attrs.notify_content_format
            raise exc.invalid_argument(f"The NotifyContentFormat you provided is not valid: {fmt}.")
        if attrs.notify_strategy not in NOTIFY_STRATEGIES:
            raise exc.invalid_argument(f"The NotifyStrategy you provided is not valid: {attrs.notify_strategy}.")
        if len(attrs.filter_tag) > 16:
            raise exc.invalid_argument("The length of FilterTag should between 1 and 16.")
        existing = self.subscriptions.get(name)
        if existing is not None:
            if existing.attrs == attrs:
                return False
            raise exc.subscription_already_exist()
        self.subscriptions[name] = Subscription(self.account_id, self.name, name, attrs, now, now, self.region_id)
        return True

    def subscription(self, name: str) -> Subscription:
        found = self.subscriptions.get(name)
        if found is None:
            raise exc.subscription_not_exist()
        return found

    def publish(self, message_id: str, body: str, tag: str, now: datetime) -> tuple[Published, list[Delivery]]:
        if body == "":
            raise exc.schema_error("MessageBody")
        if len(body.encode("utf-8")) > self.attrs.maximum_message_size:
            raise exc.invalid_argument(
                f"The length of MessageBody should between 1 and {self.attrs.maximum_message_size} bytes."
            )
        if len(tag) > 16:
            raise exc.invalid_argument("The length of MessageTag should between 1 and 16.")
        md5 = body_md5(body)
        self.publish_times.append(now)
        deliveries = []
        for sub in self.subscriptions.values():
            target = sub.queue_target()
            if target is None or (sub.attrs.filter_tag and sub.attrs.filter_tag != tag):
                continue
            region, account, queue = target
            payload = notification_body(sub, message_id, body, md5=md5, tag=tag, now=now)
            deliveries.append(Delivery(region, account, queue, payload))
        return Published(message_id, md5), deliveries


def notification_body(sub: Subscription, message_id: str, body: str, *, md5: str, tag: str, now: datetime) -> str:
    """What a queue subscriber receives, per NotifyContentFormat."""
    fmt = sub.attrs.notify_content_format
    if fmt == "SIMPLIFIED":
        return body
    subscriber = sub.queue_target()
    fields: dict[str, str | int] = {
        "TopicOwner": sub.topic_owner,
        "TopicName": sub.topic_name,
        "Subscriber": subscriber[1] if subscriber else sub.topic_owner,
        "SubscriptionName": sub.name,
        "MessageId": message_id,
        "MessageMD5": md5,
    }
    if tag:
        fields["MessageTag"] = tag
    fields["Message"] = body
    fields["PublishTime"] = epoch_ms(now)
    if fmt == "JSON":
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    return f'<?xml version="1.0" encoding="utf-8"?><Notification xmlns="{XMLNS}">{inner}</Notification>'


# -- per account and the whole service -----------------------------------------------------------------------------


class MnsIds:
    """Request ids, message ids and queue uids: deterministic from the seed, independent of the ECS id stream."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._rng = random.Random(f"mns-{self._seed}")
            self._seq = 0
            self._uid = 0

    def request_id(self) -> str:
        with self._lock:
            return f"{self._rng.getrandbits(96):024X}"

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def next_uid(self) -> int:
        with self._lock:
            self._uid += 1
            return self._uid

    def message_id(self, seq: int, now: datetime) -> str:
        with self._lock:
            host = self._rng.getrandbits(64)
        return f"{host:016X}-1-{epoch_ms(now):X}-{seq:09d}"


class Account:
    """One account's queues and topics in this region."""

    def __init__(self, account_id: str, region_id: str) -> None:
        self.account_id = account_id
        self.region_id = region_id
        self.queues: dict[str, Queue] = {}
        self.topics: dict[str, Topic] = {}

    def queue(self, name: str) -> Queue:
        found = self.queues.get(name)
        if found is None:
            raise exc.queue_not_exist()
        return found

    def topic(self, name: str) -> Topic:
        found = self.topics.get(name)
        if found is None:
            raise exc.topic_not_exist()
        return found


class MnsModel:
    """Every account's state plus the transitions that span accounts (topic fan-out). Not thread-safe by itself."""

    def __init__(self, region_id: str, clock: Callable[[], datetime], ids: MnsIds) -> None:
        self.region_id = region_id
        self.now = clock
        self.ids = ids
        self.accounts: dict[str, Account] = {}

    def account(self, account_id: str) -> Account:
        acct = self.accounts.get(account_id)
        if acct is None:
            acct = self.accounts[account_id] = Account(account_id, self.region_id)
        return acct

    # -- queues --
    def create_queue(self, account_id: str, name: str, values: Mapping[str, int | bool]) -> tuple[Queue, bool]:
        """(queue, created). Same attributes as an existing queue -> (queue, False); different -> QueueAlreadyExist."""
        check_name(name, "queue")
        attrs = QueueAttributes().merged(values)
        acct = self.account(account_id)
        existing = acct.queues.get(name)
        if existing is not None:
            if existing.attrs == attrs:
                return existing, False
            raise exc.queue_already_exist()
        queue = Queue(self.ids.next_uid(), account_id, self.region_id, name, attrs=attrs, now=self.now())
        acct.queues[name] = queue
        return queue, True

    def set_queue_attributes(self, account_id: str, name: str, values: Mapping[str, int | bool]) -> None:
        queue = self.account(account_id).queue(name)
        queue.attrs = queue.attrs.merged(values)
        queue.last_modify_time = self.now()

    def delete_queue(self, account_id: str, name: str) -> None:
        queue = self.account(account_id).queues.pop(name, None)
        if queue is not None:
            queue.deleted = True

    def send(
        self, account_id: str, name: str, body: str | None, delay: int | None = None, priority: int | None = None
    ) -> MessageView:
        queue = self.account(account_id).queue(name)
        text, delay_s, prio = queue.check_message(body, delay, priority)
        return self._enqueue(queue, text, delay_s, prio)

    def _enqueue(self, queue: Queue, body: str, delay: int, priority: int) -> MessageView:
        now = self.now()
        seq = self.ids.next_seq()
        return queue.add(seq, self.ids.message_id(seq, now), body, delay=delay, priority=priority, now=now)

    # -- topics --
    def create_topic(self, account_id: str, name: str, values: Mapping[str, int | bool]) -> tuple[Topic, bool]:
        check_name(name, "topic")
        attrs = replace(TopicAttributes(), **values)  # type: ignore[arg-type]
        check_range("MaximumMessageSize", attrs.maximum_message_size, 1024, 65536, "bytes")
        acct = self.account(account_id)
        existing = acct.topics.get(name)
        if existing is not None:
            if existing.attrs == attrs:
                return existing, False
            raise exc.topic_already_exist()
        now = self.now()
        topic = Topic(account_id, self.region_id, name, attrs, now, now)
        acct.topics[name] = topic
        return topic, True

    def set_topic_attributes(self, account_id: str, name: str, values: Mapping[str, int | bool]) -> None:
        topic = self.account(account_id).topic(name)
        attrs = replace(topic.attrs, **values)  # type: ignore[arg-type]
        check_range("MaximumMessageSize", attrs.maximum_message_size, 1024, 65536, "bytes")
        topic.attrs = attrs
        topic.last_modify_time = self.now()

    def delete_topic(self, account_id: str, name: str) -> None:
        self.account(account_id).topics.pop(name, None)

    def publish(self, account_id: str, topic_name: str, body: str, tag: str = "") -> Published:
        topic = self.account(account_id).topic(topic_name)
        seq = self.ids.next_seq()
        now = self.now()
        published, deliveries = topic.publish(self.ids.message_id(seq, now), body, tag, now)
        for d in deliveries:
            acct = self.accounts.get(d.account_id)
            queue = acct.queues.get(d.queue_name) if acct is not None and d.region_id == self.region_id else None
            if queue is None:
                continue  # real MNS retries, then gives up; the publisher never sees it
            if len(d.body.encode("utf-8")) <= queue.attrs.maximum_message_size:
                self._enqueue(queue, d.body, queue.attrs.delay_seconds, DEFAULT_PRIORITY)
        return published
