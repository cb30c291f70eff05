"""Putting an instance back, one server group at a time: the cloud side of the drain registry (``engine.drain``).

Every group is its own call and its own outcome, so a load balancer, group or server that vanished (a person removed
it by hand, the load balancer was deleted) is recorded as ``gone`` and never stops the others; a call that keeps
failing leaves its entries ``drained`` for the next attempt. ``finish`` is what the saga's restore step and the
reconciler both run: idempotent, and safe against a drain taken again meanwhile.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecs_events.actions.errors import CloudCallError, NotFoundError
from ecs_events.engine import drain
from ecs_events.engine.errors import CommitConflict
from ecs_events.store.base import Doc, Store, Write

if TYPE_CHECKING:
    from ecs_events.actions.balancers import LoadBalancers
    from ecs_events.actions.types import Membership

log = logging.getLogger("ecs_events.engine")

Results = dict[str, tuple[str, str | None]]
ATTEMPTS = 5


def by_group(members: Iterable[Membership]) -> dict[tuple[str, str, str | None], list[Membership]]:
    groups: dict[tuple[str, str, str | None], list[Membership]] = defaultdict(list)
    for m in members:
        groups[m.group].append(m)
    return dict(groups)


def apply(slb: LoadBalancers, members: Sequence[Membership], *, weight: int | None, remove: bool = False) -> Results:
    """Set weight ``weight`` (None: each entry's saved weight) on every entry, or ``remove`` them, one call per
    group. Per entry: ``restored`` (done), ``gone`` (its load balancer, group or server no longer exists) or
    ``drained`` with the error (the call failed after its retries: try again later)."""
    results: Results = {}
    for group, entries in by_group(members).items():
        try:
            if remove:
                slb.remove(entries)
            else:
                slb.set_weights(entries, weight)
            outcome: tuple[str, str | None] = (drain.RESTORED, None)
        except NotFoundError as exc:
            outcome = (drain.GONE, f"{exc.action}: {exc.code}")
            log.warning("%s of %s: gone (%s)", "removal" if remove else "weight", "/".join(map(str, group)), exc.code)
        except CloudCallError as exc:
            outcome = (drain.DRAINED, str(exc))
            log.warning("%s of %s failed: %s", "removal" if remove else "weight", "/".join(map(str, group)), exc)
        for m in entries:
            results[m.key] = outcome
    return results


@dataclass(frozen=True)
class Finished:
    done: bool  # nothing left to restore for this instance (restored, gone, or never drained)
    restored: int = 0
    gone: tuple[str, ...] = ()  # "kind lb/group server:port (code)" of the entries that vanished
    pending: int = 0  # entries whose call failed: try again
    error: str | None = None  # the last failure
    held: bool = False  # the entry has holders: it is not ours to restore

    def summary(self, verb: str = "weights restored on") -> str:
        parts = [f"{verb} {self.restored} backend entries"] if self.restored or not self.gone else []
        if self.gone:
            parts.append(f"{len(self.gone)} gone ({'; '.join(self.gone[:5])})")
        if self.pending:
            parts.append(f"{self.pending} still drained: {self.error}")
        return ", ".join(parts)


def _wake_waiters(store: Store, doc: Doc, wake: Callable[[str], None]) -> None:
    lbs = {str(r["lb_id"]) for r in doc.value.get("memberships", []) if isinstance(r, dict) and "lb_id" in r}
    for saga in drain.take_waiters(store, lbs):
        try:
            wake(saga)
        except Exception as exc:  # the reconciler wakes a deferred drain whose budget has room
            log.warning("could not wake %s, waiting for a budget: %s", saga, exc, extra={"saga": saga})


def describe(record: dict[str, object]) -> str:
    group = record.get("group_id") or "default"
    port = f":{record['port']}" if record.get("port") is not None else ""
    return f"{record.get('kind', 'clb')} {record['lb_id']}/{group} {record['server_id']}{port} ({record.get('reason')})"


def finish(
    store: Store,
    slb: LoadBalancers,
    instance_id: str,
    *,
    remove: bool = False,
    commit: Callable[[Sequence[Write]], None],
    may_drain: Callable[[], bool] = lambda: True,
    wake: Callable[[str], None] | None = None,
) -> Finished:
    """Restore (or remove) every entry of ``instance_id``'s drain that is still drained, when the entry is restoring
    (no holders). ``commit`` stores the registry writes (with the caller's saga, under its lease); it raises
    ``CommitConflict`` when the compare-and-set lost, and then the registry is read again. ``may_drain`` says whether
    the caller may set weights to 0 again (a saga that lost its lease may not)."""
    restored = 0
    for _ in range(ATTEMPTS):
        doc = store.get(drain.drain_key(instance_id))
        if doc is None:
            return Finished(True, restored)
        if not drain.is_restoring(doc):
            return Finished(False, restored, held=True)
        pending = drain.memberships_of(doc, drain.DRAINED)
        results = apply(slb, pending, weight=None, remove=remove)
        settled = drain.settle(store, instance_id, results)
        if settled.taken_back:
            # A drain was taken again while we restored: its holder counts on these being at 0.
            if may_drain():
                apply(slb, settled.taken_back, weight=0)
            return Finished(False, restored, held=True)
        try:
            commit(settled.writes)
        except CommitConflict:
            if not may_drain():
                raise
            continue
        if settled.complete and wake is not None:  # a budget slot freed on each of its load balancers
            _wake_waiters(store, doc, wake)
        restored += sum(1 for state, _ in results.values() if state == drain.RESTORED)
        failures = [reason for state, reason in results.values() if state == drain.DRAINED]
        gone = tuple(describe(r) for r in settled.gone)
        return Finished(settled.complete, restored, gone, len(settled.pending), failures[-1] if failures else None)
    raise CommitConflict(f"drain/{instance_id}: the restore kept losing to concurrent changes")
