"""Carrying out one scripted step. The playbook decided *what*; this module does it through the actions and says
how it went: ``Done``, ``Wait`` (look again at ``until``), ``Defer`` (the budget is spent) or ``Fail``.

Steps are safe to run again after a crash: drains and restores are idempotent and recorded around the SLB call,
snapshots carry a ClientToken derived from the event and the disk, waits only read.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ecs_events.actions.errors import ConflictError, NotFoundError, TransientError
from ecs_events.actions.types import Membership, SlbView
from ecs_events.engine import drain, restore
from ecs_events.engine.errors import CommitConflict
from ecs_events.engine.saga import TERMINAL_EVENT_STATUSES, Action, Saga, Step, StepState
from ecs_events.models.times import parse_time
from ecs_events.store.base import Store, Write

if TYPE_CHECKING:
    from ecs_events.actions.balancers import LoadBalancers
    from ecs_events.actions.ecs import Ecs
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
    backstop: bool = False  # news wakes the step (an event); ``until`` is only the look should that news be lost


@dataclass(frozen=True)
class Defer:
    """The budget is spent: the release that frees a slot wakes the drain; ``until`` is only its fallback look."""

    until: datetime
    detail: str = ""
    backstop: bool = True


@dataclass(frozen=True)
class Fail:
    reason: str


@dataclass(frozen=True)
class Replanned:
    """The step found the instance opted out before it acted: the engine replaced the rest of the script."""


Outcome = Done | Wait | Defer | Fail | Replanned


@dataclass
class StepContext:
    saga: Saga
    store: Store
    ecs: Ecs
    slb: LoadBalancers
    policy: Effective
    now: datetime
    poked: bool  # an event this gate waits for arrived: it looks at once (and trusts what the event recorded)
    resumed: bool  # the step was started by a consumer that did not finish it (crash, lost lease)
    save: Callable[[Sequence[Write]], None]  # persist the saga now, with these writes, in one commit
    holds_lease: Callable[[], bool] = lambda: True  # the saga is still ours (a lost lease: touch nothing more)
    wake: Callable[[str], None] | None = None  # send a saga its wake now (a deferred drain, when a budget frees)
    # Reads the tags again before the step disrupts: True when the instance opted out (the script was replaced).
    opted_out: Callable[[], bool] | None = None
    writes: list[Write] = field(default_factory=list)  # to commit with the step's result
    warnings: list[str] = field(default_factory=list)  # notices (warning) the engine sends with the step's result

    @property
    def poll(self) -> datetime:
        return self.now + self.policy.poll_interval

    @property
    def event_poll(self) -> datetime:
        """A gate whose news comes as an event (Snapshot:CreateSnapshotCompleted pokes the saga at once): the timer
        is only the backstop, should that event be lost, so it need not look every poll interval."""
        return self.now + max(self.policy.poll_interval, EVENT_BACKSTOP)

    @property
    def budget_poll(self) -> datetime:
        """A deferred drain is woken when a slot frees (``drain.take_waiters``); this is only its backstop look (the
        reconciler's, no timer), should that wake be lost: never sooner than a drain period, at least
        ``BUDGET_FALLBACK``."""
        return self.now + max(self.policy.poll_interval, self.policy.drain_period, BUDGET_FALLBACK)


def client_token(*parts: str) -> str:
    """<= 64 ASCII characters, the same for the same event and disk: a retried CreateSnapshot makes one snapshot."""
    return "ecs-events-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:48]


# -- the steps -------------------------------------------------------------------------------------------------------


def do_drain(ctx: StepContext, step: Step) -> Outcome:
    saga = ctx.saga
    urgent = bool(step.args.get("urgent"))
    if saga.drained:  # taken before a crash, or by an earlier step: make sure the weights are 0 (idempotent)
        members = drain.memberships_of(ctx.store.get(drain.drain_key(saga.instance_id)), drain.DRAINED)
        if step.args.get("settling"):  # an asynchronous load balancer (ALB, NLB) is applying the weight
            if not _settled(ctx, members, 0):
                return Wait(ctx.poll, "load balancer jobs still configuring the weight 0")
            step.args.pop("settling")
        elif members and ctx.resumed:  # what the first attempt could not set: done only when every entry is at 0
            return _zero_again(ctx, step, members, f"drained from {len(members)} backend entries")
        return Done(f"drained from {len(members)} backend entries")
    if saga.waiting_for and not urgent:  # deferred before: the budgets first, the load balancers once there is room
        full = drain.still_full(ctx.store, saga.instance_id, saga.waiting_for, ctx.policy.budget_for)
        if full:
            drain.wait_for(ctx.store, full, saga.key, ctx.now)
            return Defer(ctx.budget_poll, f"disruption budget spent on {', '.join(full)}")
    hold = step.args.get("hold_until")  # the platform acts then: the drain lasts at least until max_drain past it
    start = max(ctx.now, parse_time(hold)) if isinstance(hold, str) else ctx.now
    deadline = start + ctx.policy.max_drain
    found: dict[str, int] = {}  # budget units the discovery's first listing found spent, with their sizes

    def spent(lb_ids: list[str]) -> list[str]:
        found.update(drain.spent(ctx.store, saga.instance_id, lb_ids, ctx.policy.budget_for))
        return sorted(found)

    for _ in range(CLAIM_ATTEMPTS):  # budgets are shared: another saga may take the same one between read and write
        existing = ctx.store.get(drain.drain_key(saga.instance_id))
        found.clear()
        view = None if existing is not None else ctx.slb.find(saga.instance_id, None if urgent else spent)
        if view is not None and view.blocked:  # a spent budget: no more discovery calls until it frees
            saga.waiting_for = {lb: found.get(lb, 0) for lb in view.blocked}
            drain.wait_for(ctx.store, view.blocked, saga.key, ctx.now)
            return Defer(ctx.budget_poll, f"disruption budget spent on {', '.join(view.blocked)}")
        if view is not None and not view.memberships:
            return Done("behind no load balancer")
        limits = {lb: ctx.policy.budget_for(size) for lb, size in (view.lb_sizes.items() if view else ())}
        claim = drain.claim(
            ctx.store,
            saga.instance_id,
            saga.key,
            view=view,
            limits=limits,
            urgent=urgent,
            now=ctx.now,
            deadline=deadline,
        )
        if claim.blocked_by:
            saga.waiting_for = {lb: view.lb_sizes.get(lb, 0) for lb in claim.blocked_by} if view else {}
            drain.wait_for(ctx.store, claim.blocked_by, saga.key, ctx.now)
            return Defer(ctx.budget_poll, f"disruption budget spent on {', '.join(claim.blocked_by)}")
        if ctx.opted_out is not None and ctx.opted_out():  # the tags, read once the budgets let the drain go
            drain.stop_waiting(ctx.store, list(saga.waiting_for), saga.key)
            saga.waiting_for = {}
            return Replanned()
        waited = list(saga.waiting_for)
        saga.drained, saga.drain_deadline, saga.waiting_for = True, claim.deadline, {}
        step.state, step.started_at = StepState.RUNNING, ctx.now
        try:
            ctx.save(claim.writes)  # originals on record before the weights change
        except CommitConflict:
            if not ctx.holds_lease():
                raise
            saga.drained, saga.drain_deadline, step.state = False, None, StepState.PENDING
            saga.waiting_for = dict.fromkeys(waited, 0)
            continue
        drain.stop_waiting(ctx.store, waited, saga.key)
        if claim.to_drain:
            _set_0(ctx, claim.to_drain)
        lbs = sorted({m.lb_id if m.kind == "clb" else f"{m.kind.upper()} {m.lb_id}" for m in claim.memberships})
        held = _connection_draining(step, view, claim.memberships, ctx.saga)
        if held:
            ctx.saga.note(ctx.now, held.strip(" ()"), step)
        if not claim.fresh:
            # Joining a drain another remediation holds is no proof its weights are 0: its call may have been
            # refused (an ALB group configuring) or failed, its job may still be configuring.
            members = drain.memberships_of(ctx.store.get(drain.drain_key(saga.instance_id)), drain.DRAINED)
            joined = f"joined the drain on {', '.join(lbs)} (held by another remediation too)"
            return _zero_again(ctx, step, members, joined)
        detail = f"weight 0 on {len(claim.to_drain)} backend entries of {', '.join(lbs)}{held}"
        if any(m.kind in ASYNC_KINDS for m in claim.to_drain):
            # Done once the jobs are: polled, never slept on. Not read at once: a job just started is never done.
            step.args["settling"] = True
            return Wait(ctx.poll, f"{detail}; load balancer jobs configuring")
        return Done(detail)
    raise CommitConflict(f"{saga.key}: the drain kept losing to concurrent changes")


ASYNC_KINDS = frozenset({"alb", "nlb"})  # their changes are jobs: servers Configuring, then Available


def _not_at_0(ctx: StepContext, members: Sequence[Membership]) -> list[Membership]:
    """The entries to set 0 again: every CLB one (its weight is not read back, and setting it costs nothing), the
    ALB/NLB ones not settled at 0 (setting those again starts a job that configures the group anew, while another
    remediation of the instance may be about to reboot it)."""
    return [m for m in members if m.kind not in ASYNC_KINDS or not _settled(ctx, [m], 0)]


def _set_0(ctx: StepContext, members: Sequence[Membership]) -> None:
    """Weight 0 on every entry; any left drained by a failed call raises (recorded as drained: the message comes
    back, and the resumed step sets 0 again)."""
    results = restore.apply(ctx.slb, members, weight=0)
    failed = [reason for state, reason in results.values() if state == drain.DRAINED]
    if failed:
        raise TransientError("Slb", "drain", "DrainIncomplete", failed[-1] or "")


def _zero_again(ctx: StepContext, step: Step, members: Sequence[Membership], detail: str) -> Outcome:
    """A drain found under way (resumed after a crash, or joined): 0 again on every entry still drained
    (idempotent), then done once the ALB/NLB jobs carry it, before this saga's disruption goes on."""
    _set_0(ctx, _not_at_0(ctx, members))
    if any(m.kind in ASYNC_KINDS for m in members) and not _settled(ctx, members, 0):
        step.args["settling"] = True
        return Wait(ctx.poll, f"{detail}; load balancer jobs configuring")
    return Done(detail)


def _settled(ctx: StepContext, members: Sequence[Membership], weight: int | None) -> bool:
    """Whether the load balancers carry ``weight`` for good (CLB: as soon as the call returned)."""
    settled = getattr(ctx.slb, "settled", None)
    return True if settled is None else bool(settled(members, weight))


def _connection_draining(step: Step, view: SlbView | None, members: Sequence[Membership], saga: Saga) -> str:
    """A group with connection draining keeps serving open connections for its ``ConnectionDrainTimeout``: the
    drain period after this step lasts at least that long. Says which applied (for the plan and the notices)."""
    timeouts = (view.drain_seconds if view is not None else {}) or {}
    longest = max(((timeouts.get(m.lb_id, 0), m.lb_id) for m in members), default=(0, ""))
    index = next((i for i, candidate in enumerate(saga.steps) if candidate is step), -1)
    following = saga.steps[index + 1] if 0 <= index < len(saga.steps) - 1 else None
    if longest[0] <= 0 or following is None or following.action is not Action.WAIT:
        return ""
    if following.after >= longest[0]:
        return f" (drain period {following.after:.0f} s covers connection draining {longest[0]} s of {longest[1]})"
    following.after = float(longest[0])
    following.args["drain_period_from"] = f"ConnectionDrainTimeout of {longest[1]}"
    return f" (drain period {longest[0]} s: the ConnectionDrainTimeout of {longest[1]})"


def _let_go(ctx: StepContext, remove: bool) -> Outcome:
    """Stop holding the drain; when no other saga holds it, restore (or remove) every backend on its own. The entry
    is left only once every backend is back or gone; until then the step waits and tries again."""
    saga = ctx.saga
    was_holding = saga.drained
    for _ in range(CLAIM_ATTEMPTS):
        if not saga.drained:
            break
        rel = drain.release(ctx.store, saga.instance_id, saga.key)
        saga.drained, saga.drain_deadline = False, None
        try:
            ctx.save(rel.writes)  # released first: whoever finds the entry restoring may finish it
            break
        except CommitConflict:
            if not ctx.holds_lease():
                raise
            saga.drained = True
    else:
        raise CommitConflict(f"{saga.key}: the release kept losing to concurrent changes")
    finished = restore.finish(
        ctx.store, ctx.slb, saga.instance_id, remove=remove, commit=ctx.save, may_drain=ctx.holds_lease, wake=ctx.wake
    )
    if finished.held:
        if not was_holding:
            return Done("nothing drained")
        return Done("another remediation still holds the drain: the weights stay 0 until it lets go")
    if finished.gone:
        ctx.warnings.append(f"{saga.instance_id}: {finished.summary()}")
    if not finished.done:
        return Wait(ctx.poll, finished.summary())
    if not was_holding and not finished.restored and not finished.gone:
        return Done("nothing drained")
    return Done(finished.summary("weights restored on" if not remove else "removed from"))


def do_restore(ctx: StepContext, step: Step) -> Outcome:
    """Let go and restore; on asynchronous load balancers the step is done once their jobs carry the weights."""
    pending = step.args.get("settling")
    if pending:
        members = [Membership(**m) for m in pending]
        if not _settled(ctx, members, None):
            return Wait(ctx.poll, f"load balancer jobs still restoring {len(members)} backend entries")
        step.args.pop("settling")
        return Done(step.detail or "weights restored")
    doc = ctx.store.get(drain.drain_key(ctx.saga.instance_id))
    settling = [m for m in drain.memberships_of(doc, drain.DRAINED) if m.kind in ASYNC_KINDS] if doc else []
    outcome = _let_go(ctx, remove=False)
    if isinstance(outcome, Done) and settling:  # the jobs just started: their first look one poll later
        step.args["settling"] = [asdict(m) for m in settling]
        step.detail = outcome.detail
        return Wait(ctx.poll, f"{outcome.detail}; load balancer jobs configuring")
    return outcome


def do_remove(ctx: StepContext, step: Step) -> Outcome:
    return _let_go(ctx, remove=True)


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
            return Wait(ctx.event_poll, f"{len(ids)} snapshot(s) progressing", backstop=True)
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
        return Wait(ctx.event_poll, "snapshots progressing", backstop=True)
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
    """Polled: health has no event. An instance that stays unhealthy is looked at less often (the poll interval,
    doubling each look, at most ``HEALTH_BACKOFF_CAP`` or the poll interval if longer): an impairment that lasts until
    ``max_drain`` costs tens of looks, not one every 15 s (a timer and a DescribeInstancesFullStatus each)."""
    status = ctx.ecs.full_status(ctx.saga.instance_id)
    if status is None:
        return Fail("the instance is gone")
    if status == HEALTHY:
        return Done("Running, health OK")
    looks = int(step.args.get("looks", 0))
    step.args["looks"] = looks + 1
    poll = ctx.policy.poll_interval
    wait = min(poll * (2 ** min(looks, 16)), max(poll, HEALTH_BACKOFF_CAP))
    return Wait(ctx.now + wait, f"{status[0]}, health {status[1]}")


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
BUDGET_FALLBACK = timedelta(minutes=15)  # a deferred drain's backstop look, should its wake be lost
EVENT_BACKSTOP = timedelta(minutes=2)  # a gate an event pokes looks on its own this often
HEALTH_BACKOFF_CAP = timedelta(minutes=2)  # the longest pause between two health looks (unless poll_interval)
CLAIM_ATTEMPTS = 5

GATES = frozenset({Action.SNAPSHOT, Action.COMMAND, Action.WAIT_HEALTHY, Action.WAIT_EVENT_DONE})
"""Steps that wait for the cloud (their duration is not known in advance)."""
