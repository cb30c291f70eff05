"""Block storage system events (seed 4.2): ``Disk:<Degraded|SeverelyDegraded|Stalled|ErrorDetected>:<Status>``.

Disks have only failure events, sent when they start (``executeStartTime``) and again when they end
(``executeFinishTime`` added)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ecs_events.models.base import EventKind, Notification, SystemEventStatus, WireModel
from ecs_events.models.times import WireTime

DISK_EVENT_TYPES = frozenset({"Degraded", "SeverelyDegraded", "Stalled", "ErrorDetected"})


class DiskSystemEventContent(WireModel):
    event_id: str | None = Field(None, alias="eventId")
    disk_id: str = Field(alias="diskId")
    device: str | None = None
    event_type: str | None = Field(None, alias="eventType")
    event_status: SystemEventStatus | None = Field(None, alias="eventStatus")
    execute_start_time: WireTime | None = Field(None, alias="executeStartTime")
    execute_finish_time: WireTime | None = Field(None, alias="executeFinishTime")
    ecs_instance_id: str | None = Field(None, alias="ecsInstanceId")
    ecs_instance_name: str | None = Field(None, alias="ecsInstanceName")


class DiskSystemEvent(Notification):
    kind: ClassVar[EventKind] = EventKind.DISK_SYSTEM_EVENT
    content: DiskSystemEventContent

    @property
    def status(self) -> str | None:
        if self.content.event_status is not None:
            return self.content.event_status.value
        return super().status

    @property
    def instance_id(self) -> str | None:
        return self.content.ecs_instance_id

    @property
    def disk_id(self) -> str | None:
        return self.content.disk_id

    @property
    def ongoing(self) -> bool:
        """True until the notification that carries ``executeFinishTime`` (the event has ended)."""
        return self.content.execute_finish_time is None
