"""The CloudMonitor notification envelope shared by every ECS event (seed chapter 4.1)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, GetPydanticSchema
from pydantic_core import core_schema

from ecs_events.errors import printable, quote
from ecs_events.kinds import EventKind as EventKind  # noqa: PLC0414 - re-exported (defined without pydantic)
from ecs_events.models.arn import Arn
from ecs_events.models.times import EventTime, WireTime, iso_utc


class Level(str, Enum):
    INFO = "INFO"
    WARN = "WARN"
    CRITICAL = "CRITICAL"


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

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True, defer_build=True)


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
    event_time: EventTime | None = Field(None, alias="eventTime")
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

    def _claimed_id(self, resource_type: str) -> tuple[str, str | None] | None:
        """(content field, value) naming the resource of type ``resource_type`` the content is about; None when
        this family's content names none."""
        return None

    @property
    def mismatches(self) -> tuple[str, ...]:
        """Where the ARN (``resourceId``) disagrees with ``userId``, ``regionId`` or the content's resource id,
        one short text each (``ARN account 123 != userId 456``); empty when consistent. The account guard reads
        it: ``account`` alone cannot say that the ARN names another account."""
        arn = self.resource_id
        found: list[str] = []
        if self.user_id and arn.account and arn.account != self.user_id:
            found.append(f"ARN account {arn.account} != userId {self.user_id}")
        if arn.region and arn.region != self.region_id:
            found.append(f"ARN region {arn.region} != regionId {self.region_id}")
        claim = self._claimed_id(arn.resource_type)
        if claim is not None and claim[1] and claim[1] != arn.resource_id:
            found.append(f"ARN {arn.resource_type} {arn.resource_id} != content.{claim[0]} {claim[1]}")
        return tuple(printable(text) for text in found)

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


_STATUSES = frozenset(status.value for status in SystemEventStatus)
_NAME_STATUSES = _STATUSES | {""}  # a name's third segment: empty, or a status
_EXPECTED_STATUS = (
    ", ".join(f"'{status.value}'" for status in list(SystemEventStatus)[:-1])
    + f" or '{list(SystemEventStatus)[-1].value}'"
)


def name_status_problem(name: str) -> str | None:
    """Why a system event's name is refused (its third segment is not a status), None when it is fine."""
    parts = name.split(":", 3)
    if len(parts) > 2 and parts[2] not in _NAME_STATUSES:
        return f"Input should be {_EXPECTED_STATUS} (got {quote(parts[2])})"
    return None


# ``name_status_problem`` as a pydantic-core regex (Rust; no Python call per event): the third ``:``-segment is
# empty or a status. A refusal is one ``name_status`` error; models.describe_validation_error words it as above.
NAME_STATUS_ERROR = "name_status"
_NAME_PATTERN = rf"(?s)^[^:]*(?::[^:]*(?::(?:{'|'.join(sorted(_STATUSES))})?(?::.*)?)?)?$"
_SYSTEM_EVENT_NAME_SCHEMA = core_schema.chain_schema([
    core_schema.str_schema(),
    core_schema.custom_error_schema(core_schema.str_schema(pattern=_NAME_PATTERN), NAME_STATUS_ERROR,
                                    custom_error_message=f"Input should be {_EXPECTED_STATUS} in the name"),
])  # fmt: skip
SystemEventName = Annotated[str, GetPydanticSchema(lambda _type, _handler: _SYSTEM_EVENT_NAME_SCHEMA)]


class SystemEvent(Notification):
    """An instance or disk system event. The status is ``content.eventStatus``: the seed's Avoided example
    keeps a stale ``:Scheduled`` in its name. A status in the name is validated as strictly as the content's."""

    name: SystemEventName
    content: SystemEventContent

    @property
    def status(self) -> str | None:
        if self.content.event_status is not None:
            return self.content.event_status.value
        return super().status
