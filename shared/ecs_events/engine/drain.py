"""The drain registry: who holds an instance out of its load balancers, what its weights were, and each load
balancer's disruption budget.

- ``drain/<instance>``: the instance's memberships with their ORIGINAL weights, read once by the first saga that
  drains it, and the sagas holding the drain. A second saga draining the same instance (a disk stall during a
  maintenance) joins as a holder instead of saving weight 0 as "original"; the weights come back when the last
  holder lets go.
- ``budget/<load balancer>``: the instances drained from it now. A planned drain past the budget is deferred;
  an urgent one (the instance is failing or going away anyway) always goes ahead and still counts.

These documents change in the same store commit as the saga that takes or lets go of the drain, and the records
are written *before* the SLB call (restores: after it), so a crash between never loses an original weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ecs_events.actions.types import Membership, SlbView
from ecs_events.models.times import iso_utc
from ecs_events.store.base import Doc, Store, Write


def drain_key(instance_id: str) -> str:
    return f"drain/{instance_id}"


def budget_key(lb_id: str) -> str:
    return f"budget/{lb_id}"


def memberships_of(doc: Doc | None) -> list[Membership]:
    if doc is None:
        return []
    return [Membership(**m) for m in doc.value.get("memberships", [])]


@dataclass(frozen=True)
class Claim:
    """What taking the drain would write, or why it must wait."""

    writes: list[Write]
    memberships: list[Membership]
    blocked_by: list[str]  # load balancers whose budget is spent (empty: go ahead)
    fresh: bool  # this saga is the first holder: the SLB call has to happen


def claim(
    store: Store,
    instance_id: str,
    saga: str,
    *,
    view: SlbView | None,
    limits: dict[str, int],
    urgent: bool,
    now: datetime,
) -> Claim:
    """The writes that make ``saga`` a holder of ``instance_id``'s drain (and take budget on each load balancer).
    ``view`` is read by the caller only when the instance is not drained yet (``None`` otherwise)."""
    current = store.get(drain_key(instance_id))
    if current is not None:
        holders = list(current.value.get("holders", []))
        if saga not in holders:
            holders.append(saga)
        value = {**current.value, "holders": holders}
        return Claim([Write(current.key, value, current.version)], memberships_of(current), [], fresh=False)
    assert view is not None
    writes = [
        Write(
            drain_key(instance_id),
            {"memberships": [asdict(m) for m in view.memberships], "holders": [saga], "since": iso_utc(now)},
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
    return Claim(writes, list(view.memberships), blocked, fresh=True)


@dataclass(frozen=True)
class Release:
    writes: list[Write]
    memberships: list[Membership]  # what to restore (empty: other holders keep it drained, or nothing was)
    last: bool


def release(store: Store, instance_id: str, saga: str) -> Release:
    """The writes that drop ``saga`` as a holder; when it was the last one, the drain and its budget go too and
    ``memberships`` says what to restore (the caller restores first, then commits)."""
    current = store.get(drain_key(instance_id))
    if current is None:
        return Release([], [], last=False)
    holders = [h for h in current.value.get("holders", []) if h != saga]
    if holders:
        return Release([Write(current.key, {**current.value, "holders": holders}, current.version)], [], last=False)
    members = memberships_of(current)
    writes = [Write(current.key, None, current.version)]
    for lb_id in sorted({m.lb_id for m in members}):
        doc = store.get(budget_key(lb_id))
        if doc is None:
            continue
        rest = {k: v for k, v in doc.value.get("holders", {}).items() if k != instance_id}
        writes.append(Write(doc.key, {**doc.value, "holders": rest} if rest else None, doc.version))
    return Release(writes, members, last=True)


def drained_now(store: Store) -> list[Doc]:
    """Every instance drained now, with its original weights (``ecs-events status``)."""
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
