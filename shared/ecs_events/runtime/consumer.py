"""The queue consumer: events and timers from the MNS queue into the engine, one message at a time, none lost.

- BatchReceiveMessage (16, long poll); each message on its own, so one bad message never fails the batch.
- Success: batch-deleted at the end of the batch.
- Transient failure (a cloud call that kept failing, a saga busy in another consumer, the store unreachable): the
  message stays and comes back after a ChangeMessageVisibility backoff that grows with its DequeueCount.
- Poison (cannot be parsed, an event for a foreign account, or delivered ``max_receives`` times without success):
  sent to the dead-letter queue with its reason and original body, then deleted. Never retried forever.
- A saga's wake is never poison: one that keeps failing (a load balancer answering 5xx for an hour) goes back as a
  fresh delayed copy whose delay grows with each round (``wake_backoff``, at most ``MAX_WAKE_BACKOFF``); and should
  one be lost anyway, the reconciler wakes every saga whose ``wake_at`` has passed.
- Stops taking new batches before its deadline (FC's remaining time); ``until_idle`` returns once no message is
  visible and no notification is due.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ecs_events.engine.engine import BusyError, Engine, RejectedError
from ecs_events.engine.timers import Wake, parse_wake, wake_body
from ecs_events.errors import EcsEventsError, InputError
from ecs_events.models.times import iso_utc
from ecs_events.runtime.deadletter import dead_letter
from ecs_events.sources import Source, TimerTick, unwrap

if TYPE_CHECKING:
    from ecs_events.actions.mns import Queue
    from ecs_events.actions.types import QueueMessage
    from ecs_events.notify.outbox import Outbox

log = logging.getLogger("ecs_events.consumer")

BATCH = 16
MAX_BACKOFF = 3600
BUSY_BACKOFF = 3
BUSY_REQUEUE = 30  # seconds: a copy of a message whose saga stayed busy comes back after this
MAX_WAKE_BACKOFF = 1800  # seconds: the longest a failing wake waits before its next round


@dataclass
class Report:
    received: int = 0
    handled: int = 0
    retried: int = 0
    dead_lettered: int = 0
    batches: int = 0
    notices_sent: int = 0
    reasons: list[str] = field(default_factory=list)  # the dead-letter reasons of this run (bounded)

    def add(self, other: Report) -> None:
        self.received += other.received
        self.handled += other.handled
        self.retried += other.retried
        self.dead_lettered += other.dead_lettered
        self.batches += other.batches
        self.notices_sent += other.notices_sent
        self.reasons = (self.reasons + other.reasons)[-20:]


class Poison(Exception):
    """This message can never succeed: dead-letter it with ``reason``."""


def backoff(dequeue_count: int) -> int:
    """Seconds a failed message stays invisible: 10 s, 20 s, 40 s ... at most an hour."""
    return int(min(MAX_BACKOFF, 10 * 2 ** max(0, min(dequeue_count - 1, 20))))


def wake_backoff(attempt: int) -> int:
    """Seconds before a failing wake's next round: 60 s, 120 s, 240 s ... at most ``MAX_WAKE_BACKOFF``."""
    return int(min(MAX_WAKE_BACKOFF, 60 * 2 ** max(0, min(attempt, 20))))


class Consumer:
    def __init__(
        self,
        queue: Queue,
        dlq: Queue,
        engine: Engine,
        outbox: Outbox | None = None,
        *,
        max_receives: int = 5,
        now: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue, self.dlq, self.engine, self.outbox = queue, dlq, engine, outbox
        self.max_receives = max_receives
        self.now = now or engine.now
        self.monotonic = monotonic

    # -- loops ---------------------------------------------------------------------------------------------------
    def run(
        self,
        *,
        until_idle: bool = False,
        deadline: float | None = None,
        wait_seconds: int = 3,
        max_batches: int | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Report:
        """Consume until idle (``until_idle``), until ``deadline`` (a ``monotonic`` time: no new batch once it is
        less than one long poll away), for ``max_batches``, or until ``stop()`` says so (checked between batches,
        never inside one)."""
        total = Report()
        poll = min(wait_seconds, 1) if until_idle else wait_seconds  # idle means "nothing visible now"
        while max_batches is None or total.batches < max_batches:
            if stop is not None and stop():
                break
            if deadline is not None and self.monotonic() + poll + 1 >= deadline:
                break
            report = self.run_batch(wait_seconds=poll)
            total.add(report)
            if until_idle and report.received == 0 and not self.notices_due():
                break
        return total

    def run_batch(self, wait_seconds: int = 3) -> Report:
        report = Report(batches=1)
        messages = self.queue.receive(BATCH, wait_seconds)
        report.received = len(messages)
        done: list[str] = []
        for message in messages:
            if self._one(message, report):
                done.append(message.receipt_handle)
        if done:
            failed = self.queue.delete(done)
            for handle in failed:  # its visibility ran out while we worked: it comes back and dedupes as handled
                log.warning("could not delete a handled message (receipt %s...)", handle[:12])
        if self.outbox is not None:
            report.notices_sent = self.outbox.deliver().sent
        return report

    def notices_due(self) -> bool:
        """A notification in the outbox is due now (idle means: nothing visible on the queue and none of these)."""
        if self.outbox is None:
            return False
        from ecs_events.notify.outbox import pending

        now = self.now()
        return any(item.due(now) for item in pending(self.outbox.store))

    # -- one message ---------------------------------------------------------------------------------------------
    def _one(self, message: QueueMessage, report: Report) -> bool:
        """True when the message is finished with (handled or dead-lettered): delete it."""
        try:
            if message.dequeue_count > self.max_receives and parse_wake(message.body) is None:
                raise Poison(f"delivered {message.dequeue_count} times without success (limit {self.max_receives})")
            self._handle(message)
            report.handled += 1
            return True
        except Poison as exc:
            return self._dead_letter(message, str(exc), report)
        except (BusyError, EcsEventsError, OSError) as exc:
            return self._retry(message, exc, report)
        except Exception as exc:  # a bug of ours: retried like a transient failure, dead-lettered at the limit
            log.exception("internal error on message %s", message.message_id)
            return self._retry(message, exc, report)

    def _handle(self, message: QueueMessage) -> None:
        wake = parse_wake(message.body)
        if wake is not None:
            self.engine.wake(wake.saga)
            return
        try:
            deliveries = unwrap(message.body, hint=Source.MNS_QUEUE)
        except InputError as exc:
            raise Poison(str(exc)) from None
        bad: list[str] = []
        for delivery in deliveries:
            if delivery.error is not None:
                bad.append(str(delivery.error))
                continue
            if delivery.event is None or isinstance(delivery.event, TimerTick):
                continue
            try:
                result = self.engine.handle(delivery.event)
            except RejectedError as exc:
                bad.append(str(exc))
                continue
            log.info(
                "%s %s: %s",
                result.outcome,
                delivery.event.name,
                result.reason,
                extra={"event_id": delivery.event.id, "instance_id": delivery.event.instance_id, "saga": result.saga},
            )
        if bad:  # the good items of a batch are handled; the message itself goes to the DLQ for the bad ones
            raise Poison("; ".join(bad[:5]) + (f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""))

    def _retry(self, message: QueueMessage, exc: BaseException, report: Report) -> bool:
        if isinstance(exc, BusyError) and message.dequeue_count >= self.max_receives:
            return self._requeue(message, report)
        wake = parse_wake(message.body)
        if wake is not None and message.dequeue_count >= self.max_receives:
            return self._requeue_wake(message, wake, exc, report)
        if message.dequeue_count >= self.max_receives:
            return self._dead_letter(
                message, f"gave up after {message.dequeue_count} deliveries: {_one_line(exc)}", report
            )
        seconds = BUSY_BACKOFF if isinstance(exc, BusyError) else backoff(message.dequeue_count)
        log.warning("will retry message %s in %d s: %s", message.message_id, seconds, _one_line(exc))
        report.retried += 1
        try:
            self.queue.change_visibility(message.receipt_handle, seconds)
        except EcsEventsError as err:  # it comes back when its visibility times out anyway
            log.warning("could not delay message %s: %s", message.message_id, err)
        return False

    def _requeue(self, message: QueueMessage, report: Report) -> bool:
        """A saga busy in another consumer is no reason to give up on a message (a wake dead-lettered would leave
        the saga asleep): the lease runs out or its holder finishes. The message goes back as a fresh copy, delayed,
        and this delivery is deleted."""
        try:
            self.queue.send(message.body, delay_seconds=BUSY_REQUEUE, raw=True)
        except EcsEventsError as err:
            log.warning("could not requeue busy message %s: %s", message.message_id, err)
            return False
        log.warning(
            "requeued message %s: its saga stayed busy for %d deliveries", message.message_id, message.dequeue_count
        )
        report.retried += 1
        return True

    def _requeue_wake(self, message: QueueMessage, wake: Wake, exc: BaseException, report: Report) -> bool:
        """A wake is never dead-lettered (its saga would sleep forever): it goes back as a fresh copy, later each
        round. If even that send fails, the message stays and comes back by its visibility timeout."""
        delay = wake_backoff(wake.attempt)
        try:
            self.queue.send(wake_body(wake.saga, wake.at, wake.attempt + 1), delay_seconds=delay)
        except EcsEventsError as err:
            log.warning("could not requeue wake of %s: %s", wake.saga, err)
            return False
        log.warning(
            "wake of %s failed %d times (%s): sent again in %d s",
            wake.saga,
            message.dequeue_count,
            _one_line(exc),
            delay,
            extra={"saga": wake.saga},
        )
        report.retried += 1
        return True

    def _dead_letter(self, message: QueueMessage, reason: str, report: Report) -> bool:
        record = {
            "reason": reason,
            "source": "mns-queue",
            "at": iso_utc(self.now()),
            "queue": self.queue.name,
            "message_id": message.message_id,
            "dequeue_count": message.dequeue_count,
            "body": message.body,  # as it was on the queue (CloudMonitor writes base64)
        }
        try:
            dead_letter(self.dlq, self.engine.store, record)
        except EcsEventsError as err:  # not deleted: it comes back, and is dead-lettered then
            log.error("could not dead-letter message %s: %s", message.message_id, err)
            report.retried += 1
            return False
        report.dead_lettered += 1
        report.reasons = [*report.reasons, reason][-20:]
        return True


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if not isinstance(exc, EcsEventsError) else str(exc)
    return " ".join(text.split())[:300]
