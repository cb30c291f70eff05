"""The entry logic every Function Compute function shares; ``functions/<name>/index.py`` only wires to it.

- ``initialize(context)``: FC's initializer. Builds the App (``app.deferred_app``: account, store, credentials; the
  full settings, clients, engine, outbox and consumer on first use) once per FC instance and hands the same one to
  every invocation, concurrent ones included (instance concurrency > 1). A bad account id, store URL or localcloud URL,
  a sqlite store on FC or missing credentials raise their one-line error here: FC reports the failed initializer and
  retries on a new instance; any other bad setting raises the same way at the first event that needs the settings.
  When the context brings rotated STS credentials, the App is rebuilt around the same store.
- A single notification that is certainly a no-op (``ecs_events.runtime.rawtriage``) is answered from its decoded
  JSON before any model is built: no pydantic, no SDK, no engine (FC cold start); everything else goes the full way.
- ``handle_push(event, context, expect=...)``: an MNS topic or EventBridge delivery, all its events into the engine.
- ``handle_timer(event, context)``: the timer-triggered queue consumer (queue-delivered events and saga timers),
  stopping before the invocation's time runs out.
- ``handle_consumer(event, context)``: the ``consumer`` function's entry, for both of its triggers. Detection rule,
  on the parsed body:
  - an FC 3.0 MNS queue trigger invocation: a CloudEvent of ``type: mns:Queue:SendMessage``, a RawData ``data``
    object (``messageBody`` with ``messageId``/``requestId``), or a JSON array (a timer tick is never an array),
    also when an item or its message body is bad -> every item into the engine (notifications) or ``engine.wake``
    (the engine's timer wakes), with the push failure policy below (``handle_push``);
  - anything else -> the queue drain of ``handle_timer``: an FC timer tick ``{"triggerTime", "triggerName"}``, and,
    as before, a body that is no tick (empty, ``{}``, a manual invoke), logged at WARNING and never refused.

Failure policy for pushes and queue trigger invocations (the trigger retries a failed invocation, then drops or
dead-letters it):
- poison (a payload that cannot be parsed, an event the engine rejects): the original payload goes to the dead-letter
  queue with its reason and the invocation succeeds, since no retry could ever succeed;
- transient (a cloud call that kept failing, a busy saga, the store or the clock unreachable, a bug of ours): the
  invocation raises having dead-lettered nothing, so the trigger retries the whole delivery; what was already handled
  dedupes on the retry (events by id; a wake is harmless twice);
- a timer wake whose saga is busy in another invocation is sent back to the events queue delayed (as the queue
  consumer does), not failed: the trigger gives up after a few retries and a lost wake would leave the saga asleep.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ecs_events.errors import EcsEventsError, InputError, printable
from ecs_events.kinds import EventKind
from ecs_events.runtime import fc

if TYPE_CHECKING:
    from ecs_events.models import EcsEvent
    from ecs_events.runtime.app import App
    from ecs_events.runtime.rawtriage import Answer
    from ecs_events.sources import Delivery

log = logging.getLogger("ecs_events.handlers")

# No pydantic plugin is used here. Unless told otherwise, pydantic looks for plugins when it builds its first model
# (the settings, the event's model): importlib.metadata reads every installed distribution's entry points, 50-100 ms
# of a cold start (bench/coldstart.py). An explicit PYDANTIC_DISABLE_PLUGINS (even empty: load them all) is kept.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# The event kinds each push function's trigger is filtered to (None: any kind). The consumer has a timer trigger
# and may have an MNS queue trigger (``handle_consumer``).
# maintenance takes every Instance system event, so also the types no model knows yet (UNKNOWN: kept, no action).
KINDS: dict[str, tuple[EventKind, ...] | None] = {
    "maintenance": (EventKind.INSTANCE_SYSTEM_EVENT, EventKind.UNKNOWN),
    "preemption": (EventKind.PREEMPTIBLE_INTERRUPTION,),
    "disk": (EventKind.DISK_SYSTEM_EVENT, EventKind.DISK_OPERATION),
    "lifecycle": (EventKind.STATE_CHANGE,),
    "snapshot": (EventKind.SNAPSHOT_COMPLETED,),
    "eventbridge": None,
}
CONSUMER = "consumer"
RECONCILER = "reconciler"
FUNCTIONS = (*KINDS, CONSUMER, RECONCILER)

# A dead-letter record is base64-encoded on the wire (4/3) and MNS takes at most 64 KiB: 45 KiB of JSON fits.
SHOWN = 20  # results and reasons kept in a summary

_lock = threading.Lock()
_app: App | None = None
_app_credentials: tuple[str, str | None] | None = None
_logs_ready = False


# -- the App, once per instance -----------------------------------------------------------------------------------
def configure_logs(level: str | int = "INFO", stream: IO[str] | None = None) -> None:
    """JSON log lines (``ecs_events.logs``); ``initialize`` calls it with the defaults unless done before."""
    global _logs_ready  # noqa: PLW0603 - one process-wide flag
    from ecs_events.logs import configure

    configure(level, stream)
    _logs_ready = True


def _context_credentials(context: Any) -> tuple[str, str | None] | None:
    """(key id, token) the context carries, to notice a rotation; None when it carries none (env credentials)."""
    found = getattr(context, "credentials", None)
    key_id = getattr(found, "access_key_id", None) or getattr(found, "accessKeyId", None)
    token = getattr(found, "security_token", None) or getattr(found, "securityToken", None)
    return (key_id, token or None) if isinstance(key_id, str) and key_id else None


def initialize(context: Any = None) -> App:
    """The process's App, built on first call (FC's initializer, or the first invocation without one).
    Thread-safe. Raises the one-line EcsEventsError of a bad configuration (e.g. a sqlite store on FC)."""
    global _app, _app_credentials
    credentials = _context_credentials(context)
    with _lock:
        if not _logs_ready:
            configure_logs()
        if _app is not None and (credentials is None or credentials == _app_credentials):
            return _app
        from ecs_events.runtime.app import deferred_app

        try:  # a rotation keeps the store (and its connections): only the clients change
            app = deferred_app(context, store=_app.store if _app is not None else None)
        except EcsEventsError as exc:
            log.error("initialize failed: %s", exc)
            raise
        if _app is not None:
            log.info("credentials rotated: clients rebuilt")
        _app, _app_credentials = app, credentials
        return app


def reset() -> None:
    """Close and forget the cached App (tests; the end of a replay). The next ``initialize`` builds a new one."""
    global _app, _app_credentials
    with _lock:
        if _app is not None:
            _app.close()
        _app, _app_credentials = None, None


def _name(context: Any) -> str:
    return str(getattr(getattr(context, "function", None), "name", None) or "local")


def _request_id(context: Any) -> str | None:
    value = getattr(context, "request_id", None)
    return value if isinstance(value, str) else None


# -- pushes: MNS topic, EventBridge -------------------------------------------------------------------------------
@dataclass
class PushSummary:
    function: str
    request_id: str | None
    events: int = 0  # items of the delivery: events, wakes and bad items
    wakes: int = 0
    acted: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    unexpected: int = 0
    notices_sent: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Poison:
    reason: str
    source: str
    index: int | None = None  # the item of a batch; None: the whole payload
    message_id: str | None = None  # the MNS message of a queue trigger item


def handle_push(event: bytes, context: Any, *, expect: tuple[EventKind, ...] | None = None) -> dict[str, Any]:
    """Every event of one delivery into the engine; poison dead-lettered (and acknowledged); transient failures
    raised for the trigger to retry. ``expect``: the kinds this function's trigger is filtered to: any other kind is
    still handled (the engine decides) but logged at WARNING (a filter misconfiguration).

    A single notification that is certainly a no-op (``ecs_events.runtime.rawtriage``) is answered from the decoded
    JSON, before any model is built: the same log lines and summary as the full path, without pydantic."""
    app = initialize(context)
    answered = _answer_raw(app, event, context, expect)
    if answered is not None:
        return answered
    from ecs_events.sources import unwrap

    try:
        deliveries: list[Delivery] | InputError = unwrap(event)
    except InputError as exc:
        deliveries = exc
    return _push(event, deliveries, context, expect)


def _answer_raw(app: App, event: bytes, context: Any, expect: tuple[EventKind, ...] | None) -> dict[str, Any] | None:
    """The summary of a delivery the raw triage answers (one notification, a no-op for certain), else None."""
    from ecs_events.runtime.rawsource import notification
    from ecs_events.runtime.rawtriage import no_op as raw_no_op

    raw = notification(event)
    if raw is None:
        return None
    answer = raw_no_op(raw.notification, app.store, app.account)
    if answer is None:
        return None
    summary = PushSummary(_name(context), _request_id(context), events=1)
    _report(answer, raw.source, expect, summary)
    _deliver_outbox(app, summary)  # as the full path: notices of earlier invocations, when this App has an engine
    return asdict(summary)


def _unexpected(kind: EventKind, name: str, expect: tuple[EventKind, ...] | None, summary: PushSummary,
                extra: dict[str, Any]) -> None:  # fmt: skip
    if expect is not None and kind not in expect:
        summary.unexpected += 1
        log.warning(
            "%s: %s event %s is not what this function's trigger is filtered to (%s): handled anyway",
            summary.function,
            kind.value,
            printable(name),
            ", ".join(kind.value for kind in expect),
            extra=extra,
        )


def _report(answer: Answer, source: str, expect: tuple[EventKind, ...] | None, summary: PushSummary) -> None:
    """What ``_handle_one`` logs and counts for an event the raw triage answered."""
    extra = {"event_id": answer.event_id, "instance_id": answer.instance_id}
    _unexpected(answer.kind, answer.name, expect, summary, extra)
    log.info("%s %s: %s", answer.outcome, printable(answer.name), answer.reason, extra={**extra, "saga": None})
    summary.ignored += 1
    summary.results.append({"event": answer.name, "source": source, "instance_id": answer.instance_id,
                            "outcome": answer.outcome, "reason": answer.reason, "saga": None})  # fmt: skip


def _push(
    event: bytes, deliveries: list[Delivery] | InputError, context: Any, expect: tuple[EventKind, ...] | None
) -> dict[str, Any]:
    from ecs_events.sources import TimerTick

    app = initialize(context)
    summary = PushSummary(_name(context), _request_id(context))
    if isinstance(deliveries, InputError):
        whole = _Poison(str(deliveries), deliveries.source, message_id=_trigger_message_id(event, deliveries))
        _dead_letter(app, event, [whole], summary)
        return asdict(summary)
    poison: list[_Poison] = []
    batch = len(deliveries) > 1 or _is_array(event)
    for delivery in deliveries:
        summary.events += 1
        index = delivery.index if batch else None
        if delivery.error is not None:
            poison.append(_Poison(str(delivery.error), delivery.source.value, index, delivery.message_id))
        elif delivery.wake is not None:
            _wake_one(app, delivery, summary)
        elif isinstance(delivery.event, TimerTick) or delivery.event is None:
            log.warning("%s: a timer tick is no event for a push function: ignored", summary.function)
            summary.ignored += 1
        else:
            reason = _handle_one(app, delivery, delivery.event, expect, summary)
            if reason is not None:
                poison.append(_Poison(reason, delivery.source.value, index, delivery.message_id))
    if poison:  # only now: a transient failure above raised before anything was dead-lettered
        _dead_letter(app, event, poison, summary)
    _deliver_outbox(app, summary)
    return asdict(summary)


def _wake_one(app: App, delivery: Delivery, summary: PushSummary) -> None:
    """A timer wake from a queue trigger message: ``engine.wake``. A saga busy elsewhere gets its wake back on the
    events queue, delayed (``consumer.BUSY_REQUEUE``); any other failure raises for the trigger to retry."""
    from ecs_events.engine.engine import BusyError
    from ecs_events.engine.timers import wake_body
    from ecs_events.runtime.consumer import BUSY_REQUEUE

    wake = delivery.wake
    assert wake is not None
    summary.wakes += 1
    extra = {"saga": wake.saga}
    try:
        result = app.engine.wake(wake.saga)
    except BusyError as exc:
        app.clients.queue(app.settings.queue).send(wake_body(wake.saga, wake.at), delay_seconds=BUSY_REQUEUE)
        log.warning("%s: wake of %s sent back in %d s: %s", summary.function, wake.saga, BUSY_REQUEUE, exc, extra=extra)
        outcome, reason = "requeued", f"busy: {exc}"
    except Exception as exc:
        level = logging.WARNING if isinstance(exc, EcsEventsError) else logging.ERROR
        log.log(level, "wake of %s: left for the trigger to retry: %s", wake.saga, exc, extra=extra,
                exc_info=not isinstance(exc, EcsEventsError))  # fmt: skip
        raise
    else:
        outcome, reason = result.outcome, result.reason
        log.info("%s wake of %s: %s", outcome, wake.saga, reason, extra=extra)
    if outcome == "acted":
        summary.acted += 1
    else:
        summary.ignored += 1
    if len(summary.results) < SHOWN:
        summary.results.append({"event": "wake", "source": delivery.source.value, "instance_id": None,
                                "outcome": outcome, "reason": reason, "saga": wake.saga})  # fmt: skip


def handle_consumer(event: bytes, context: Any) -> dict[str, Any]:
    """The ``consumer`` function: an MNS queue trigger invocation through the engine (``handle_push``'s policy),
    anything else drains the queue (``handle_timer``); the detection rule is in this module's doc."""
    from ecs_events.sources import Source, is_queue_trigger, unwrap

    try:
        deliveries: list[Delivery] | InputError = unwrap(event)
    except InputError as exc:
        deliveries = exc
    if isinstance(deliveries, InputError):
        trigger = deliveries.source == Source.MNS_QUEUE_TRIGGER.value
    else:
        trigger = is_queue_trigger(deliveries) or _is_array(event)
    if trigger:
        return _push(event, deliveries, context, None)
    return handle_timer(event, context)


def _handle_one(
    app: App, delivery: Delivery, event: EcsEvent, expect: tuple[EventKind, ...] | None, summary: PushSummary
) -> str | None:
    """Hand one event to the engine; the reason when it is rejected (poison), None when handled. Raises the rest."""
    from ecs_events.runtime.triage import no_op

    extra = {"event_id": event.id, "instance_id": event.instance_id}
    _unexpected(event.kind, event.name, expect, summary, extra)
    try:  # a store read answers most events (``ecs_events.runtime.triage``); the engine is built for the others
        result = no_op(event, app.store, app.account) or app.engine.handle(event)
    except Exception as exc:
        from ecs_events.engine.errors import RejectedError

        if isinstance(exc, RejectedError):
            return str(exc)
        level = logging.WARNING if isinstance(exc, EcsEventsError) else logging.ERROR
        log.log(level, "%s: left for the trigger to retry: %s", printable(event.name), exc, extra=extra,
                exc_info=not isinstance(exc, EcsEventsError))  # fmt: skip
        raise
    log.info("%s %s: %s", result.outcome, printable(event.name), result.reason, extra={**extra, "saga": result.saga})
    if result.outcome == "acted":
        summary.acted += 1
    else:
        summary.ignored += 1
    if len(summary.results) < SHOWN:
        summary.results.append(
            {"event": event.name, "source": delivery.source.value, "instance_id": event.instance_id,
             "outcome": result.outcome, "reason": result.reason, "saga": result.saga}
        )  # fmt: skip
    return None


def _trigger_message_id(event: bytes, error: InputError) -> str | None:
    """The MNS message id of a single queue trigger item that could not be read, for its dead-letter record."""
    if error.source != "mns-queue-trigger":  # Source.MNS_QUEUE_TRIGGER
        return None
    from ecs_events.sources.mns_trigger import message_id_of

    try:
        value = json.loads(event)
    except (ValueError, RecursionError):
        return None
    return message_id_of(value) if isinstance(value, dict) else None


def _is_array(event: bytes) -> bool:
    return bytes(event[:64]).lstrip()[:1] == b"["


def _original(event: bytes, index: int | None) -> dict[str, Any]:
    """The payload as it came (``body``), or ``body_base64`` when it is not UTF-8; for a batch item, that item."""
    if index is not None:
        try:
            return {"body": json.dumps(json.loads(event)[index], ensure_ascii=False), "index": index}
        except (ValueError, IndexError, TypeError, KeyError):
            pass
    try:
        return {"body": bytes(event).decode("utf-8")}
    except UnicodeDecodeError:
        return {"body": None, "body_base64": base64.b64encode(bytes(event)).decode("ascii")}


def _dead_letter(app: App, event: bytes, poison: list[_Poison], summary: PushSummary) -> None:
    """One dead-letter message per poison item (``ecs_events.runtime.deadletter``). A failed send raises: the trigger
    retries."""
    from ecs_events.models.times import iso_utc
    from ecs_events.runtime.deadletter import dead_letter

    queue = app.clients.queue(app.settings.dlq_name)
    at = iso_utc(app.now())
    for item in poison:
        record = {"reason": item.reason, "source": item.source, "function": summary.function,
                  "request_id": summary.request_id, "at": at, **_original(event, item.index)}  # fmt: skip
        if item.message_id is not None:
            record["message_id"] = item.message_id
        dead_letter(queue, app.store, record)
        summary.dead_lettered += 1
        if len(summary.reasons) < SHOWN:
            summary.reasons.append(item.reason)


def _deliver_outbox(app: App, summary: PushSummary) -> None:
    """Send the notices this delivery produced. They are in the store already: if sending fails they stay in the outbox
    for the consumer's next run, and the delivery is not failed for it. An App whose engine was never built produced
    none: a cold start that only read the store (``ecs_events.runtime.triage``) leaves the outbox to the consumer and
    the reconciler, which deliver it on every run."""
    if not app.built("engine"):
        return
    try:
        summary.notices_sent = app.outbox.deliver().sent
    except Exception:
        log.exception("%s: notices left in the outbox for the consumer", summary.function)


# -- the timer-triggered consumer ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimerOptions:
    """What the timer trigger's ``payload`` (a JSON object) may set: ``{"until_idle": true, "wait_seconds": 3}``."""

    until_idle: bool = True  # return once the queue is idle (the next tick picks up what becomes visible later)
    wait_seconds: int = 3  # long poll per batch when not until_idle


def timer_options(event: bytes) -> TimerOptions:
    """The options of a timer tick's payload; anything else (no payload, not JSON, a manual invoke) gets the
    defaults and a warning: a tick is never refused."""
    from ecs_events.sources import TimerTick, unwrap

    try:
        deliveries = unwrap(event)
    except InputError as exc:
        log.warning("consumer: not a timer event (%s): draining the queue anyway", exc)
        return TimerOptions()
    tick = deliveries[0].event if len(deliveries) == 1 else None
    if not isinstance(tick, TimerTick):
        log.warning("consumer: invoked with events, not a timer tick: they are not handled here")
        return TimerOptions()
    if not tick.payload or not tick.payload.strip():
        return TimerOptions()
    try:
        given = json.loads(tick.payload)
        until_idle, wait = given.get("until_idle", True), given.get("wait_seconds", 3)
        if (
            not isinstance(until_idle, bool)
            or not isinstance(wait, int)
            or isinstance(wait, bool)
            or not 0 <= wait <= 30
        ):
            raise ValueError("until_idle must be a boolean, wait_seconds an integer 0..30")
    except (ValueError, AttributeError) as exc:
        log.warning("consumer: timer payload ignored (%s): defaults used", printable(str(exc))[:200])
        return TimerOptions()
    return TimerOptions(until_idle=until_idle, wait_seconds=wait)


def handle_timer(event: bytes, context: Any) -> dict[str, Any]:
    """Drain the events queue (events and saga timers) until idle or until the invocation's time is nearly up
    (``ecs_events.runtime.fc.deadline``: the timeout less 10 % or 5 s, whichever is larger). Returns the consumer's
    Report."""
    started = time.monotonic()
    app = initialize(context)
    options = timer_options(event)
    stop_by = fc.deadline(context, started)
    if stop_by - time.monotonic() < options.wait_seconds + 1:
        log.warning("consumer: the function timeout (%.0f s) leaves no time for a batch", fc.timeout_of(context))
    report = app.consumer.run(until_idle=options.until_idle, deadline=stop_by, wait_seconds=options.wait_seconds)
    log.info(
        "consumer: received %d, handled %d, retried %d, dead-lettered %d in %d batches",
        report.received, report.handled, report.retried, report.dead_lettered, report.batches,
    )  # fmt: skip
    return {"function": _name(context), "request_id": _request_id(context), **asdict(report)}


def handle_reconcile(event: bytes, context: Any) -> dict[str, Any]:
    """One reconciler pass (the ``reconciler`` function's timer): wake overdue sagas, enforce drain deadlines, finish
    half-done restores, start sagas for events whose notification was lost; then send the notices that are due.
    Returns the pass's report."""
    from ecs_events.runtime.app import reconciler_for

    app = initialize(context)
    report = reconciler_for(app).run_once()
    sent = app.outbox.deliver().sent
    return {"function": _name(context), "request_id": _request_id(context), **report.to_dict(), "notices_sent": sent}


__all__ = [
    "CONSUMER",
    "FUNCTIONS",
    "KINDS",
    "RECONCILER",
    "EventKind",
    "PushSummary",
    "TimerOptions",
    "configure_logs",
    "handle_consumer",
    "handle_push",
    "handle_reconcile",
    "handle_timer",
    "initialize",
    "reset",
    "timer_options",
]
