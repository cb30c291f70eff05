"""The notification outbox: notices are stored with the saga step that caused them, then delivered, never lost.

Why an outbox: the engine must not call DingTalk inside its store transaction (a slow robot would hold a saga), and
must not lose a notice when a robot is down. So the engine commits ``outbox_writes(notices)`` together with the saga
(one ``Store.commit``), and ``Outbox.deliver`` sends them afterwards, from any process:

- an item is claimed with a compare-and-set that sets ``lease_until`` (two consumers never send the same item at
  the same time; a consumer that dies loses its lease after ``lease_seconds`` and another one takes over);
- each sender that succeeded is recorded in ``done`` at once, so a retry resends only to the senders that failed;
- a failure backs off exponentially (30 s, 60 s, ... capped at 1 h); after ``max_attempts`` the item is kept with
  status ``dead`` and logged at ERROR, for ``ecs-events status`` and a human;
- within one ``deliver`` a sender that failed is not tried again for the other items (a webhook that times out
  costs one timeout per run, not one per notice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from ecs_events.logs import get_logger, redact
from ecs_events.notify.notice import Notice, NotifyError, escape
from ecs_events.notify.senders import Sender, SendError, Throttled
from ecs_events.store.base import Store, Write

PREFIX = "outbox/"
BASE_DELAY = 30.0
MAX_DELAY = 3600.0

log = get_logger("outbox")

Status = Literal["pending", "dead"]


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def outbox_writes(notices: Iterable[Notice]) -> list[Write]:
    """The writes that put ``notices`` in the outbox (must-be-absent), to commit with the saga in one transaction.
    A notice id twice in ``notices`` is written once; an id already in the outbox makes the whole commit fail."""
    writes: dict[str, Write] = {}
    for notice in notices:
        key = PREFIX + notice.id
        value = {
            "notice": notice.to_doc(),
            "attempts": 0,
            "next_at": _iso(notice.at),
            "status": "pending",
            "done": [],
            "lease_until": None,
            "last_error": None,
        }
        writes.setdefault(key, Write(key, value, 0))
    return list(writes.values())


@dataclass(frozen=True)
class OutboxItem:
    """One stored item. ``problem`` is set (and ``notice`` None) when the stored document is not a valid item."""

    key: str
    version: int
    value: dict[str, Any]
    notice: Notice | None
    attempts: int
    next_at: datetime | None
    status: str
    done: tuple[str, ...]
    lease_until: datetime | None
    last_error: str | None
    problem: str | None = None

    @classmethod
    def parse(cls, key: str, version: int, value: dict[str, Any]) -> OutboxItem:
        try:
            notice: Notice | None = Notice.from_doc(value.get("notice") or {})
            next_at = _parse_time(value.get("next_at"))
            lease = _parse_time(value.get("lease_until"))
            problem = None
        except (NotifyError, ValueError) as exc:
            notice, next_at, lease, problem = None, None, None, str(exc)
        return cls(
            key=key,
            version=version,
            value=value,
            notice=notice,
            attempts=int(value.get("attempts") or 0),
            next_at=next_at,
            status=str(value.get("status") or "pending"),
            done=tuple(str(name) for name in value.get("done") or ()),
            lease_until=lease,
            last_error=value.get("last_error"),
            problem=problem,
        )

    def due(self, now: datetime) -> bool:
        if self.status != "pending":
            return False
        if self.lease_until is not None and self.lease_until > now:
            return False
        return self.next_at is None or self.next_at <= now


def _items(store: Store) -> list[OutboxItem]:
    return [OutboxItem.parse(doc.key, doc.version, doc.value) for doc in store.scan(PREFIX)]


def pending(store: Store) -> list[OutboxItem]:
    """Items still to deliver (including ones leased right now), oldest ``next_at`` first."""
    items = [item for item in _items(store) if item.status == "pending"]
    return sorted(items, key=lambda item: item.next_at or datetime.min.replace(tzinfo=timezone.utc))


def dead(store: Store) -> list[OutboxItem]:
    """Items given up on after ``max_attempts`` (or unreadable), kept for a human."""
    return [item for item in _items(store) if item.status == "dead"]


def requeue(store: Store, notice_id: str, now: datetime) -> bool:
    """Give a dead item a fresh set of attempts (``ecs-events`` operator command); False if there is none."""

    def revive(value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None or value.get("status") != "dead":
            return value
        return {**value, "status": "pending", "attempts": 0, "next_at": _iso(now), "lease_until": None}

    doc = store.get(PREFIX + notice_id)
    if doc is None or doc.value.get("status") != "dead":
        return False
    return store.update(PREFIX + notice_id, revive) is not None


@dataclass(frozen=True)
class OutboxReport:
    sent: int = 0  # fully delivered and removed
    retried: int = 0  # rescheduled (a sender failed or was throttled)
    dead: int = 0  # given up on in this run


@dataclass
class _Run:
    """What one ``deliver`` learned: senders that failed (skipped for the rest of the run) and its counts."""

    broken: set[str]
    sent: int = 0
    retried: int = 0
    dead: int = 0


class Outbox:
    def __init__(
        self,
        store: Store,
        senders: Sequence[Sender],
        now: Callable[[], datetime],
        max_attempts: int = 10,
        lease_seconds: float = 60,
    ) -> None:
        self.store = store
        self.senders = list(senders)
        self._clock = now
        self.max_attempts = max_attempts
        self.lease_seconds = lease_seconds

    def now(self) -> datetime:
        """The injected clock, in UTC (a naive answer is taken as UTC)."""
        return _utc(self._clock())

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` failed tries: 30 s * 2^(attempts-1), at most 1 h."""
        return min(MAX_DELAY, BASE_DELAY * float(2 ** max(0, attempts - 1)))

    def deliver(self, limit: int = 100) -> OutboxReport:
        """Send up to ``limit`` due items. Never raises for a sender's failure: that is what the outbox is for."""
        run = _Run(broken=set())
        now = self.now()
        due = [item for item in _items(self.store) if item.due(now)]
        due.sort(key=lambda item: (item.next_at or now, item.key))
        claimed = 0
        for item in due:
            if claimed >= limit:
                break
            if self._deliver_one(item, run):
                claimed += 1
        return OutboxReport(sent=run.sent, retried=run.retried, dead=run.dead)

    # -- one item -------------------------------------------------------------------------------------------------
    def _deliver_one(self, item: OutboxItem, run: _Run) -> bool:
        """Claim, send, record. False when the item was not ours to handle (taken, or only broken senders left)."""
        if item.notice is None:
            return self._bury(item, item.value, f"unreadable item: {item.problem}", run)
        remaining = [s for s in self.senders if s.name not in item.done]
        if remaining and all(s.name in run.broken for s in remaining):
            return False
        claim = {**item.value, "lease_until": _iso(self.now() + timedelta(seconds=self.lease_seconds))}
        claimed = self.store.commit([Write(item.key, claim, item.version)])
        if not claimed:
            return False
        version, value = claimed.versions[item.key], claim
        failures: list[str] = []
        later: list[str] = []  # senders not tried now on purpose: throttled, or failed earlier in this run
        wait = 0.0
        for sender in remaining:
            if sender.name in run.broken:
                later.append(sender.name)
                continue
            try:
                sender.send(item.notice)
            except Throttled as exc:
                later.append(sender.name)
                wait = max(wait, exc.retry_after)
                continue
            except SendError as exc:
                failures.append(str(exc))
                run.broken.add(sender.name)
                continue
            except Exception as exc:  # a bug in one sender must not stop the others
                failures.append(escape(redact(f"{sender.name}: {type(exc).__name__}: {exc}")))
                run.broken.add(sender.name)
                continue
            lease = _iso(self.now() + timedelta(seconds=self.lease_seconds))
            value = {**value, "done": [*value.get("done", []), sender.name], "lease_until": lease}
            recorded = self.store.commit([Write(item.key, value, version)])
            if not recorded:
                log.warning("outbox: %s: lease lost while sending; another consumer has it", item.key)
                return True
            version = recorded.versions[item.key]
        return self._finish(replace(item, version=version, value=value), failures, later, wait, run)

    def _finish(self, item: OutboxItem, failures: list[str], later: list[str], wait: float, run: _Run) -> bool:
        """Delete when every sender has it; else count an attempt (real failures) or just come back later."""
        if not failures and not later:
            if self.store.commit([Write(item.key, None, item.version)]):
                run.sent += 1
            return True
        if not failures:  # throttled or skipped: not an attempt, only later
            next_at = self.now() + timedelta(seconds=wait)
            self._save(item, {"next_at": _iso(next_at), "lease_until": None}, run)
            return True
        notice = item.notice
        assert notice is not None  # checked before the claim
        extra = {"event_id": notice.event_id, "instance_id": notice.instance_id, "saga": notice.saga}
        attempts = int(item.value.get("attempts") or 0) + 1
        reason = escape("; ".join(failures), 1000)
        if attempts >= self.max_attempts:
            return self._bury(item, {**item.value, "attempts": attempts}, reason, run, extra)
        next_at = self.now() + timedelta(seconds=max(self.backoff(attempts), wait))
        changes = {"attempts": attempts, "next_at": _iso(next_at), "lease_until": None, "last_error": reason}
        if self._save(item, changes, run):
            log.warning(
                "outbox: %s: attempt %d of %d failed, next at %s: %s",
                item.key, attempts, self.max_attempts, _iso(next_at), reason,
                extra={**extra, "code": "outbox.retry"},
            )  # fmt: skip
        return True

    def _save(self, item: OutboxItem, changes: dict[str, Any], run: _Run) -> bool:
        if self.store.commit([Write(item.key, {**item.value, **changes}, item.version)]):
            run.retried += 1
            return True
        log.warning("outbox: %s: lease lost before recording the result", item.key)
        return False

    def _bury(
        self,
        item: OutboxItem,
        value: dict[str, Any],
        reason: str,
        run: _Run,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        """Keep the item as ``dead`` (never deleted) and say so at ERROR."""
        buried = {**value, "status": "dead", "lease_until": None, "last_error": reason}
        if not self.store.commit([Write(item.key, buried, item.version)]):
            return False
        run.dead += 1
        log.error(
            "outbox: %s: dead after %s attempt(s): %s",
            item.key, buried.get("attempts", 0), reason,
            extra={**(extra or {}), "code": "outbox.dead"},
        )  # fmt: skip
        return True
