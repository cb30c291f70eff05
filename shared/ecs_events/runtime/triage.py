"""The events a store read alone answers, answered before the engine is built (FC cold start).

Most invocations change nothing: the ``Instance:StateChange`` of every instance in the account, the snapshot events
of snapshots we did not take, event types no playbook handles. For these the engine would check the account, read
the store and say "ignored"; ``no_op`` says the same words from the same reads, so a cold start for them imports
neither the engine nor an SDK nor the policy. Whatever it cannot decide for certain (an event that fails the account
guard, a snapshot of ours, a state change of an instance with sagas, a ``Stopped`` that may need a notice) it leaves
to the engine: None. ``tests/functions/test_triage.py`` holds it to the engine's own answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ecs_events.models import EcsEvent, EventKind, InstanceStateChange, SnapshotCompleted
from ecs_events.store.base import Store

log = logging.getLogger("ecs_events.engine")  # the engine's logger: the same line the engine would write


@dataclass(frozen=True)
class Verdict:
    """What ``Engine.handle`` would have returned (``engine.Result``'s fields)."""

    outcome: str
    reason: str
    saga: str | None = None


def no_op(event: EcsEvent, store: Store, account_id: str) -> Verdict | None:
    """``ignored`` and the engine's reason when the event needs nothing but this store read; None: ask the engine."""
    if event.mismatches or {a for a in (event.user_id, event.resource_id.account) if a} != {account_id}:
        return None  # the engine's guard rejects it, with its reason
    if isinstance(event, SnapshotCompleted):
        if store.get(f"index/snapshot/{event.snapshot_id}") is None:
            return Verdict("ignored", f"snapshot {event.snapshot_id} is not one of ours")
        return None
    if isinstance(event, InstanceStateChange):
        state = event.state.value
        if state == "Stopped" or store.scan(f"saga/{event.instance_id or ''}/"):
            return None  # a saga to advance, or a stop nothing of ours explains (a notice)
        return Verdict("ignored", f"state {state}: nothing to advance")
    if event.kind is EventKind.UNKNOWN:
        log.info("no playbook for %s: kept in the log, no action", event.name, extra={"event_id": event.id})
        return Verdict("ignored", f"no playbook for {event.name}")
    return None
