"""Instance system events (seed 4.2, reference section 7): ``Instance:<EventType>:<Status>``."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from ecs_events.kinds import BILLING_TYPES as BILLING_TYPES  # noqa: PLC0414 - re-exported (defined without pydantic)
from ecs_events.kinds import FAILURE_TYPES as FAILURE_TYPES  # noqa: PLC0414
from ecs_events.kinds import INSTANCE_EVENT_TYPES as INSTANCE_EVENT_TYPES  # noqa: PLC0414
from ecs_events.kinds import MAINTENANCE_TYPES as MAINTENANCE_TYPES  # noqa: PLC0414
from ecs_events.models.base import EventKind, SystemEvent, SystemEventContent
from ecs_events.models.times import WireTime


class InstanceSystemEventContent(SystemEventContent):
    publish_time: WireTime | None = Field(None, alias="publishTime")
    not_before: WireTime | None = Field(None, alias="notBefore")  # maintenance events only
    instance_id: str | None = Field(None, alias="instanceId")


class InstanceSystemEvent(SystemEvent):
    """Maintenance, failure, billing and security events of one instance."""

    kind: ClassVar[EventKind] = EventKind.INSTANCE_SYSTEM_EVENT
    content: InstanceSystemEventContent

    @property
    def instance_id(self) -> str | None:
        return self.content.instance_id or super().instance_id

    @property
    def not_before(self) -> datetime | None:
        return self.content.not_before

    def _claimed_id(self, resource_type: str) -> tuple[str, str | None] | None:
        return ("instanceId", self.content.instance_id) if resource_type == "instance" else None

    @property
    def is_maintenance(self) -> bool:
        return self.event_type in MAINTENANCE_TYPES

    @property
    def is_billing(self) -> bool:
        return self.event_type in BILLING_TYPES
