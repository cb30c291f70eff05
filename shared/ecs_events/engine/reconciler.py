"""The reconciler: a pass beside the event path, independent of it, that makes the promises hold whatever happened to
the messages. Run by the ``reconciler`` FC function on a timer (every 5 minutes by default) and by
``ecs-events reconcile``. Each pass:

1. wakes every active saga that is overdue (its next step was due a grace period ago: its timer was lost,
   dead-lettered or never armed; or a step waiting for news, a snapshot's completion event or a budget's release,
   got none by its backstop look: no timer is sent for those, this pass is their backstop), and every deferred
   drain whose budget has room (its release wake was lost), through ``Engine.wake``, which takes the saga's lease
   like any consumer;
2. walks the drain registry: drops holders whose saga ended or vanished without letting go; wakes the holders of a
   drain past its deadline (``max_drain``: their run aborts and restores); finishes every restore left half done
   (an entry with no holders), backend by backend;
3. is the backstop for lost notifications: lists the managed instances' system events that are Scheduled, Inquiring
   or Executing (DescribeInstanceHistoryEvents, paged) and hands any the store has never seen to the engine under
   the same saga key, so a late notification is a harmless duplicate;
4. reports sagas stuck (overdue longer than ``stuck_after``): a notice, once a day per saga, and ``status`` shows them.

Calls per pass: one DescribeInstanceHistoryEvents per 100 open events of managed instances, plus what the sagas it
wakes and the restores it finishes do. Nothing else touches the cloud, so an idle fleet costs one call a pass.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecs_events.actions.errors import CloudCallError
from ecs_events.engine import drain, restore
from ecs_events.engine.engine import ACTIVE_INDEX
from ecs_events.engine.errors import BusyError, CommitConflict, RejectedError
from ecs_events.engine.saga import Saga, SagaStatus, saga_key
from ecs_events.errors import EcsEventsError
from ecs_events.models.times import iso_utc
from ecs_events.notify.notice import Notice, notice_id
from ecs_events.notify.outbox import outbox_writes
from ecs_events.store.base import Store, Write

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ecs_events.engine.engine import Engine

log = logging.getLogger("ecs_events.reconciler")

GRACE = timedelta(seconds=60)  # a timer that is this late is lost, not slow
STUCK_AFTER = timedelta(hours=1)


def overdue(saga: Saga, now: datetime, grace: timedelta = GRACE) -> bool:
    """Active, and its next look was due more than ``grace`` ago."""
    if saga.status is not SagaStatus.ACTIVE:
        return False
    due = saga.next_due(now)
    return due is not None and due <= now - grace


def stuck(saga: Saga, now: datetime, after: timedelta = STUCK_AFTER) -> bool:
    """Overdue for longer than ``after``: waking it does not move it (a call keeps failing, a bug)."""
    return overdue(saga, now, max(after, GRACE))


@dataclass
class PassReport:
    at: str
    sagas_active: int = 0
    woken: list[str] = field(default_factory=list)
    drains: int = 0
    orphans_dropped: list[str] = field(default_factory=list)
    deadlines_enforced: list[str] = field(default_factory=list)
    restores_finished: list[str] = field(default_factory=list)
    restores_pending: list[str] = field(default_factory=list)
    backends_gone: list[str] = field(default_factory=list)
    open_events: int = 0
    started: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"reconcile {self.at}: {self.sagas_active} active saga(s), woke {len(self.woken)}, "
            f"{self.drains} drain(s) ({len(self.deadlines_enforced)} past max_drain, "
            f"{len(self.restores_finished)} restore(s) finished, {len(self.restores_pending)} pending, "
            f"{len(self.orphans_dropped)} orphan holder(s) dropped), {self.open_events} open event(s), "
            f"{len(self.started)} started, {len(self.stuck)} stuck, {len(self.errors)} error(s)"
        )


class Reconciler:
    def __init__(
        self,
        engine: Engine,
        *,
        region: str,
        grace: timedelta = GRACE,
        stuck_after: timedelta = STUCK_AFTER,
        lost_events: bool = True,
    ) -> None:
        self.engine = engine
        self.store: Store = engine.store
        self.region = region
        self.grace = grace
        self.stuck_after = stuck_after
        self.lost_events = lost_events

    def run_once(self) -> PassReport:
        report = PassReport(at=iso_utc(self.engine.now()) or "")
        self._sagas(report)
        self._drains(report)
        if self.lost_events:
            self._lost_events(report)
        log.info(report.summary(), extra={"reconcile": report.to_dict()})
        return report

    # -- 1. overdue and stuck sagas -------------------------------------------------------------------------------
    def _sagas(self, report: PassReport) -> None:
        now = self.engine.now()
        for index in self.store.scan(ACTIVE_INDEX):
            key = index.key.removeprefix(ACTIVE_INDEX)
            doc = self.store.get(key)
            saga = Saga.from_doc(doc.value) if doc is not None else None
            if saga is None or saga.status is not SagaStatus.ACTIVE:
                self.store.commit([Write(index.key, None, index.version)])  # finished: out of the index
                continue
            report.sagas_active += 1
            if stuck(saga, now, self.stuck_after):
                report.stuck.append(key)
                self._notify_stuck(saga, now)
            if overdue(saga, now, self.grace):
                self._wake(key, report, "overdue")
            elif self.engine.budget_freed(saga):  # a deferred drain whose release wake was lost: go now
                self._wake(key, report, "deferred, its budget has room")
        drain.drop_waiters(self.store, self._active)  # a deferred drain whose saga ended meanwhile waits for nothing

    def _wake(self, key: str, report: PassReport, why: str) -> None:
        try:
            self.engine.wake(key)
            report.woken.append(key)
        except BusyError as exc:  # a consumer holds it right now: it is moving
            log.info("reconcile: %s %s but busy: %s", key, why, exc)
        except (EcsEventsError, OSError) as exc:
            report.errors.append(f"{key}: {' '.join(str(exc).split())[:200]}")
            log.warning("reconcile: waking %s (%s) failed: %s", key, why, exc, extra={"saga": key})

    def _notify_stuck(self, saga: Saga, now: datetime) -> None:
        if not self.store.add_once(f"stuck/{saga.key}", ttl_seconds=86400):
            return  # told already today
        step = saga.current
        due = saga.next_due(now)
        notice = Notice(
            id=f"{notice_id(saga.key, 'stuck', iso_utc(now))[:20]}-stuck",
            phase="stuck",
            level="critical",
            title=f"{saga.instance_id}: remediation of {saga.event_type} stuck at "
            f"{step.action.value if step else 'the end'} since {iso_utc(due)}",
            text=(step.detail or "") if step else "",
            at=now,
            event_id=saga.event_id,
            instance_id=saga.instance_id,
            saga=saga.key,
        )
        self.store.commit(outbox_writes([notice]))

    # -- 2. the drain registry ------------------------------------------------------------------------------------
    def _drains(self, report: PassReport) -> None:
        now = self.engine.now()
        for doc in drain.drained_now(self.store):
            report.drains += 1
            instance_id = doc.key.removeprefix("drain/")
            try:
                self._drain(instance_id, now, report)
            except (EcsEventsError, OSError) as exc:
                report.errors.append(f"{doc.key}: {' '.join(str(exc).split())[:200]}")
                log.warning("reconcile: %s: %s", doc.key, exc)

    def _active(self, key: str) -> bool:
        doc = self.store.get(key)
        return doc is not None and doc.value.get("status") == SagaStatus.ACTIVE.value

    def _holder_alive(self, key: str) -> bool:
        doc = self.store.get(key)
        return doc is not None and doc.value.get("status") == SagaStatus.ACTIVE.value and bool(doc.value.get("drained"))

    def _drain(self, instance_id: str, now: datetime, report: PassReport) -> None:
        write = drain.drop_holders(self.store, instance_id, self._holder_alive)
        if write is not None and self.store.commit([write]):
            report.orphans_dropped.append(instance_id)
        doc = self.store.get(drain.drain_key(instance_id))
        if doc is None:
            return
        if not drain.is_restoring(doc):
            deadline = drain.deadline_of(doc)
            if deadline is not None and now >= deadline:  # max_drain: the holders' own runs abort and let go
                report.deadlines_enforced.append(instance_id)
                for holder in list(doc.value.get("holders", [])):
                    self._wake(holder, report, "past max_drain")
            return
        finished = restore.finish(
            self.store, self.engine.slb, instance_id, commit=self._commit, wake=self.engine.wake_now
        )
        report.backends_gone.extend(finished.gone)
        if finished.done:
            report.restores_finished.append(instance_id)
        elif not finished.held:
            report.restores_pending.append(f"{instance_id}: {finished.summary()}")

    def _commit(self, writes: Sequence[Write]) -> None:
        if not self.store.commit(writes):
            raise CommitConflict("reconcile: the registry changed meanwhile")

    # -- 3. lost notifications -----------------------------------------------------------------------------------
    def _lost_events(self, report: PassReport) -> None:
        try:
            events = self.engine.ecs.open_events(self.engine.tag)
        except CloudCallError as exc:
            report.errors.append(f"DescribeInstanceHistoryEvents: {exc}")
            return
        report.open_events = len(events)
        for item in events:
            instance_id, event_id = str(item.get("InstanceId") or ""), str(item.get("EventId") or "")
            if not instance_id or not event_id or self.store.get(saga_key(instance_id, event_id)) is not None:
                continue
            try:
                event = self._event(item)
                result = self.engine.handle(event)
            except (RejectedError, EcsEventsError, OSError) as exc:
                report.errors.append(f"{event_id}: {' '.join(str(exc).split())[:200]}")
                continue
            if result.outcome == "acted":
                report.started.append(saga_key(instance_id, event_id))
                log.warning(
                    "reconcile: %s of %s was never notified: saga started",
                    event_id,
                    instance_id,
                    extra={"saga": result.saga, "event_id": event_id},
                )

    def _event(self, item: dict[str, Any]) -> Any:
        """The CloudMonitor notification the event would have arrived as, validated by the same model."""
        from ecs_events.models import parse_notification

        event_type = _name(item.get("EventType"))
        status = _name(item.get("EventCycleStatus"))
        instance_id, event_id = str(item["InstanceId"]), str(item["EventId"])
        account = self.engine.account_id
        content: dict[str, Any] = {
            "eventId": event_id,
            "publishTime": item.get("EventPublishTime") or None,
            "instanceId": instance_id,
            "eventType": event_type,
            "eventStatus": status,
            "notBefore": item.get("NotBefore") or None,
        }
        now = self.engine.now().astimezone()
        payload = {
            "ver": "1.0",
            "id": f"reconcile-{event_id}-{status}",
            "product": "ECS",
            "resourceId": f"acs:ecs:{self.region}:{account}:instance/{instance_id}",
            "level": "CRITICAL",
            "name": f"Instance:{event_type}:{status}",
            "userId": account,
            "eventTime": now.strftime("%Y%m%dT%H%M%S.000%z"),
            "regionId": self.region,
            "content": {k: v for k, v in content.items() if v is not None},
        }
        return parse_notification(payload, source="reconciler")


def _name(value: Any) -> str:
    """``EventType`` / ``EventCycleStatus`` come as ``{"Code": .., "Name": ..}``."""
    if isinstance(value, dict):
        return str(value.get("Name") or "")
    return str(value or "")
