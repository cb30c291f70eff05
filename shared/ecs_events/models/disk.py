"""Block storage system events (seed 4.2): ``Disk:<Degraded|SeverelyDegraded|Stalled|ErrorDetected>:<Status>``.

Disks have only failure events, sent when they start (``executeStartTime``) and again when they end
(``executeFinishTime`` added)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ecs_events.kinds import DISK_EVENT_TYPES as DISK_EVENT_TYPES  # noqa: PLC0414 - re-exported (no pydantic there)
from ecs_events.models.base import EventKind, SystemEvent, SystemEventContent


class DiskSystemEventContent(SystemEventContent):
    disk_id: str = Field(alias="diskId")
    device: str | None = None
    ecs_instance_id: str | None = Field(None, alias="ecsInstanceId")
    ecs_instance_name: str | None = Field(None, alias="ecsInstanceName")


class DiskSystemEvent(SystemEvent):
    kind: ClassVar[EventKind] = EventKind.DISK_SYSTEM_EVENT
    content: DiskSystemEventContent

    @property
    def instance_id(self) -> str | None:
        return self.content.ecs_instance_id

    @property
    def disk_id(self) -> str | None:
        return self.content.disk_id

    def _claimed_id(self, resource_type: str) -> tuple[str, str | None] | None:
        return ("diskId", self.content.disk_id) if resource_type == "disk" else None

    @property
    def ongoing(self) -> bool:
        """True until the notification that carries ``executeFinishTime`` (the event has ended)."""
        return self.content.execute_finish_time is None
