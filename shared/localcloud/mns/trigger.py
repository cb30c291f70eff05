"""The FC 3.0 MNS queue trigger (EventBridge-backed), as localcloud delivers it: a queue's messages pushed to a
registered Python callable in the trigger's event format, with its batching, retries and dead letters.

    config = TriggerConfig.parse(trigger_config)         # the FC3 triggerConfig object (or its JSON string)
    trigger = cloud.add_queue_trigger(config, handler)   # handler(event: bytes) -> anything; raising = failed push
    cloud.advance(30)                                    # delivers what is (or became) visible, delayed timers too
    trigger.drain()                                      # or deliver now, without moving the clock

What it does, per the reference (wire facts round 3, section 1):
- reads the queue over MNS (BatchReceiveMessage, the real SDK against this localcloud), as the trigger's event source
  consumes it; a delayed message is delivered once it becomes visible;
- wraps each message: CloudEvent ``{"id", "source": "MNS-<function>-<trigger>", "specversion": "1.0", "type":
  "mns:Queue:SendMessage", "datacontenttype", "subject": "acs:mns:<region>:<account>:queues/<queue>", "time"
  (enqueued), "aliyunaccountid", "aliyunpublishtime", "aliyunoriginalaccountid", "aliyuneventbusname",
  "aliyunregionid", "aliyunpublishaddr", "data": {"requestId", "messageId", "messageBody"}}``, or with the
  ``RawData`` event schema only the ``data`` object. ``messageBody`` is base64-decoded first when IsBase64Decode is
  on (the default) and the body is base64 of UTF-8 text; as it sat on the queue otherwise;
- ``event-streaming``: one invocation with a JSON array of up to CountBasedWindow items; ``event-driven``: one
  invocation per message with the bare object. A ``drain`` (or ``pump``) is the end of a batch window: the time
  window (TimeBasedWindow) is the caller's clock step;
- a handler that raises failed the whole push (UNVERIFIED in the reference: assumed, no partial-batch response
  exists): retried with the same events under the retry strategy (BACKOFF_RETRY: 3 retries 10-20 s apart;
  EXPONENTIAL_DECAY_RETRY: 176 retries, 1 s doubling to 512 s), the messages kept invisible meanwhile (for the rest
  of the schedule plus a minute, at most MNS's 12 hours). Retries are due on the cloud clock. Then, errorsTolerance
  ``ALL``: one record per message to the deadLetterQueue (or dropped without one) and the messages deleted; ``NONE``:
  the trigger is blocked (``blocked`` says why) and delivers nothing more, the messages stay on the queue;
- success deletes the messages. A message whose visibility ran out meanwhile comes back and is pushed again (the
  handler dedupes), as at-least-once delivery does.

The dead-letter record (the real format is UNVERIFIED), base64 on the queue like ecs-events' own: the JSON
``{"reason", "source": "mns-queue-trigger", "trigger", "at", "attempts", "message_id", "body"}``, ``body`` being the
item as it was pushed.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

log = logging.getLogger("localcloud.mns.trigger")

TYPE = "mns:Queue:SendMessage"
SCHEMAS = ("CloudEvents", "RawData")
MODES = ("event-streaming", "event-driven")
STRATEGIES = ("BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY")
TOLERANCES = ("ALL", "NONE")
RECEIVE_MAX = 16  # BatchReceiveMessage's limit: a larger window is filled by several receives
HOLD_MARGIN = 60  # seconds a message stays invisible past its last retry (a clock step may pass a retry by)
_DLQ_ARN = re.compile(r"^acs:mns:[^:]*:[^:]*:/?queues/(?P<queue>[A-Za-z][A-Za-z0-9-]{0,255})(/messages?)?$")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}\Z")


class TriggerConfigError(ValueError):
    """A trigger configuration the FC3 API would refuse: the message names the key, on one line."""


def _get(config: Mapping[str, Any], path: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value: Any = config
    for key in path.split("."):
        if not isinstance(value, Mapping):
            raise TriggerConfigError(f"triggerConfig.{path}: {key} is not inside an object")
        value = value.get(key)
        if value is None:
            return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = "/".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__
        raise TriggerConfigError(f"triggerConfig.{path}: expected {names}, got {type(value).__name__}")
    return value


def _choice(config: Mapping[str, Any], path: str, choices: tuple[str, ...], default: str) -> str:
    value: str = _get(config, path, str, default)
    if value not in choices:
        raise TriggerConfigError(f"triggerConfig.{path}: {value!r} is not one of {', '.join(choices)}")
    return value


def _number(config: Mapping[str, Any], path: str, low: int, high: int, default: int) -> int:
    value: int = _get(config, path, int, default)
    if not low <= value <= high:
        raise TriggerConfigError(f"triggerConfig.{path}: {value} is not in {low}..{high}")
    return value


@dataclass(frozen=True)
class TriggerConfig:
    """The FC3 EventBridgeTriggerConfig of an MNS queue trigger (keys cased as the FC3 SDK writes them)."""

    queue: str
    region: str | None = None
    base64_decode: bool = True  # IsBase64Decode
    schema: str = "CloudEvents"
    mode: str = "event-streaming"
    batch_count: int = 10  # CountBasedWindow, 1..10000
    batch_seconds: int = 3  # TimeBasedWindow, 0..15 (the caller's clock step: see the module doc)
    strategy: str = "BACKOFF_RETRY"
    tolerance: str = "NONE"  # errorsTolerance: the FC3 default
    dead_letter_queue: str | None = None
    enabled: bool = True

    @classmethod
    def parse(cls, config: Mapping[str, Any] | str) -> TriggerConfig:
        """From the ``triggerConfig`` object of s.yaml / CreateTrigger (a JSON string is accepted: the API's
        form). TriggerConfigError naming the key when it is not an MNS queue trigger's configuration."""
        if isinstance(config, str):
            try:
                config = json.loads(config)
            except ValueError as exc:
                raise TriggerConfigError(f"triggerConfig: not JSON: {exc}") from None
        if not isinstance(config, Mapping):
            raise TriggerConfigError(f"triggerConfig: expected an object, got {type(config).__name__}")
        source_type = _get(config, "eventSourceConfig.eventSourceType", str, None)
        if source_type != "MNS":
            raise TriggerConfigError(f"triggerConfig.eventSourceConfig.eventSourceType: {source_type!r}, not 'MNS'")
        params = "eventSourceConfig.eventSourceParameters.sourceMNSParameters"
        queue = _get(config, f"{params}.QueueName", str, None)
        if not queue:
            raise TriggerConfigError(f"triggerConfig.{params}.QueueName: missing")
        arn = _get(config, "runOptions.deadLetterQueue.Arn", str, None)
        dlq = None
        if arn:
            match = _DLQ_ARN.match(arn)
            if match is None:
                raise TriggerConfigError(f"triggerConfig.runOptions.deadLetterQueue.Arn: {arn!r} is no MNS queue ARN")
            dlq = match["queue"]
        return cls(
            queue=queue,
            region=_get(config, f"{params}.RegionId", str, None),
            base64_decode=_get(config, f"{params}.IsBase64Decode", bool, True),
            schema=_choice(config, "eventSinkConfig.deliveryOption.eventSchema", SCHEMAS, "CloudEvents"),
            mode=_choice(config, "runOptions.mode", MODES, "event-streaming"),
            batch_count=_number(config, "runOptions.batchWindow.CountBasedWindow", 1, 10000, 10),
            batch_seconds=_number(config, "runOptions.batchWindow.TimeBasedWindow", 0, 15, 3),
            strategy=_choice(config, "runOptions.retryStrategy.PushRetryStrategy", STRATEGIES, "BACKOFF_RETRY"),
            tolerance=_choice(config, "runOptions.errorsTolerance", TOLERANCES, "NONE"),
            dead_letter_queue=dlq,
            enabled=_get(config, "triggerEnable", bool, True),
        )


def retry_delays(strategy: str, rng: random.Random) -> list[float]:
    """Seconds before each retry: BACKOFF_RETRY 3 retries, random 10-20 s apart; EXPONENTIAL_DECAY_RETRY 1, 2, 4 ...
    512 s, then 512 s until 176 retries (about a day)."""
    if strategy == "BACKOFF_RETRY":
        return [rng.uniform(10, 20) for _ in range(3)]
    ramp = [float(2**n) for n in range(10)]  # 1 .. 512
    return ramp + [512.0] * (176 - len(ramp))


@dataclass
class Invocation:
    """One call of the handler: what was pushed, which attempt, and what came back (``error``: it raised)."""

    at: datetime
    attempt: int  # 1 = the first push, 2 = the first retry ...
    message_ids: list[str]
    event: bytes
    result: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Item:
    message_id: str
    receipt_handle: str
    payload: dict[str, Any]  # the CloudEvent, or its data (RawData)


@dataclass
class _Push:
    items: list[_Item]
    attempt: int = 0  # attempts made
    due: datetime | None = None  # next attempt
    delays: list[float] = field(default_factory=list)


class QueueTrigger:
    """One MNS queue trigger: ``account`` an ``mns.account.Account`` aimed at the cloud, ``handler`` the function,
    ``now`` the cloud clock. Not thread-safe per instance: ``drain`` holds a lock."""

    def __init__(
        self,
        account: Any,
        config: TriggerConfig,
        handler: Callable[[bytes], Any],
        *,
        now: Callable[[], datetime],
        account_id: str,
        region_id: str,
        function_name: str = "consumer",
        trigger_name: str = "events",
        seed: int = 0,
    ) -> None:
        self.account, self.config, self.handler, self.now = account, config, handler, now
        self.account_id = account_id
        self.region_id = config.region or region_id
        self.source = f"MNS-{function_name}-{trigger_name}"
        self.rng = random.Random(f"mns-trigger-{seed}-{config.queue}")
        self.invocations: list[Invocation] = []
        self.dead_lettered = 0
        self.dropped = 0
        self.blocked: str | None = None
        self._retrying: list[_Push] = []
        self._lock = threading.Lock()

    # -- driving ---------------------------------------------------------------------------------------------------
    def drain(self, limit: int = 10_000) -> list[Invocation]:
        """Push everything visible now, and every retry due now, until nothing is left (at most ``limit``
        invocations); the invocations made."""
        made: list[Invocation] = []
        with self._lock:
            while len(made) < limit:
                step = self._pump()
                if not step:
                    break
                made.extend(step)
        return made

    def pump(self) -> list[Invocation]:
        """One round: the retries due now, then one batch window of new messages."""
        with self._lock:
            return self._pump()

    def _pump(self) -> list[Invocation]:
        if not self.config.enabled or self.blocked is not None:
            return []
        made: list[Invocation] = []
        now = self.now()
        for push in [p for p in self._retrying if p.due is not None and p.due <= now]:
            self._retrying.remove(push)
            made.append(self._attempt(push))
            if self.blocked is not None:
                return made
        items = self._receive(self.config.batch_count)
        if self.config.mode == "event-driven":
            for item in items:
                made.append(self._attempt(_Push([item])))
                if self.blocked is not None:
                    break
        elif items:
            made.append(self._attempt(_Push(items)))
        return made

    def pending_retries(self) -> list[datetime]:
        return sorted(p.due for p in self._retrying if p.due is not None)

    # -- one push --------------------------------------------------------------------------------------------------
    def _attempt(self, push: _Push) -> Invocation:
        if self.config.mode == "event-driven":
            event: Any = push.items[0].payload
        else:
            event = [item.payload for item in push.items]
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
        push.attempt += 1
        invocation = Invocation(self.now(), push.attempt, [i.message_id for i in push.items], body)
        try:
            invocation.result = self.handler(body)
        except Exception as exc:  # the function failed: the trigger retries
            invocation.error = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        self.invocations.append(invocation)
        if invocation.ok:
            self._delete(push.items)
        else:
            self._failed(push, invocation)
        return invocation

    def _failed(self, push: _Push, invocation: Invocation) -> None:
        if push.attempt == 1:
            push.delays = retry_delays(self.config.strategy, self.rng)
        retries_left = len(push.delays) - (push.attempt - 1)
        if retries_left > 0:
            delay = push.delays[push.attempt - 1]
            push.due = invocation.at + timedelta(seconds=delay)
            self._hold(push, sum(push.delays[push.attempt - 1 :]) + HOLD_MARGIN)
            self._retrying.append(push)
            log.warning("%s: push of %d failed (%s): retry %d in %.0f s", self.source, len(push.items),
                        invocation.error, push.attempt, delay)  # fmt: skip
            return
        reason = f"{self.config.strategy}: gave up after {push.attempt} attempts: {invocation.error}"
        if self.config.tolerance == "NONE":
            self.blocked = reason
            log.error("%s: blocked (errorsTolerance NONE): %s", self.source, reason)
            return
        if self.config.dead_letter_queue:
            self._dead_letter(push, reason)
        else:
            self.dropped += len(push.items)
            log.error("%s: %d messages dropped (no dead-letter queue): %s", self.source, len(push.items), reason)
        self._delete(push.items)

    # -- MNS -------------------------------------------------------------------------------------------------------
    def _queue(self, name: str) -> Any:
        queue = self.account.get_queue(name)
        queue.set_encoding(False)
        return queue

    def _receive(self, count: int) -> list[_Item]:
        from mns.mns_exception import MNSServerException

        queue = self._queue(self.config.queue)
        items: list[_Item] = []
        while len(items) < count:
            want = min(RECEIVE_MAX, count - len(items))
            try:
                messages = queue.batch_receive_message(want, 0)
            except MNSServerException as exc:
                if exc.type == "MessageNotExist":
                    break
                raise
            request_id = f"{self.rng.getrandbits(96):024X}"
            items.extend(self._item(m, request_id) for m in messages)
            if len(messages) < want:
                break
        return items

    def _item(self, message: Any, request_id: str) -> _Item:
        raw = message.message_body
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        data = {"requestId": request_id, "messageId": str(message.message_id), "messageBody": self._body(text)}
        if self.config.schema == "RawData":
            return _Item(data["messageId"], str(message.receipt_handle), data)
        enqueued = datetime.fromtimestamp(int(message.enqueue_time) / 1000, tz=timezone.utc)
        event = {
            "id": str(_uuid(self.rng)),
            "source": self.source,
            "specversion": "1.0",
            "type": TYPE,
            "datacontenttype": "application/json; charset=utf-8",
            "subject": f"acs:mns:{self.region_id}:{self.account_id}:queues/{self.config.queue}",
            "time": _iso_ms(enqueued),
            "aliyunaccountid": self.account_id,
            "aliyunpublishtime": _iso_ms(self.now()),
            "aliyunoriginalaccountid": self.account_id,
            "aliyuneventbusname": self.source,
            "aliyunregionid": self.region_id,
            "aliyunpublishaddr": "127.0.0.1",
            "data": data,
        }
        return _Item(data["messageId"], str(message.receipt_handle), event)

    def _body(self, text: str) -> str:
        """IsBase64Decode on: the decoded text when the body is base64 of UTF-8 (what the trigger does with a
        non-base64 body is UNVERIFIED: it is passed as is)."""
        if not self.config.base64_decode:
            return text
        compact = "".join(text.split())
        if not compact or len(compact) % 4 or not _BASE64.match(compact):
            return text
        try:
            return base64.b64decode(compact, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return text

    def _delete(self, items: list[_Item]) -> None:
        from mns.mns_exception import MNSServerException

        queue = self._queue(self.config.queue)
        for item in items:  # one by one: a handle that expired meanwhile must not fail the others
            try:
                queue.delete_message(item.receipt_handle)
            except MNSServerException as exc:  # it came back visible: it is pushed again, and dedupes
                log.warning("%s: could not delete %s: %s", self.source, item.message_id, exc.type)

    def _hold(self, push: _Push, seconds: float) -> None:
        """Keep the messages of a push awaiting its retry invisible (new receipt handles)."""
        from mns.mns_exception import MNSServerException

        queue = self._queue(self.config.queue)
        for item in push.items:
            try:
                changed = queue.change_message_visibility(item.receipt_handle, min(43200, int(seconds) + 1))
            except MNSServerException as exc:
                log.warning("%s: could not hold %s: %s", self.source, item.message_id, exc.type)
                continue
            item.receipt_handle = str(changed.receipt_handle)

    def _dead_letter(self, push: _Push, reason: str) -> None:
        from mns.queue import Message

        assert self.config.dead_letter_queue is not None
        queue = self.account.get_queue(self.config.dead_letter_queue)
        queue.set_encoding(True)  # base64 on the wire, like every other writer of a dead-letter queue here
        for item in push.items:
            record = {"reason": reason, "source": "mns-queue-trigger", "trigger": self.source,
                      "at": _iso_ms(self.now()), "attempts": push.attempt, "message_id": item.message_id,
                      "body": json.dumps(item.payload, ensure_ascii=False)}  # fmt: skip
            queue.send_message(Message(json.dumps(record, ensure_ascii=False)))
            self.dead_lettered += 1
        log.error("%s: %d messages dead-lettered to %s: %s", self.source, len(push.items),
                  self.config.dead_letter_queue, reason)  # fmt: skip


def _iso_ms(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
