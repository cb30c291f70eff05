"""The engine: from a typed event (or a timer's wake) to a saga advanced as far as it can go now.

    guard (account) -> saga for (instance, event) -> facts (tag opt-in, first time only) -> playbook -> steps
    -> timers for what is due later -> notices into the outbox, in the same commit as the saga

One consumer at a time works on a saga: it takes the saga's lease (a compare-and-set on the saga document, timed by
the wall clock so a crashed consumer's lease runs out), walks the script, and gives the lease back with its last
write. Another consumer meeting a leased saga gets ``BusyError`` (transient: the message comes back later). Steps
that touch the cloud are recorded as started before they act, so whoever takes over after a crash knows.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecs_events.actions.errors import NotFoundError
from ecs_events.engine import drain, playbooks, steps
from ecs_events.engine.errors import BusyError, CommitConflict, RejectedError
from ecs_events.engine.playbooks.common import Situation, restore_and_close
from ecs_events.engine.saga import (
    Action,
    Saga,
    SagaStatus,
    Step,
    StepState,
    saga_key,
    status_rank,
)
from ecs_events.engine.timers import Timers
from ecs_events.errors import printable
from ecs_events.models import (
    DiskSystemEvent,
    EcsEvent,
    EventKind,
    InstanceStateChange,
    SnapshotCompleted,
)
from ecs_events.models.times import iso_utc
from ecs_events.notify.notice import Notice, notice_id
from ecs_events.notify.outbox import outbox_writes
from ecs_events.store.base import Store, Write

if TYPE_CHECKING:
    from ecs_events.actions.balancers import LoadBalancers
    from ecs_events.actions.ecs import Ecs
    from ecs_events.actions.types import InstanceFacts
    from ecs_events.policy import Effective, Policy

log = logging.getLogger("ecs_events.engine")

ACTIVE_INDEX = "index/active/"


def active_key(saga: str) -> str:
    """The reconciler's index of sagas that may be active: written when a saga starts, dropped by the reconciler."""
    return f"{ACTIVE_INDEX}{saga}"


MAX_STEPS_PER_RUN = 64
NO_POKE: frozenset[Action] = frozenset()
SEEN_KEPT = 50


@dataclass(frozen=True)
class Result:
    outcome: str  # "acted" | "ignored"
    reason: str
    saga: str | None = None


@dataclass
class _Held:
    saga: Saga
    version: int
    token: str
    checked: bool = False  # the instance's opt-in was read in this run (tags are read again before disruption)


DISRUPTIVE = frozenset({Action.DRAIN, Action.COMMAND, Action.SNAPSHOT, Action.REBOOT})


def _short(text: str, limit: int = 300) -> str:
    """Text from the payload (an account id, a mismatch) as it may appear in a reason: one line (control characters
    escaped) and bounded, since the reason goes into log lines and dead-letter records (MNS takes 64 KiB)."""
    text = printable(text)
    return text if len(text) <= limit else text[:limit] + "..."


def policy_type(event: EcsEvent) -> str:
    """The event type as the policy names it: ``SystemMaintenance.Reboot``, ``Disk:Stalled``, ``StateChange``..."""
    return f"Disk:{event.event_type}" if isinstance(event, DiskSystemEvent) else event.event_type


def saga_id(event: EcsEvent) -> str:
    """One saga per platform event: the system event's id (every status of it lands on one saga); a notification
    without one is its own saga, keyed by its id (repeated deliveries of it stay one)."""
    content = getattr(event, "content", None)
    event_id = getattr(content, "event_id", None)
    if isinstance(event_id, str) and event_id:
        return event_id
    return f"{event.kind.value}-{event.id or notice_id(event.name, event.resource_id, event.event_time)}"


def _drains_later(script: Sequence[Step], now: datetime) -> bool:
    """The script waits for a time still ahead before its drain."""
    for step in script:
        if step.action is Action.DRAIN:
            return False
        if step.at is not None and step.at > now:
            return True
    return False


class Engine:
    def __init__(
        self,
        *,
        store: Store,
        ecs: Ecs,
        slb: LoadBalancers,
        timers: Timers,
        policy: Policy,
        account_id: str,
        tag: tuple[str, str],
        now: Callable[[], datetime],
        owner: str | None = None,
        lease_seconds: float = 120.0,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.ecs, self.slb, self.timers, self.policy = store, ecs, slb, timers, policy
        self.account_id = account_id
        self.tag = tag
        self.now = now
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_seconds = lease_seconds
        self.wall = wall

    # -- entry points ------------------------------------------------------------------------------------------------
    def handle(self, event: EcsEvent) -> Result:
        """Act on one event. Raises RejectedError (dead-letter it), BusyError or a transient cloud error (retry)."""
        self._guard_account(event)
        if isinstance(event, SnapshotCompleted):
            return self._snapshot_result(event)
        if isinstance(event, InstanceStateChange):
            return self._state_change(event)
        if event.kind is EventKind.UNKNOWN or playbooks.playbook_for(event) is None:
            log.info("no playbook for %s: kept in the log, no action", event.name, extra={"event_id": event.id})
            return Result("ignored", f"no playbook for {event.name}")
        subject = event.instance_id or event.disk_id or "unknown"
        return self._on_event(saga_key(subject, saga_id(event)), event)

    def wake(self, key: str) -> Result:
        """A timer came back: do what is due on the saga."""
        doc = self.store.get(key)
        if doc is None:
            return Result("ignored", "no such saga", key)
        if Saga.from_doc(doc.value).status is not SagaStatus.ACTIVE:
            return Result("ignored", "saga already finished", key)
        held = self._acquire(key)
        return self._run(held, poke=NO_POKE)

    # -- guard -------------------------------------------------------------------------------------------------------
    def _guard_account(self, event: EcsEvent) -> None:
        if event.mismatches:
            raise RejectedError(_short(f"inconsistent event: {'; '.join(event.mismatches)}"))
        accounts = {a for a in (event.user_id, event.resource_id.account) if a}
        if accounts != {self.account_id}:
            found = ", ".join(_short(a, 40) for a in sorted(accounts)) or "none"
            raise RejectedError(f"event of account {found}, not ECS_EVENTS_ACCOUNT_ID {self.account_id}: not acted on")

    def _facts(self, event: EcsEvent) -> tuple[InstanceFacts | None, str | None]:
        """The instance's facts, or why the engine leaves it alone (not found, not opted in)."""
        if event.instance_id is None or (isinstance(event, InstanceStateChange) and event.state.value == "Deleted"):
            return None, None
        facts = self.ecs.describe_instance(event.instance_id)
        if facts is None:
            return None, f"instance {event.instance_id} not found"
        key, value = self.tag
        if facts.tags.get(key) != value:
            return facts, f"instance {event.instance_id} does not carry the opt-in tag {key}={value}"
        return facts, None

    # -- events on sagas ---------------------------------------------------------------------------------------------
    def _on_event(self, key: str, event: EcsEvent) -> Result:
        for _ in range(5):
            doc = self.store.get(key)
            if doc is None:
                result = self._start(key, event)
                if result is not None:
                    return result
                continue  # another consumer created it first: apply the event to theirs
            saga = Saga.from_doc(doc.value)
            seen_reason = self._seen(saga, event)
            if seen_reason:
                if saga.status is SagaStatus.ACTIVE and (saga.wake_at is None or saga.wake_at <= self.now()):
                    # No timer on its way: the run that saved the saga failed before arming it (the message then
                    # comes back as a duplicate). Without this wake the saga would wait forever.
                    return self.wake(key)
                return Result("ignored", seen_reason, key)
            held = self._acquire(key)
            seen_reason = self._seen(held.saga, event)  # again, under the lease: a racing twin may have applied it
            if seen_reason:
                self._release(held)
                return Result("ignored", seen_reason, key)
            try:
                self._apply(held.saga, event)
                self._save(held)  # the new status on record before any cloud call: a run that keeps failing (an
                # outage) dead-letters this message, and the saga must not be left acting on the old status
            except BaseException:
                self._release(held)
                raise
            return self._run(held, poke=frozenset({Action.WAIT_EVENT_DONE}))  # the platform's progress
        raise BusyError(f"{key}: kept changing under us")

    def _start(self, key: str, event: EcsEvent) -> Result | None:
        now = self.now()
        facts, reason = self._facts(event)
        if reason is not None:
            log.info(
                "ignored %s: %s", event.name, reason, extra={"event_id": event.id, "instance_id": event.instance_id}
            )
            return Result("ignored", reason)
        ptype = policy_type(event)
        effective = self.policy.resolve(ptype, facts.tags if facts else {})
        for warning in effective.warnings:
            log.warning(warning, extra={"instance_id": event.instance_id})
        if effective.skip:
            return Result("ignored", f"skipped by policy for {ptype}")
        decision = playbooks.decide(Situation(event, None, effective, facts, now))
        if decision is None or not decision.steps:
            return Result("ignored", decision.reason if decision else f"no playbook for {event.name}")
        saga = Saga(
            key=key,
            instance_id=event.instance_id or event.disk_id or "unknown",
            event_id=saga_id(event),
            event_name=event.name,
            event_type=event.event_type,
            playbook=decision.playbook,
            event_status=event.status,
            event_finished=isinstance(event, DiskSystemEvent) and not event.ongoing,
            not_before=event.not_before,
            created_at=now,
            updated_at=now,
            steps=decision.steps,
            disk_id=event.disk_id,
            tags=dict(facts.tags) if facts else {},
            policy_type=ptype,
            seen=[event.id] if event.id else [],
        )
        saga.note(now, f"received {event.name}: {decision.reason}")
        first = decision.steps[0]
        says_received = first.action is Action.NOTIFY and first.args.get("phase") == "received"
        received = (
            []
            if says_received
            else [self._notice(saga, "received", "info", f"{saga.instance_id}: {event.name} received", now=now)]
        )
        token = self._token()
        index = self.store.get(active_key(key))  # the reconciler's list of active sagas (it drops finished ones)
        listed = Write(active_key(key), {"since": iso_utc(now)}, index.version if index else 0)
        started = self.store.commit([Write(key, self._lease_doc(saga, token), 0), listed, *outbox_writes(received)])
        if not started:
            return None
        log.info("saga started: %s", decision.reason, extra={"saga": key, "event_id": event.id})
        return self._run(_Held(saga, started.versions[key], token, checked=True), poke=NO_POKE)

    def _seen(self, saga: Saga, event: EcsEvent) -> str | None:
        if event.id and event.id in saga.seen:
            return "duplicate delivery"
        if isinstance(event, DiskSystemEvent):
            if event.ongoing and (saga.event_finished or saga.steps):
                return "duplicate or stale disk notification"
            return "duplicate delivery" if not event.ongoing and saga.event_finished else None
        new, old = status_rank(event.status), status_rank(saga.event_status)
        if new == old and event.status == saga.event_status and self._moved(saga, event):
            return None  # the platform moved notBefore: plan again
        if new < old or (new == old and event.status == saga.event_status):
            return f"stale or repeated status {event.status} (saga at {saga.event_status})"
        return None

    @staticmethod
    def _moved(saga: Saga, event: EcsEvent) -> bool:
        """A repeated Scheduled / Inquiring notification whose notBefore differs from the plan's, before our reboot."""
        return (
            event.status in ("Scheduled", "Inquiring")
            and event.not_before is not None
            and saga.not_before is not None
            and event.not_before != saga.not_before
            and saga.rebooted_at is None
            and saga.status is SagaStatus.ACTIVE
        )

    def _apply(self, saga: Saga, event: EcsEvent) -> None:
        """A newer status of the saga's event: record it and let the playbook re-script what is left."""
        now = self.now()
        before = saga.model_copy(deep=True)
        if event.id:
            saga.seen = [*saga.seen, event.id][-SEEN_KEPT:]
        moved = self._moved(saga, event)
        if isinstance(event, DiskSystemEvent):
            saga.event_finished = saga.event_finished or not event.ongoing
        else:
            saga.event_status = event.status
        if moved:
            saga.note(now, f"notBefore moved from {iso_utc(saga.not_before)} to {iso_utc(event.not_before)}")
            saga.not_before = event.not_before
        saga.note(now, f"received {event.name}")
        effective = self._effective(saga)
        decision = playbooks.decide(Situation(event, before, effective, None, now))
        if decision is not None and decision.steps is not None:
            script = decision.steps
            if moved and saga.drained and _drains_later(script, now):  # no reason to stay drained until then
                script = [Step(action=Action.RESTORE), *script]
            saga.replace_remaining(script)
            saga.status = SagaStatus.ACTIVE
            saga.note(now, f"re-planned: {decision.reason}")

    def _snapshot_result(self, event: SnapshotCompleted) -> Result:
        index = self.store.get(f"index/snapshot/{event.snapshot_id}")
        if index is None:
            return Result("ignored", f"snapshot {event.snapshot_id} is not one of ours")
        key = str(index.value["saga"])
        held = self._acquire(key)
        for record in held.saga.snapshots.values():
            if record["snapshot_id"] == event.snapshot_id and record["status"] == "progressing":
                record["status"] = event.content.result.value
        held.saga.note(self.now(), f"snapshot {event.snapshot_id} {event.content.result.value}")
        return self._run(held, poke=frozenset({Action.SNAPSHOT}))

    def _state_change(self, event: InstanceStateChange) -> Result:
        iid = event.instance_id or ""
        sagas = [Saga.from_doc(d.value) for d in self.store.scan(f"saga/{iid}/")]
        active = [s.key for s in sagas if s.status is SagaStatus.ACTIVE]
        # Ours to advance: a Running after our reboot lets the health check look now; Stopping / Starting only note.
        poke = frozenset({Action.WAIT_HEALTHY}) if event.state.value in ("Running", "Stopped", "Deleted") else NO_POKE
        for key in active:
            held = self._acquire(key)
            held.saga.note(self.now(), f"instance {event.state.value}")
            self._run(held, poke=poke)
        if active:
            return Result("acted", f"advanced {len(active)} saga(s)", active[0])
        state = event.state.value
        expected = any(s.playbook == "preemption" or s.event_type.endswith((".Stop", ".Delete")) for s in sagas)
        if not expected and (state == "Stopped" or (state == "Deleted" and sagas)):  # nothing of ours explains it
            return self._on_event(saga_key(iid, saga_id(event)), event)
        return Result("ignored", f"state {state}: nothing to advance")

    # -- leases ------------------------------------------------------------------------------------------------------
    def _lease_doc(self, saga: Saga, token: str) -> dict[str, Any]:
        saga.lease_owner = token
        value = saga.to_doc()
        value["lease_wall"] = self.wall() + self.lease_seconds
        return value

    def _token(self) -> str:
        """A lease token per acquisition: two threads of one process (FC instance concurrency) never share one."""
        return f"{self.owner}:{uuid.uuid4().hex[:8]}"

    def _acquire(self, key: str) -> _Held:
        for _ in range(10):
            doc = self.store.get(key)
            if doc is None:
                raise BusyError(f"{key}: vanished")
            owner = doc.value.get("lease_owner")
            if owner and float(doc.value.get("lease_wall") or 0) > self.wall():
                raise BusyError(f"{key}: in progress elsewhere ({owner})")
            saga, token = Saga.from_doc(doc.value), self._token()
            leased = self.store.commit([Write(key, self._lease_doc(saga, token), doc.version)])
            if leased:
                return _Held(saga, leased.versions[key], token)
        raise BusyError(f"{key}: contended")

    def _save(self, held: _Held, extra: Sequence[Write] = (), *, release: bool = False) -> None:
        held.saga.updated_at = self.now()
        value = self._lease_doc(held.saga, held.token)
        if release:
            value["lease_owner"], value["lease_wall"] = None, 0
        saved = self.store.commit([Write(held.saga.key, value, held.version), *extra])
        if not saved:
            raise CommitConflict(f"{held.saga.key}: a concurrent change won (lease lost or budget taken meanwhile)")
        held.version = saved.versions[held.saga.key]

    def _budget_freed(self, saga: Saga, step: Step, effective: Effective) -> bool:
        """A deferred drain woken before its fallback look: go now if its budgets have room (store reads only)."""
        if step.action is not Action.DRAIN or not saga.waiting_for:
            return False
        return not drain.still_full(self.store, saga.instance_id, saga.waiting_for, effective.budget_for)

    def budget_freed(self, saga: Saga) -> bool:
        """A deferred drain whose budgets have room now (the reconciler's look for a lost release wake)."""
        step = saga.current
        return step is not None and saga.active and self._budget_freed(saga, step, self._effective(saga))

    def wake_now(self, key: str) -> None:
        """Send ``key`` its wake now (a deferred drain whose budget just freed)."""
        now = self.now()
        self.timers.arm(key, now, now)

    def _holds(self, held: _Held) -> bool:
        """The saga is still ours: nobody wrote it since our last commit (a consumer whose lease ran out and was taken
        over finds a newer version, or another owner, and must not touch the cloud again)."""
        doc = self.store.get(held.saga.key)
        return doc is not None and doc.version == held.version and doc.value.get("lease_owner") == held.token

    def _release(self, held: _Held) -> None:
        """Give the lease back after a failure WITHOUT writing what was not saved: the stored document as it was
        last committed, lease cleared. (What a step did not commit never happened as far as the store knows.)"""
        try:
            doc = self.store.get(held.saga.key)
            if doc is None or doc.version != held.version or doc.value.get("lease_owner") != held.token:
                return
            self.store.commit([Write(doc.key, {**doc.value, "lease_owner": None, "lease_wall": 0}, doc.version)])
        except Exception:  # the store itself failed: the lease runs out on its own
            log.exception("could not release %s", held.saga.key)

    # -- running the script ------------------------------------------------------------------------------------------
    def _effective(self, saga: Saga) -> Effective:
        return self.policy.resolve(saga.policy_type or saga.event_type, saga.tags)

    def _notice(
        self, saga: Saga, phase: str, level: str, title: str, *, now: datetime, text: str = "", **fields: Any
    ) -> Notice:
        saga.notice_seq += 1
        return Notice(
            id=f"{notice_id(saga.key)[:20]}-{saga.notice_seq:05d}",  # one saga's notices go out in order
            phase=phase,
            level=level,
            title=title,
            text=text,
            at=now,
            event_id=saga.event_id,
            instance_id=saga.instance_id,
            saga=saga.key,
            fields={k: str(v) for k, v in fields.items()},
        )

    def _run(self, held: _Held, poke: frozenset[Action]) -> Result:
        """Walk the script as far as it goes now; arm a timer for the rest; give the lease back. ``poke``: the gates
        the triggering event is news for (they look at once, before their next poll)."""
        saga = held.saga
        try:
            effective = self._effective(saga)
            for _ in range(MAX_STEPS_PER_RUN):
                now = self.now()
                if saga.status is not SagaStatus.ACTIVE:
                    break
                step = saga.current
                deadline = saga.drain_deadline if saga.drained else None
                if deadline is not None and now >= deadline and (step is None or step.action is not Action.RESTORE):
                    self._abort(
                        saga, now, f"max_drain reached at {iso_utc(deadline)}: the drain ends whatever happened"
                    )
                step = saga.current
                if step is None:
                    saga.status, saga.outcome = SagaStatus.CLOSED, saga.outcome or "closed"
                    break
                room = self._budget_freed(saga, step, effective)  # a deferred drain whose budget has room now
                if step.due(saga.previous_done(), now) > now and step.action not in poke and not room:
                    break
                # Tags are read again before disruption; a drain reads them itself once its budgets have room (a
                # deferred drain costs no DescribeInstances per look), see ``_opt_out_check``.
                if (
                    step.action in DISRUPTIVE - {Action.DRAIN}
                    and step.state is StepState.PENDING
                    and self._opt_out_check(held, now)()
                ):
                    continue
                if not self._step(held, step, effective, now, step.action in poke):
                    break
            self._arm(held)
        except BaseException:
            self._release(held)
            raise
        return Result("acted", saga.outcome or (saga.current.action.value if saga.current else "done"), saga.key)

    def _opt_out_check(self, held: _Held, now: datetime) -> Callable[[], bool]:
        """The opt-out check of a disruptive step, at most once per run: True when the script was replaced."""

        def check() -> bool:
            if held.checked:
                return False
            held.checked = True
            return self._opted_out(held.saga, now)

        return check

    def _opted_out(self, saga: Saga, now: datetime) -> bool:
        """Read the instance's tags again before a disruptive step (a person may have opted it out since the plan):
        without the opt-in tag, or with a policy skip, a saga that has not rebooted it ends here, letting go of
        anything drained. True when the script was changed that way."""
        if (
            not saga.tags or saga.rebooted_at is not None
        ):  # no instance facts to re-read, or past the point of no return
            return False
        facts = self.ecs.describe_instance(saga.instance_id)
        key, value = self.tag
        if facts is None:
            why = "the instance no longer exists"
        elif facts.tags.get(key) != value:
            why = f"the opt-in tag {key}={value} was removed"
        elif self.policy.resolve(saga.policy_type or saga.event_type, facts.tags).skip:
            why = "a skip tag or policy now applies"
        else:
            return False
        saga.note(now, f"opted out: {why}")
        saga.replace_remaining(
            restore_and_close(
                f"{saga.instance_id}: {why}; remediation of {saga.event_type} ended", outcome="closed", level="warning"
            )
        )
        return True

    def _step(self, held: _Held, step: Step, effective: Effective, now: datetime, poked: bool) -> bool:
        """Run one step; True when it finished and the next may follow now."""
        saga = held.saga
        extra: list[Write] = []
        if step.action is Action.NOTIFY:
            a = step.args
            fields = {k: v for k, v in a.items() if k not in ("phase", "level", "title", "text", "with_previous")}
            text = a.get("text", "")
            if a.get("with_previous") and saga.cursor > 0:  # what the step before did (a restore's real outcome)
                text = " ".join(filter(None, (text, saga.steps[saga.cursor - 1].detail)))
            extra += outbox_writes(
                [self._notice(saga, a["phase"], a["level"], a["title"], now=now, text=text, **fields)]
            )
            outcome: steps.Outcome = steps.Done()
        elif step.action is Action.CLOSE:
            outcome = steps.Done()
            saga.outcome = str(step.args.get("outcome", "closed"))
            saga.status = {"succeeded": SagaStatus.SUCCEEDED, "failed": SagaStatus.FAILED}.get(
                saga.outcome, SagaStatus.CLOSED
            )
        else:
            resumed = step.state is StepState.RUNNING  # a consumer before us started it and did not finish
            if not resumed and step.action in (Action.REBOOT, Action.COMMAND, Action.SNAPSHOT):
                step.state, step.started_at = StepState.RUNNING, now
                self._save(held)  # on record before it acts: a successor after a crash knows it may have happened
            ctx = steps.StepContext(
                saga,
                self.store,
                self.ecs,
                self.slb,
                effective,
                now,
                poked,
                resumed,
                lambda w: self._save(held, w),
                holds_lease=lambda: self._holds(held),
                wake=self.wake_now,
                opted_out=self._opt_out_check(held, now) if step.state is StepState.PENDING else None,
            )
            try:
                outcome = steps.RUNNERS[step.action](ctx, step)
            except NotFoundError as exc:
                outcome = steps.Fail(f"{exc.action}: {exc.code}")
            extra += ctx.writes
            extra += outbox_writes([self._notice(saga, "info", "warning", w, now=now) for w in ctx.warnings])
        log.info(
            "%s: %s",
            step.action.value,
            type(outcome).__name__.lower(),
            extra={"saga": saga.key, "step": step.action.value},
        )
        if isinstance(outcome, steps.Replanned):  # opted out before it acted: the new script runs now
            self._save(held, extra)
            return True
        if isinstance(outcome, steps.Done):
            step.state, step.done_at, step.detail = StepState.DONE, now, outcome.detail or step.detail
            saga.cursor += 1
            if step.action is Action.NOTIFY:
                saga.note(now, f"{step.args['phase']}: {step.args['title']}", step)
            elif step.action is Action.CLOSE:
                saga.note(now, f"closed: {saga.outcome}", step)
            else:
                saga.note(now, outcome.detail or step.action.value, step)
            self._save(held, extra)
            return True
        if isinstance(outcome, steps.Fail):
            step.state, step.done_at, step.detail = StepState.FAILED, now, outcome.reason
            saga.cursor += 1
            self._abort(saga, now, outcome.reason)
            self._save(held, extra)
            return True
        assert isinstance(outcome, steps.Wait | steps.Defer)
        if isinstance(outcome, steps.Defer) and not step.args.get("deferred_notified"):
            step.args["deferred_notified"] = True
            title = f"{saga.instance_id}: {step.action.value} deferred: {outcome.detail}"
            extra += outbox_writes([self._notice(saga, "deferred", "warning", title, now=now)])
            saga.note(now, f"deferred: {outcome.detail}", step)
        step.at, step.detail, step.backstop = max(outcome.until, now + steps.MIN_WAIT), outcome.detail, outcome.backstop
        self._save(held, extra)
        return False

    def _abort(self, saga: Saga, now: datetime, reason: str) -> None:
        """Compensation: whatever was left, let go of the drain (restoring it unless another remediation still holds
        it) and tell people what really happened: the notice carries the restore's own outcome."""
        saga.note(now, f"aborted: {reason}")
        title = f"{saga.instance_id}: {reason}"
        saga.replace_remaining(
            [
                Step(action=Action.RESTORE),
                Step(
                    action=Action.NOTIFY,
                    args={"phase": "failed", "level": "critical", "title": title, "text": "", "with_previous": True},
                ),
                Step(action=Action.CLOSE, args={"outcome": "failed"}),
            ]
        )

    def _arm(self, held: _Held) -> None:
        """One timer for the saga's next due time (unless an earlier one is already on its way), then the lease goes.
        A step that news wakes (a snapshot's completion event, a budget's release) gets no timer for its backstop
        look: the reconciler wakes every overdue saga, so a lost event or wake costs one reconciler interval, and the
        usual case costs no message. A drain deadline sooner than that look still gets its timer."""
        saga, now = held.saga, self.now()
        due = saga.next_due(now) if saga.status is SagaStatus.ACTIVE else None
        step = saga.current
        if step is not None and step.backstop and due == step.due(saga.previous_done(), now):
            due = None
        if due is not None and (saga.wake_at is None or saga.wake_at <= now or due < saga.wake_at):
            saga.wake_at = self.timers.arm(saga.key, due, now)
        self._save(held, release=True)


__all__ = ["BusyError", "CommitConflict", "Engine", "RejectedError", "Result", "policy_type", "saga_id"]
