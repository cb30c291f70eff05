"""The drain registry: who holds an instance out of its load balancers, what its weights were, where each backend
stands, and each load balancer's disruption budget.

- ``drain/<instance>``: the instance's backend entries (``memberships``), each with its ORIGINAL weight and its
  ``state`` (``drained`` | ``restored`` | ``gone``), the sagas holding the drain (``holders``), when it began
  (``since``) and when it must end whatever happens (``deadline``, the latest of its holders' deadlines). A second
  saga draining the same instance (a disk stall during a maintenance) joins as a holder instead of saving weight 0
  as "original"; the weights come back when the last holder lets go.
- When the last holder lets go the entry turns ``restoring`` (no holders) in the same commit as that saga; then
  every backend is restored on its own, and the entry is deleted only once every backend is ``restored`` or ``gone``
  (its load balancer, group or server removed meanwhile), in the commit that records the last of them. Whoever finds
  an entry restoring (the saga's next wake, the reconciler) finishes it: a restore is idempotent per backend.
- ``budget/<load balancer>``: the instances drained from it now. A planned drain past the budget is deferred;
  an urgent one (the instance is failing or going away anyway) always goes ahead and still counts. An instance
  leaves the budget when its entry is deleted (its weights are back).
- ``waiting/<load balancer>/<saga>``: a deferred drain waiting for that budget. When an entry is deleted (a slot
  frees), the oldest waiter of each of its load balancers is woken at once, instead of every deferred saga polling
  the budget; should that wake be lost, the reconciler wakes a deferred saga whose budget has room.

These documents change in the same store commit as the saga that takes or lets go of the drain, and the records are
written *before* the SLB call (restores: after it), so a crash between never loses an original weight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ecs_events.actions.types import Membership, SlbView
from ecs_events.models.times import iso_utc, parse_time
from ecs_events.store.base import Doc, Store, Write

DRAINED, RESTORED, GONE = "drained", "restored", "gone"
_FIELDS = ("lb_id", "group_id", "server_id", "port", "weight", "type", "kind")


def drain_key(instance_id: str) -> str:
    return f"drain/{instance_id}"


def budget_key(lb_id: str) -> str:
    return f"budget/{lb_id}"


def _member(record: dict[str, Any]) -> Membership:
    return Membership(**{k: record[k] for k in _FIELDS if k in record})


def _record(m: Membership, state: str = DRAINED, reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {**asdict(m), "state": state}
    if reason:
        out["reason"] = reason
    return out


def memberships_of(doc: Doc | None, state: str | None = None) -> list[Membership]:
    """The backend entries of a drain entry (those in ``state`` only, when given)."""
    if doc is None:
        return []
    records = doc.value.get("memberships", [])
    return [_member(r) for r in records if state is None or r.get("state", DRAINED) == state]


def deadline_of(doc: Doc) -> datetime | None:
    text = doc.value.get("deadline")
    return parse_time(text) if isinstance(text, str) else None


def is_restoring(doc: Doc) -> bool:
    return not doc.value.get("holders")


@dataclass(frozen=True)
class Claim:
    """What taking the drain would write, or why it must wait."""

    writes: list[Write]
    memberships: list[Membership]  # every backend entry of the drain
    blocked_by: list[str]  # load balancers whose budget is spent (empty: go ahead)
    to_drain: list[Membership] = field(default_factory=list)  # the entries the caller must set to weight 0 now
    deadline: datetime | None = None  # the drain's deadline after this claim

    @property
    def fresh(self) -> bool:
        return bool(self.to_drain)


def claim(
    store: Store,
    instance_id: str,
    saga: str,
    *,
    view: SlbView | None,
    limits: dict[str, int],
    urgent: bool,
    now: datetime,
    deadline: datetime,
) -> Claim:
    """The writes that make ``saga`` a holder of ``instance_id``'s drain (and take budget on each load balancer).
    ``view`` is read by the caller only when the instance has no drain entry (``None`` otherwise). Joining an entry
    that is being restored takes it back: the entries restored meanwhile have to be drained again."""
    current = store.get(drain_key(instance_id))
    if current is not None:
        holders = list(current.value.get("holders", []))
        if saga not in holders:
            holders.append(saga)
        records = [dict(r) for r in current.value.get("memberships", [])]
        again = [_member(r) for r in records if r.get("state") == RESTORED]
        for r in records:
            if r.get("state") == RESTORED:
                r["state"] = DRAINED
        ends = max(d for d in (deadline_of(current), deadline) if d is not None)
        value = {**current.value, "holders": holders, "memberships": records, "deadline": iso_utc(ends)}
        members = [_member(r) for r in records]
        return Claim([Write(current.key, value, current.version)], members, [], again, ends)
    assert view is not None
    writes = [
        Write(
            drain_key(instance_id),
            {
                "memberships": [_record(m) for m in view.memberships],
                "holders": [saga],
                "since": iso_utc(now),
                "deadline": iso_utc(deadline),
            },
            0,
        )
    ]
    blocked: list[str] = []
    for lb_id in sorted({m.lb_id for m in view.memberships}):
        doc = store.get(budget_key(lb_id))
        holders_by_lb: dict[str, Any] = dict(doc.value.get("holders", {})) if doc else {}
        if instance_id not in holders_by_lb and len(holders_by_lb) >= limits.get(lb_id, 1) and not urgent:
            blocked.append(lb_id)
            continue
        holders_by_lb[instance_id] = iso_utc(now)
        value = {"holders": holders_by_lb, "size": view.lb_sizes.get(lb_id, 0)}
        writes.append(Write(budget_key(lb_id), value, doc.version if doc else 0))
    return Claim(writes, list(view.memberships), blocked, list(view.memberships), deadline)


@dataclass(frozen=True)
class Release:
    writes: list[Write]
    pending: list[Membership]  # what is left to restore (empty: other holders keep it drained, or nothing is)
    last: bool  # this saga was the last holder: the entry is restoring now
    absent: bool = False  # there was no entry at all


def release(store: Store, instance_id: str, saga: str) -> Release:
    """The writes that drop ``saga`` as a holder; when it was the last one, the entry turns restoring and
    ``pending`` says what to restore (the caller commits these writes first, then restores: ``settle``)."""
    current = store.get(drain_key(instance_id))
    if current is None:
        return Release([], [], last=False, absent=True)
    holders = [h for h in current.value.get("holders", []) if h != saga]
    value = {**current.value, "holders": holders}
    if holders:
        return Release([Write(current.key, value, current.version)], [], last=False)
    return Release([Write(current.key, value, current.version)], memberships_of(current, DRAINED), last=True)


@dataclass(frozen=True)
class Settled:
    """The registry after a restore attempt: what to commit, and what the attempt means now."""

    writes: list[Write]
    complete: bool  # every backend restored or gone: the entry is deleted by ``writes``
    pending: list[Membership]  # still drained (a call failed): try again later
    gone: list[dict[str, Any]]  # records of backends that vanished (reported)
    taken_back: list[Membership]  # restored by us, but the entry has holders again: drain these again
    absent: bool = False  # the entry is gone already (someone else finished it)


def settle(store: Store, instance_id: str, results: dict[str, tuple[str, str | None]]) -> Settled:
    """Record per backend ``key -> (state, reason)`` (``restored`` | ``gone`` | ``drained`` for a failed call) on the
    entry as it is now. When every backend is settled, the entry and its budget holds are deleted."""
    current = store.get(drain_key(instance_id))
    if current is None:
        return Settled([], True, [], [], [], absent=True)
    records = [dict(r) for r in current.value.get("memberships", [])]
    if current.value.get("holders"):  # someone joined while we restored: what we put back must go to 0 again
        back = [_member(r) for r in records if results.get(_member(r).key, ("",))[0] == RESTORED]
        return Settled([], False, [], [], back)
    for r in records:
        state, reason = results.get(_member(r).key, (r.get("state", DRAINED), None))
        if r.get("state", DRAINED) == DRAINED and state in (RESTORED, GONE):
            r["state"] = state
            if reason:
                r["reason"] = reason
    pending = [_member(r) for r in records if r.get("state", DRAINED) == DRAINED]
    gone = [r for r in records if r.get("state") == GONE]
    if pending:
        value = {**current.value, "memberships": records}
        return Settled([Write(current.key, value, current.version)], False, pending, gone, [])
    writes = [Write(current.key, None, current.version)]
    for lb_id in sorted({r["lb_id"] for r in records}):
        doc = store.get(budget_key(lb_id))
        if doc is None:
            continue
        rest = {k: v for k, v in doc.value.get("holders", {}).items() if k != instance_id}
        writes.append(Write(doc.key, {**doc.value, "holders": rest} if rest else None, doc.version))
    return Settled(writes, True, [], gone, [])


def drop_holders(store: Store, instance_id: str, keep: Callable[[str], bool]) -> Write | None:
    """The write that removes the holders ``keep`` refuses (sagas that ended or vanished without letting go), or
    None when every holder stays."""
    current = store.get(drain_key(instance_id))
    if current is None:
        return None
    holders = list(current.value.get("holders", []))
    kept = [h for h in holders if keep(h)]
    if kept == holders:
        return None
    return Write(current.key, {**current.value, "holders": kept}, current.version)


def waiter_key(lb_id: str, saga: str) -> str:
    return f"waiting/{lb_id}/{saga}"


def wait_for(store: Store, lb_ids: Iterable[str], saga: str, now: datetime) -> None:
    """Register ``saga`` as waiting for each of ``lb_ids``' budget (kept if already there)."""
    for lb_id in lb_ids:
        store.commit([Write(waiter_key(lb_id, saga), {"since": iso_utc(now)}, 0)])  # False: registered already


def stop_waiting(store: Store, lb_ids: Iterable[str], saga: str) -> None:
    for lb_id in lb_ids:
        doc = store.get(waiter_key(lb_id, saga))
        if doc is not None:
            store.commit([Write(doc.key, None, doc.version)])


def take_waiters(store: Store, lb_ids: Iterable[str]) -> list[str]:
    """The oldest waiter of each load balancer (one slot each has freed), taken off the waiting list: the sagas to
    wake. A waiter another caller took first is skipped."""
    woken: list[str] = []
    for lb_id in sorted(set(lb_ids)):
        prefix = f"waiting/{lb_id}/"
        for doc in sorted(store.scan(prefix), key=lambda d: (str(d.value.get("since")), d.key)):
            saga = doc.key.removeprefix(prefix)
            if saga in woken:
                continue
            if store.commit([Write(doc.key, None, doc.version)]):
                woken.append(saga)
                break
    return woken


def drop_waiters(store: Store, keep: Callable[[str], bool]) -> int:
    """Remove the waiters ``keep`` refuses (their saga ended or vanished while deferred); how many went."""
    dropped = 0
    for doc in store.scan("waiting/"):
        saga = doc.key.split("/", 2)[2]  # waiting/<lb>/<saga key>
        if not keep(saga) and store.commit([Write(doc.key, None, doc.version)]):
            dropped += 1
    return dropped


def drained_now(store: Store) -> list[Doc]:
    """Every instance drained now, with its original weights (``ecs-events status``, the reconciler)."""
    return store.scan("drain/")


def still_full(store: Store, instance_id: str, waiting_for: dict[str, int], limit: Callable[[int], int]) -> list[str]:
    """The load balancers a deferred drain waits for whose budget is still spent: read from the budget documents
    alone, so a deferred saga polls the store, not the SLB API."""
    full = []
    for lb_id, size in sorted(waiting_for.items()):
        doc = store.get(budget_key(lb_id))
        holders = doc.value.get("holders", {}) if doc else {}
        if instance_id not in holders and len(holders) >= limit(size):
            full.append(lb_id)
    return full


def spent(store: Store, instance_id: str, lb_ids: Iterable[str], limit: Callable[[int], int]) -> dict[str, int]:
    """Of ``lb_ids`` (what a discovery's first listing found), those whose budget is spent by other instances, each
    with the size its budget document recorded: a drain that needs one of them defers before the rest of the
    discovery (the fresh discovery when the budget frees reads the real sizes)."""
    full: dict[str, int] = {}
    for lb_id in sorted(set(lb_ids)):
        doc = store.get(budget_key(lb_id))
        if doc is None:
            continue
        holders, size = doc.value.get("holders", {}), int(doc.value.get("size", 0))
        if instance_id not in holders and len(holders) >= limit(size):
            full[lb_id] = size
    return full


def keys(memberships: Iterable[Membership]) -> list[str]:
    return [m.key for m in memberships]
