"""Event types as the engine names them, and the snapshot family each belongs to.

The engine passes ``SystemMaintenance.Reboot`` for instance system events, ``Disk:Stalled`` for disk events,
``PreemptibleInstanceInterruption`` and ``StateChange``. ``canonical_event_type`` also accepts the forms other code
has at hand (``Instance:SystemMaintenance.Reboot``, a model's bare ``Stalled``), so a caller never silently misses
its override because of a prefix.
"""

from __future__ import annotations

from ecs_events.models.instance import BILLING_TYPES, INSTANCE_EVENT_TYPES

FAMILIES = ("maintenance", "failure", "billing", "disk_error", "preemption")
DISK_TYPES = frozenset({"Disk:Degraded", "Disk:SeverelyDegraded", "Disk:Stalled", "Disk:ErrorDetected"})
STATUS_TYPES = frozenset(
    {
        "StateChange",
        "PreemptibleInstanceInterruption",
        "Disk:DiskOperationCompleted",
        "Snapshot:CreateSnapshotCompleted",
    }
)
KNOWN_EVENT_TYPES = INSTANCE_EVENT_TYPES | DISK_TYPES | STATUS_TYPES
_BARE = {name.partition(":")[2]: name for name in DISK_TYPES | STATUS_TYPES if ":" in name}


def canonical_event_type(event_type: str) -> str:
    """``Instance:X`` -> ``X``; a bare disk/snapshot type -> ``Disk:X`` / ``Snapshot:X``; anything else unchanged."""
    name = event_type.strip()
    if name.startswith("Instance:"):
        name = name.removeprefix("Instance:")
    return _BARE.get(name, name)


def family_of(event_type: str) -> str | None:
    """The snapshot family of an event type, or None for types no family covers (Disk:Stalled, StateChange...)."""
    name = canonical_event_type(event_type)
    if name.startswith("SystemMaintenance."):
        return "maintenance"
    if name.startswith(("SystemFailure.", "InstanceFailure.")):
        return "failure"
    if name in BILLING_TYPES or name.startswith(("InstanceExpiration.", "AccountUnbalanced.")):
        return "billing"
    if name == "Disk:ErrorDetected":
        return "disk_error"
    if name == "PreemptibleInstanceInterruption":
        return "preemption"
    return None
