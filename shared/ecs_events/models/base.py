"""The CloudMonitor notification envelope shared by every ECS event (seed chapter 4.1)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ecs_events.models.arn import Arn
from ecs_events.models.times import WireTime, iso_utc


class Level(str, Enum):
    INFO = "INFO"
    WARN = "WARN"
    CRITICAL = "CRITICAL"


class EventKind(str, Enum):
    """The family an event belongs to; playbooks branch on it."""

    INSTANCE_SYSTEM_EVENT = "instance_system_event"
    DISK_SYSTEM_EVENT = "disk_system_event"
    STATE_CHANGE = "state_change"
    PREEMPTIBLE_INTERRUPTION = "preemptible_interruption"
    DISK_OPERATION = "disk_operation"
    SNAPSHOT_COMPLETED = "snapshot_completed"
    UNKNOWN = "unknown"


class SystemEventStatus(str, Enum):
    INQUIRING = "Inquiring"
    SCHEDULED = "Scheduled"
    AVOIDED = "Avoided"
    EXECUTING = "Executing"
    EXECUTED = "Executed"
    CANCELED = "Canceled"
    FAILED = "Failed"


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in code; unknown fields kept (forward compatible), never rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class Notification(WireModel):
    """Fields every CloudMonitor ECS notification has. Only ``name``, ``resourceId``, ``regionId`` and
    ``content`` are required: CloudMonitor rules and EventBridge add or drop the rest."""

    kind: ClassVar[EventKind]

    ver: str | None = None
    id: str | None = None
    product: str | None = None
    resource_id: Arn = Field(alias="resourceId")
    level: Level | None = None
    name: str
    user_id: str | None = Field(None, alias="userId")
    event_time: WireTime | None = Field(None, alias="eventTime")
    region_id: str = Field(alias="regionId")

    # -- plain attributes every event has; families override what they know --------------------------------

    @property
    def event_type(self) -> str:
        """The middle segment of the name: ``SystemMaintenance.Reboot``, ``Stalled``, ``StateChange``..."""
        parts = self.name.split(":")
        return parts[1] if len(parts) > 1 else parts[0]

    @property
    def status(self) -> str | None:
        """``content.eventStatus``, else the name's third segment (which can be stale), else None."""
        parts = self.name.split(":")
        return parts[2] if len(parts) > 2 and parts[2] else None

    @property
    def instance_id(self) -> str | None:
        arn = self.resource_id
        return arn.resource_id if arn.resource_type == "instance" else None

    @property
    def disk_id(self) -> str | None:
        arn = self.resource_id
        return arn.resource_id if arn.resource_type == "disk" else None

    @property
    def snapshot_id(self) -> str | None:
        return None

    @property
    def not_before(self) -> datetime | None:
        return None

    @property
    def account(self) -> str | None:
        """The account the event belongs to: ``userId``, else the ARN's account."""
        return self.user_id or self.resource_id.account or None

    @property
    def region(self) -> str:
        return self.region_id

    def summary(self) -> dict[str, Any]:
        """The flat record ``ecs-events parse --json`` prints (times as ISO-8601 UTC, None where absent)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind.value,
            "event_type": self.event_type,
            "status": self.status,
            "level": self.level.value if self.level else None,
            "instance_id": self.instance_id,
            "disk_id": self.disk_id,
            "snapshot_id": self.snapshot_id,
            "not_before": iso_utc(self.not_before),
            "event_time": iso_utc(self.event_time),
            "region": self.region,
            "account": self.account,
        }


class SystemEventContent(WireModel):
    """The content fields instance and disk system events share (seed 4.2)."""

    event_id: str | None = Field(None, alias="eventId")
    event_type: str | None = Field(None, alias="eventType")
    event_status: SystemEventStatus | None = Field(None, alias="eventStatus")
    execute_start_time: WireTime | None = Field(None, alias="executeStartTime")
    execute_finish_time: WireTime | None = Field(None, alias="executeFinishTime")


class SystemEvent(Notification):
    """An instance or disk system event. The status is ``content.eventStatus``: the seed's Avoided example
    keeps a stale ``:Scheduled`` in its name."""

    content: SystemEventContent

    @property
    def status(self) -> str | None:
        if self.content.event_status is not None:
            return self.content.event_status.value
        return super().status
