"""What every localcloud service shares: clock and scheduler, ids, credentials, call log, faults, event bus.

One ``CloudContext`` is built per localcloud and handed to each service (ECS, SLB, MNS). Services keep their
state per (account, region) and reset it through ``reset()``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from localcloud.errors import (
    CloudError,
    ConnectionResetFault,
    internal_error,
    service_unavailable,
    throttling,
)

log = logging.getLogger("localcloud")

DEFAULT_ACCOUNT_ID = "1234567890123456"
DEFAULT_REGION = "cn-hangzhou"
DEFAULT_ACCESS_KEY_ID = "LTAI-localcloud"
DEFAULT_ACCESS_KEY_SECRET = "localcloud-secret"
# A fixed, realistic start for the manual clock so runs are reproducible.
DEFAULT_START = datetime(2026, 11, 26, 2, 0, 0, tzinfo=timezone.utc)


class Clock:
    """The cloud's notion of now (aware UTC). ``manual`` clocks move only by ``advance``/``set``;
    otherwise the clock follows wall time plus any offset added by ``advance``."""

    def __init__(self, start: datetime | None = None, manual: bool = True) -> None:
        self._lock = threading.Lock()
        self._manual = manual
        self._start = start or DEFAULT_START
        self._now = self._start
        self._offset = 0.0
        self._scheduler: Scheduler | None = None

    @property
    def manual(self) -> bool:
        return self._manual

    def bind(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def now(self) -> datetime:
        with self._lock:
            if self._manual:
                return self._now
            return datetime.now(timezone.utc) + timedelta(seconds=self._offset)

    def advance(self, seconds: float) -> datetime:
        """Move time forward and run every scheduled task that became due, in order. A manual clock steps
        through the tasks' due times, so each task (and what it schedules or stamps) sees its own time."""
        with self._lock:
            if self._manual:
                target = self._now + timedelta(seconds=seconds)
            else:
                self._offset += seconds
        if self._manual and self._scheduler is not None:
            self._scheduler.run_due(until=target)
        with self._lock:
            if self._manual:
                self._now = max(self._now, target)
        if self._scheduler is not None:
            self._scheduler.run_due()
        return self.now()

    def _step_to(self, when: datetime) -> None:
        with self._lock:
            if self._manual and when > self._now:
                self._now = when

    def reset(self) -> None:
        """A manual clock goes back to its start (state is being reset too); a wall clock keeps running."""
        with self._lock:
            if self._manual:
                self._now = self._start
            self._offset = 0.0

    def set(self, when: datetime) -> datetime:
        delta = (when - self.now()).total_seconds()
        if delta < 0:
            raise ValueError("the clock only moves forward")
        return self.advance(delta)


@dataclass(order=True)
class _Task:
    due: datetime
    seq: int
    fn: Callable[[], None] = field(compare=False)
    name: str = field(compare=False, default="")


class Scheduler:
    """Timed state transitions (instance Starting -> Running, snapshot completion, notBefore reached...).

    Tasks run when the clock reaches them: on ``Clock.advance`` and before every request the server handles.
    A task that raises is logged and dropped; it never breaks the request that happened to run it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[_Task] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()
        clock.bind(self)

    @property
    def lock(self) -> threading.RLock:
        """The lock scheduled tasks run under. Services that schedule transitions take it around their own
        state changes too, so a request thread and a task never lock in opposite orders."""
        return self._lock

    def call_at(self, due: datetime, fn: Callable[[], None], name: str = "") -> None:
        with self._lock:
            heapq.heappush(self._heap, _Task(due, next(self._seq), fn, name))

    def call_later(self, seconds: float, fn: Callable[[], None], name: str = "") -> None:
        self.call_at(self.clock.now() + timedelta(seconds=seconds), fn, name)

    def run_due(self, until: datetime | None = None) -> int:
        """Run every task due by now (or by ``until``, stepping a manual clock to each task's due time)."""
        ran = 0
        with self._lock:
            while self._heap and self._heap[0].due <= (until or self.clock.now()):
                task = heapq.heappop(self._heap)
                if until is not None:
                    self.clock._step_to(task.due)
                try:
                    task.fn()
                except Exception:
                    log.exception("scheduled task %s failed", task.name or task.fn)
                ran += 1
        return ran

    def pending(self) -> list[tuple[datetime, str]]:
        with self._lock:
            return [(t.due, t.name) for t in sorted(self._heap)]

    def clear(self) -> None:
        with self._lock:
            self._heap.clear()


class IdFactory:
    """Deterministic ids from a seed: ``new("i")`` -> ``i-bp1`` + 17 lowercase alphanumerics, like real ids."""

    _ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def reset(self) -> None:
        with self._lock:
            self._rng = random.Random(self.seed)

    def new(self, prefix: str, length: int = 17, infix: str = "bp1") -> str:
        with self._lock:
            tail = "".join(self._rng.choice(self._ALPHABET) for _ in range(length))
        return f"{prefix}-{infix}{tail}"

    def uuid(self) -> str:
        """A RequestId / MessageId shaped like the real ones (uppercase UUID)."""
        with self._lock:
            n = self._rng.getrandbits(128)
        h = f"{n:032X}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class Principal:
    access_key_id: str
    account_id: str


class Credentials:
    """The key pairs this localcloud accepts, each bound to an account. STS tokens are accepted for any
    configured pair (the fake does not mint or check token contents)."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str, str]] = {}

    def add(self, access_key_id: str, secret: str, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self._keys[access_key_id] = (secret, account_id)

    def secret_for(self, access_key_id: str) -> tuple[str, str] | None:
        """(secret, account_id) for a known key id, else None."""
        return self._keys.get(access_key_id)


@dataclass(frozen=True)
class CallRecord:
    time: datetime
    product: str
    action: str
    params: dict[str, str]
    code: str  # "OK" or the error code
    status: int
    account_id: str = ""  # the access key id the request was signed with
    region_id: str = ""
    signature: str = ""  # RPC: "HMAC-SHA1" (V1, aliyunsdkcore) or "ACS3-HMAC-SHA256" (V3, alibabacloud_* SDKs)


class CallLog:
    """Every API call the fake served, in order, for tests to read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []

    def record(self, rec: CallRecord) -> None:
        with self._lock:
            self._records.append(rec)

    def calls(self, action: str | None = None, product: str | None = None) -> list[CallRecord]:
        with self._lock:
            return [
                r
                for r in self._records
                if (action is None or r.action == action) and (product is None or r.product == product)
            ]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(self.calls())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


@dataclass
class FaultRule:
    """Faults for one API (``product``/``action``, ``*`` for any). Rates are probabilities in [0, 1]."""

    throttling_rate: float = 0.0
    error_rate: float = 0.0  # half InternalError (500), half ServiceUnavailable (503)
    latency: float = 0.0  # seconds added (real sleep) before answering
    qps_limit: float = 0.0  # 0 = none; calls beyond it in a 1 s window get Throttling
    reset_rate: float = 0.0  # connection dropped without an answer


class Faults:
    """Seeded fault injection, per API or global. ``check`` is called by every service before it acts."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(seed)
        self._rules: dict[tuple[str, str], FaultRule] = {}
        self._windows: dict[tuple[str, str], list[float]] = {}

    def set(self, product: str = "*", action: str = "*", **kwargs: Any) -> FaultRule:
        rule = FaultRule(**kwargs)
        with self._lock:
            self._rules[(product, action)] = rule
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._windows.clear()
            self._rng = random.Random(self._seed)

    def _rule(self, product: str, action: str) -> tuple[tuple[str, str], FaultRule] | None:
        for key in ((product, action), (product, "*"), ("*", action), ("*", "*")):
            rule = self._rules.get(key)
            if rule is not None:
                return key, rule
        return None

    def check(self, product: str, action: str) -> None:
        """Raise the injected fault for this call, if any: CloudError or ConnectionResetFault."""
        with self._lock:
            found = self._rule(product, action)
            if found is None:
                return
            key, rule = found
            if rule.qps_limit > 0:
                now = time.monotonic()
                window = [t for t in self._windows.get(key, []) if now - t < 1.0]
                over = len(window) >= rule.qps_limit
                if not over:
                    window.append(now)
                self._windows[key] = window
                if over:
                    raise throttling()
            roll_reset, roll_throttle, roll_error, roll_kind = (self._rng.random() for _ in range(4))
        if rule.latency > 0:
            time.sleep(rule.latency)
        if roll_reset < rule.reset_rate:
            raise ConnectionResetFault(f"{product}.{action}")
        if roll_throttle < rule.throttling_rate:
            raise throttling()
        if roll_error < rule.error_rate:
            raise internal_error() if roll_kind < 0.5 else service_unavailable()


EventTarget = Callable[[dict[str, Any]], None]


class EventBus:
    """Where emitted CloudMonitor notifications go (MNS queue, MNS topic, callback). Emitting never raises:
    a failing target is logged and the API call that caused the event still succeeds."""

    def __init__(self) -> None:
        self._targets: list[tuple[str, EventTarget]] = []
        self._lock = threading.Lock()
        self.emitted: list[dict[str, Any]] = []

    def add_target(self, name: str, target: EventTarget) -> None:
        with self._lock:
            self._targets.append((name, target))

    def target_names(self) -> list[str]:
        """``queue:NAME``, ``topic:NAME``, ``callback:fn`` for every target, in order."""
        with self._lock:
            return [name for name, _ in self._targets]

    def clear_targets(self) -> None:
        with self._lock:
            self._targets.clear()

    def emit(self, notification: dict[str, Any]) -> None:
        with self._lock:
            self.emitted.append(notification)
            targets = list(self._targets)
        for name, target in targets:
            try:
                target(notification)
            except Exception:
                log.exception("event target %s failed for %s", name, notification.get("name"))


class CloudContext:
    """The shared pieces, built once per localcloud."""

    def __init__(
        self,
        seed: int = 0,
        region_id: str = DEFAULT_REGION,
        clock: Clock | None = None,
        strict_requests: bool = True,
    ) -> None:
        self.region_id = region_id
        # Replayed nonces and request times more than 15 minutes off the WALL clock are refused, as the real
        # cloud does. The SDKs stamp wall time, so this holds whatever the (manual) cloud clock says; turn it off
        # to replay captured requests.
        self.strict_requests = strict_requests
        self.wall: Callable[[], float] = time.time
        self.clock = clock or Clock()
        self.scheduler = Scheduler(self.clock)
        self.ids = IdFactory(seed)
        self.credentials = Credentials()
        self.call_log = CallLog()
        self.faults = Faults(seed)
        self.events = EventBus()

    def reset(self) -> None:
        self.scheduler.clear()
        self.ids.reset()
        self.call_log.clear()
        self.faults.clear()
        self.events.emitted.clear()

    def fail(self, code: str, message: str, status: int = 400) -> CloudError:
        return CloudError(code, message, status)
