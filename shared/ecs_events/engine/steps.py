"""Carrying out one scripted step. The playbook decided *what*; this module does it through the actions and says
how it went: ``Done``, ``Wait`` (look again at ``until``), ``Defer`` (the budget is spent) or ``Fail``.

Steps are safe to run again after a crash: drains and restores are idempotent and recorded around the SLB call,
snapshots carry a ClientToken derived from the event and the disk, waits only read.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ecs_events.actions.errors import ConflictError, NotFoundError
from ecs_events.engine import drain
from ecs_events.engine.errors import CommitConflict
from ecs_events.engine.saga import TERMINAL_EVENT_STATUSES, Action, Saga, Step, StepState
from ecs_events.store.base import Store, Write

if TYPE_CHECKING:
    from ecs_events.actions.ecs import Ecs
    from ecs_events.actions.slb import Slb
    from ecs_events.policy import Effective

log = logging.getLogger("ecs_events.engine")

HEALTHY = ("Running", "Ok")
DRY_RUN = "dry-run"  # what the actions return for a call dry-run did not make


@dataclass(frozen=True)
class Done:
    detail: str = ""


@dataclass(frozen=True)
class Wait:
    until: datetime
    detail: str = ""


@dataclass(frozen=True)
class Defer:
    until: datetime
    detail: str = ""


@dataclass(frozen=True)
class Fail:
    reason: str


Outcome = Done | Wait | Defer | Fail


@dataclass
class StepContext:
    saga: Saga
    store: Store
    ecs: Ecs
    slb: Slb
    policy: Effective
    now: datetime
    poked: bool  # an event this gate waits for arrived: it looks at once (and trusts what the event recorded)
    resumed: bool  # the step was started by a consumer that did not finish it (crash, lost lease)
    save: Callable[[Sequence[Write]], None]  # persist the saga now, with these writes, in one commit
    writes: list[Write] = field(default_factory=list)  # to commit with the step's result

    @property
    def poll(self) -> datetime:
        return self.now + self.policy.poll_interval

    @property
    def budget_poll(self) -> datetime:
        """A budget frees no sooner than a drain period after it was taken: looking more often only costs timers."""
        return self.now + max(self.policy.poll_interval, self.policy.drain_period)


def client_token(*parts: str) -> str:
    """<= 64 ASCII characters, the same for the same event and disk: a retried CreateSnapshot makes one snapshot."""
    return "ecs-events-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:48]


# -- the steps -------------------------------------------------------------------------------------------------------


def do_drain(ctx: StepContext, step: Step) -> Outcome:
    saga = ctx.saga
    if saga.drained:  # taken before a crash, or by an earlier step: make sure the weights are 0 (idempotent)
        members = drain.memberships_of(ctx.store.get(drain.drain_key(saga.instance_id)))
        if members and ctx.resumed:
            ctx.slb.set_weights(members, 0)
        return Done(f"drained from {len(members)} backend entries")
    if saga.waiting_for:  # deferred before: look at the budgets first, the load balancers only once there is room
        full = drain.still_full(ctx.store, saga.instance_id, saga.waiting_for, ctx.policy.budget_for)
        if full:
            return Defer(ctx.budget_poll, f"disruption budget spent on {', '.join(full)}")
    for _ in range(CLAIM_ATTEMPTS):  # budgets are shared: another saga may take the same one between read and write
        existing = ctx.store.get(drain.drain_key(saga.instance_id))
        view = None if existing is not None else ctx.slb.find(saga.instance_id)
        if view is not None and not view.memberships:
            return Done("behind no load balancer")
        limits = {lb: ctx.policy.budget_for(size) for lb, size in (view.lb_sizes.items() if view else ())}
        urgent = bool(step.args.get("urgent"))
        claim = drain.claim(ctx.store, saga.instance_id, saga.key, view=view, limits=limits, urgent=urgent, now=ctx.now)
        if claim.blocked_by:
            saga.waiting_for = {lb: view.lb_sizes.get(lb, 0) for lb in claim.blocked_by} if view else {}
            return Defer(ctx.budget_poll, f"disruption budget spent on {', '.join(claim.blocked_by)}")
        saga.drained, saga.drain_deadline, saga.waiting_for = True, ctx.now + ctx.policy.max_drain, {}
        step.state, step.started_at = StepState.RUNNING, ctx.now
        try:
            ctx.save(claim.writes)  # originals on record before the weights change
        except CommitConflict:
            saga.drained, saga.drain_deadline, step.state = False, None, StepState.PENDING
            continue
        if claim.fresh:
            ctx.slb.set_weights(claim.memberships, 0)
        lbs = sorted({m.lb_id for m in claim.memberships})
        return Done(f"weight 0 on {len(claim.memberships)} backend entries of {', '.join(lbs)}")
    raise CommitConflict(f"{saga.key}: the drain kept losing to concurrent changes")


def _let_go(ctx: StepContext, restore: bool) -> Outcome:
    saga = ctx.saga
    if not saga.drained:
        return Done("nothing drained")
    rel = drain.release(ctx.store, saga.instance_id, saga.key)
    if rel.last and rel.memberships:
        try:
            if restore:
                ctx.slb.set_weights(rel.memberships, None)
            else:
                ctx.slb.remove(rel.memberships)
        except NotFoundError as exc:  # the load balancer or server is gone: nothing to put back
            log.warning("restore of %s: %s", saga.instance_id, exc, extra={"saga": saga.key})
    saga.drained, saga.drain_deadline = False, None
    for _ in range(CLAIM_ATTEMPTS):  # a budget document shared with other sagas may change meanwhile: read again
        try:
            ctx.save(rel.writes)  # released now, so a lost race never sends the restore twice
            break
        except CommitConflict:
            restored = rel.memberships if rel.last else []
            rel = drain.release(ctx.store, saga.instance_id, saga.key)
            if restored and restore and not rel.last:  # another saga joined the drain meanwhile: drained it stays
                ctx.slb.set_weights(restored, 0)
    else:
        raise CommitConflict(f"{saga.key}: the release kept losing to concurrent changes")
    if not rel.last:
        return Done("another remediation still holds the drain")
    verb = "weights restored on" if restore else "removed from"
    return Done(f"{verb} {len(rel.memberships)} backend entries")


def do_restore(ctx: StepContext, step: Step) -> Outcome:
    return _let_go(ctx, restore=True)


def do_remove(ctx: StepContext, step: Step) -> Outcome:
    return _let_go(ctx, restore=False)


def do_snapshot(ctx: StepContext, step: Step) -> Outcome:
    saga = ctx.saga
    if not saga.snapshots:
        ids = list(step.args.get("disk_ids") or [])
        if not ids:
            data_only = bool(step.args.get("data_only"))
            ids = [d.disk_id for d in ctx.ecs.describe_disks(saga.instance_id) if not data_only or d.type == "data"]
        if not ids:
            return Done("no disk to snapshot")
        for disk_id in ids:
            token = client_token(saga.event_id, disk_id)
            name = f"ecs-events-{saga.event_type}-{disk_id}"[:128].replace(":", "-")
            snap = ctx.ecs.create_snapshot(disk_id, token=token, name=name, description=f"ecs-events {saga.key}")
            if snap == DRY_RUN:  # nothing was created: the plan goes on as if it had completed
                saga.snapshots[disk_id] = {"snapshot_id": f"{DRY_RUN}-{disk_id}", "status": "accomplished"}
                continue
            saga.snapshots[disk_id] = {"snapshot_id": snap, "status": "progressing"}
            ctx.writes.append(Write(f"index/snapshot/{snap}", {"saga": saga.key}, 0))
        if not step.args.get("wait", True):
            return Done(f"{len(ids)} snapshot(s) started")
        if any(s["status"] == "progressing" for s in saga.snapshots.values()):
            return Wait(ctx.poll, f"{len(ids)} snapshot(s) progressing")
    pending = [s["snapshot_id"] for s in saga.snapshots.values() if s["status"] == "progressing"]
    if pending and not ctx.poked:
        found = ctx.ecs.describe_snapshots(pending)
        for record in saga.snapshots.values():
            facts = found.get(record["snapshot_id"])
            if facts is not None:
                record["status"] = facts.status
    failed = [d for d, s in saga.snapshots.items() if s["status"] == "failed"]
    if failed:
        return Fail(f"snapshot of {', '.join(failed)} failed")
    if any(s["status"] == "progressing" for s in saga.snapshots.values()):
        return Wait(ctx.poll, "snapshots progressing")
    return Done(", ".join(s["snapshot_id"] for s in saga.snapshots.values()))


def do_command(ctx: StepContext, step: Step) -> Outcome:
    saga = ctx.saga
    if saga.invoke_id is None:
        saga.invoke_id = ctx.ecs.run_command(
            saga.instance_id,
            str(step.args["content"]),
            type=str(step.args.get("type", "RunShellScript")),
            timeout=int(step.args.get("timeout", 60)),
        )
        return Wait(ctx.poll, f"command {saga.invoke_id} running")
    result = ctx.ecs.invocation_result(saga.invoke_id, saga.instance_id)
    if result.exit_code is None and result.status not in ("Failed", "Stopped", "Finished"):
        return Wait(ctx.poll, f"command {result.status}")
    if result.exit_code == 0 and result.status == "Finished":
        return Done("pre-reboot command succeeded")
    return Fail(f"pre-reboot command {result.status} (exit {result.exit_code}): {result.output[-200:]}")


def do_reboot(ctx: StepContext, step: Step) -> Outcome:
    saga = ctx.saga
    if ctx.resumed:  # RebootInstance may have gone out before a crash: do not reboot twice
        if saga.event_status in ("Avoided", "Executed"):
            return Done("the reboot before the interruption went through")
        status = ctx.ecs.full_status(saga.instance_id)
        if status is not None and status[0] != "Running":
            return Done(f"reboot under way ({status[0]})")
        # Running again already? The cloud's own record of the event says whether our reboot went out (Avoided).
        if ctx.ecs.event_status(saga.instance_id, saga.event_id) in ("Avoided", "Executing", "Executed"):
            saga.rebooted_at = saga.rebooted_at or step.started_at
            return Done("the reboot before the interruption went through (event already avoided)")
    try:
        ctx.ecs.reboot(saga.instance_id)
    except ConflictError as exc:
        # A retry after a lost answer meets the reboot it already caused (IncorrectInstanceStatus while it stops).
        status = ctx.ecs.full_status(saga.instance_id)
        if status is not None and status[0] in ("Stopping", "Starting"):
            saga.rebooted_at = ctx.now
            return Done(f"reboot under way ({status[0]})")
        return Fail(f"RebootInstance refused: {exc.code}")
    saga.rebooted_at = ctx.now
    return Done("RebootInstance sent")


def do_wait_healthy(ctx: StepContext, step: Step) -> Outcome:
    status = ctx.ecs.full_status(ctx.saga.instance_id)
    if status is None:
        return Fail("the instance is gone")
    if status == HEALTHY:
        return Done("Running, health OK")
    return Wait(ctx.poll, f"{status[0]}, health {status[1]}")


def do_wait_event_done(ctx: StepContext, step: Step) -> Outcome:
    saga = ctx.saga
    if saga.event_finished or saga.event_status in TERMINAL_EVENT_STATUSES:
        return Done(f"event {saga.event_status or 'ended'}")
    # Nothing to poll: the next notification (or the drain deadline) wakes the saga.
    until = saga.drain_deadline or (ctx.now + ctx.policy.max_drain)
    return Wait(until, f"waiting for the platform ({saga.event_status})")


def do_accept(ctx: StepContext, step: Step) -> Outcome:
    try:
        ctx.ecs.accept_inquired(ctx.saga.event_id)
    except NotFoundError:
        return Done("no longer inquiring")
    return Done("accepted")


def do_console(ctx: StepContext, step: Step) -> Outcome:
    try:
        text = ctx.ecs.console_output(ctx.saga.instance_id)
    except (NotFoundError, ConflictError) as exc:
        return Done(f"console output unavailable: {exc.code}")
    return Done(text[-1500:])


def do_wait(ctx: StepContext, step: Step) -> Outcome:
    return Done()


RUNNERS: dict[Action, Callable[[StepContext, Step], Outcome]] = {
    Action.WAIT: do_wait,
    Action.DRAIN: do_drain,
    Action.RESTORE: do_restore,
    Action.REMOVE: do_remove,
    Action.SNAPSHOT: do_snapshot,
    Action.COMMAND: do_command,
    Action.REBOOT: do_reboot,
    Action.WAIT_HEALTHY: do_wait_healthy,
    Action.WAIT_EVENT_DONE: do_wait_event_done,
    Action.ACCEPT: do_accept,
    Action.CONSOLE: do_console,
}

MIN_WAIT = timedelta(seconds=1)
CLAIM_ATTEMPTS = 5

GATES = frozenset({Action.SNAPSHOT, Action.COMMAND, Action.WAIT_HEALTHY, Action.WAIT_EVENT_DONE})
"""Steps that wait for the cloud (their duration is not known in advance)."""
