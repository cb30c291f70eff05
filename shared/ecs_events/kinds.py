"""Event families by notification name, without pydantic: ``EventKind``, the known system event types and
``kind_of``. The models (``ecs_events.models``) re-export them; the FC handlers read them before any model is built
(an event a store read answers never imports pydantic: ``ecs_events.runtime.rawtriage``)."""

from __future__ import annotations

from enum import Enum


class EventKind(str, Enum):
    """The family an event belongs to; playbooks branch on it."""

    INSTANCE_SYSTEM_EVENT = "instance_system_event"
    DISK_SYSTEM_EVENT = "disk_system_event"
    STATE_CHANGE = "state_change"
    PREEMPTIBLE_INTERRUPTION = "preemptible_interruption"
    DISK_OPERATION = "disk_operation"
    SNAPSHOT_COMPLETED = "snapshot_completed"
    UNKNOWN = "unknown"


MAINTENANCE_TYPES = frozenset(
    {
        "SystemMaintenance.Reboot",
        "SystemMaintenance.Redeploy",
        "SystemMaintenance.Stop",
        "SystemMaintenance.IsolateErrorDisk",
        "SystemMaintenance.ReInitErrorDisk",
        "SystemMaintenance.RebootAndIsolateErrorDisk",
        "SystemMaintenance.RebootAndReInitErrorDisk",
        "SystemMaintenance.PerformanceImpact",
        "SystemMaintenance.CleanInactiveDisks",
    }
)
FAILURE_TYPES = frozenset(
    {
        "SystemFailure.Reboot",
        "SystemFailure.Redeploy",
        "SystemFailure.Stop",
        "SystemFailure.Delete",
        "SystemFailure.PerformanceImpact",
        "InstanceFailure.Reboot",
        "InstanceFailure.PerformanceImpact",
        "Security.TpmAlert",
    }
)
BILLING_TYPES = frozenset(
    {"InstanceExpiration.Stop", "InstanceExpiration.Delete", "AccountUnbalanced.Stop", "AccountUnbalanced.Delete"}
)
INSTANCE_EVENT_TYPES = MAINTENANCE_TYPES | FAILURE_TYPES | BILLING_TYPES
DISK_EVENT_TYPES = frozenset({"Degraded", "SeverelyDegraded", "Stalled", "ErrorDetected"})

_FIXED_NAMES = {
    ("Instance", "StateChange"): EventKind.STATE_CHANGE,
    ("Instance", "PreemptibleInstanceInterruption"): EventKind.PREEMPTIBLE_INTERRUPTION,
    ("Disk", "DiskOperationCompleted"): EventKind.DISK_OPERATION,
    ("Snapshot", "CreateSnapshotCompleted"): EventKind.SNAPSHOT_COMPLETED,
}


def kind_of(name: str) -> EventKind:
    """The family a notification name belongs to (``Instance:SystemMaintenance.Reboot:Scheduled`` ->
    instance system event). Names nobody knows are UNKNOWN, not an error."""
    resource, _, rest = name.partition(":")
    event_type = rest.partition(":")[0]
    fixed = _FIXED_NAMES.get((resource, event_type))
    if fixed is not None:
        return fixed
    if resource == "Instance" and event_type in INSTANCE_EVENT_TYPES:
        return EventKind.INSTANCE_SYSTEM_EVENT
    if resource == "Disk" and event_type in DISK_EVENT_TYPES:
        return EventKind.DISK_SYSTEM_EVENT
    return EventKind.UNKNOWN
