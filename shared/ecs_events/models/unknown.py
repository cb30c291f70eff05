"""Any notification whose name ecs-events does not know: kept whole, never an error (forward compatible)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from ecs_events.models.base import EventKind, Notification
from ecs_events.models.times import parse_time

_ID_KEYS = {"instance": "instanceId", "disk": "diskId", "snapshot": "snapshotId"}


class UnknownEvent(Notification):
    kind: ClassVar[EventKind] = EventKind.UNKNOWN
    content: dict[str, Any]

    @property
    def status(self) -> str | None:
        status = self.content.get("eventStatus")
        return status if isinstance(status, str) else super().status

    @property
    def instance_id(self) -> str | None:
        for key in ("instanceId", "ecsInstanceId"):
            value = self.content.get(key)
            if isinstance(value, str):
                return value
        return super().instance_id

    @property
    def disk_id(self) -> str | None:
        value = self.content.get("diskId")
        return value if isinstance(value, str) else super().disk_id

    @property
    def snapshot_id(self) -> str | None:
        value = self.content.get("snapshotId")
        return value if isinstance(value, str) else None

    def _claimed_id(self, resource_type: str) -> tuple[str, str | None] | None:
        key = _ID_KEYS.get(resource_type)
        value = self.content.get(key) if key else None
        return (key, value) if key and isinstance(value, str) else None

    @property
    def not_before(self) -> datetime | None:
        try:
            return parse_time(self.content["notBefore"])
        except (KeyError, ValueError):
            return None
