"""Status notifications without an event status (seed 4.2): state changes, preemptible interruption,
disk operations and snapshot results."""

from __future__ import annotations

from enum import Enum
from typing import ClassVar

from pydantic import Field

from ecs_events.models.base import EventKind, Notification, WireModel
from ecs_events.models.times import WireTime


class InstanceState(str, Enum):
    PENDING = "Pending"
    STARTING = "Starting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    DELETED = "Deleted"


class OperationResult(str, Enum):
    ACCOMPLISHED = "accomplished"
    FAILED = "failed"


class StateChangeContent(WireModel):
    resource_id: str = Field(alias="resourceId")
    resource_type: str | None = Field(None, alias="resourceType")
    state: InstanceState


class InstanceStateChange(Notification):
    """``Instance:StateChange``: Pending | Starting | Running | Stopping (also rebooting) | Stopped | Deleted."""

    kind: ClassVar[EventKind] = EventKind.STATE_CHANGE
    content: StateChangeContent

    @property
    def instance_id(self) -> str | None:
        return self.content.resource_id

    @property
    def state(self) -> InstanceState:
        return self.content.state

    def _claimed_id(self, resource_type: str) -> tuple[str, str | None] | None:
        return ("resourceId", self.content.resource_id) if resource_type == "instance" else None


class PreemptibleContent(WireModel):
    instance_id: str = Field(alias="instanceId")
    action: str | None = None  # "delete": released about five minutes after the notice


class PreemptibleInstanceInterruption(Notification):
    kind: ClassVar[EventKind] = EventKind.PREEMPTIBLE_INTERRUPTION
    content: PreemptibleContent

    @property
    def instance_id(self) -> str | None:
        return self.content.instance_id

    def _claimed_id(self, resource_type: str) -> tuple[str, str | None] | None:
        return ("instanceId", self.content.instance_id) if resource_type == "instance" else None


class ResultContent(WireModel):
    """Content of a notification that reports an operation's result."""

    result: OperationResult
    disk_id: str | None = Field(None, alias="diskId")


class ResultNotification(Notification):
    """A finished disk operation or snapshot: about a disk, not an instance; ``failed`` is what playbooks read."""

    content: ResultContent

    @property
    def instance_id(self) -> str | None:
        return None

    @property
    def disk_id(self) -> str | None:
        return self.content.disk_id

    @property
    def failed(self) -> bool:
        return self.content.result is OperationResult.FAILED

    def _claimed_id(self, resource_type: str) -> tuple[str, str | None] | None:
        return ("diskId", self.content.disk_id) if resource_type == "disk" else None


class DiskOperationContent(ResultContent):
    disk_id: str = Field(alias="diskId")
    operation: str | None = None  # AttachDisk | DetachDisk


class DiskOperationCompleted(ResultNotification):
    kind: ClassVar[EventKind] = EventKind.DISK_OPERATION
    content: DiskOperationContent


class SnapshotContent(ResultContent):
    snapshot_id: str = Field(alias="snapshotId")
    snapshot_name: str | None = Field(None, alias="snapshotName")
    start_time: WireTime | None = Field(None, alias="startTime")
    end_time: WireTime | None = Field(None, alias="endTime")


class SnapshotCompleted(ResultNotification):
    """``Snapshot:CreateSnapshotCompleted``. Snapshots made by an automatic policy send none."""

    kind: ClassVar[EventKind] = EventKind.SNAPSHOT_COMPLETED
    content: SnapshotContent

    @property
    def snapshot_id(self) -> str | None:
        return self.content.snapshot_id

    def _claimed_id(self, resource_type: str) -> tuple[str, str | None] | None:
        if resource_type == "snapshot":
            return ("snapshotId", self.content.snapshot_id)
        return super()._claimed_id(resource_type)
