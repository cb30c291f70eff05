"""FC timer trigger events: ``{"triggerTime": "2023-12-26T07:49:00Z", "triggerName": "...", "payload": "..."}``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ecs_events.errors import EventValidationError
from ecs_events.models.times import iso_utc, parse_time


def is_timer_event(obj: dict[str, Any]) -> bool:
    return "triggerTime" in obj and "triggerName" in obj


@dataclass(frozen=True, slots=True)
class TimerTick:
    trigger_time: datetime
    trigger_name: str
    payload: str | None = None

    @classmethod
    def from_wire(cls, obj: dict[str, Any]) -> TimerTick:
        try:
            when = parse_time(obj["triggerTime"])
        except ValueError as exc:
            raise EventValidationError(str(exc), source="timer", field="triggerTime") from None
        name = obj["triggerName"]
        if not isinstance(name, str):
            raise EventValidationError("expected a string", source="timer", field="triggerName")
        payload = obj.get("payload")
        return cls(when, name, payload if isinstance(payload, str) else None)

    def summary(self) -> dict[str, Any]:
        """Same keys as an event's summary, so a tick prints in line with events."""
        return {
            "id": None,
            "name": self.trigger_name,
            "kind": "timer",
            "event_type": None,
            "status": None,
            "level": None,
            "instance_id": None,
            "disk_id": None,
            "snapshot_id": None,
            "not_before": None,
            "event_time": iso_utc(self.trigger_time),
            "region": None,
            "account": None,
            "payload": self.payload,
        }
