"""EventBridge CloudEvents (``source: acs.ecs``) turned back into the CloudMonitor notification they carry.

``type`` has no status suffix (``ecs:Instance:SystemMaintenance.Reboot``); ``data`` is the notification's
``content``; account and region come from ``aliyunaccountid`` / ``aliyunregionid``; ``subject`` is the ARN."""

from __future__ import annotations

from typing import Any

from ecs_events.errors import EventValidationError

ECS_SOURCE = "acs.ecs"  # the only CloudEvent source that is an ECS event

_SUBJECT_KEYS = (("instanceId", "instance"), ("ecsInstanceId", "instance"), ("resourceId", "instance"),
                 ("diskId", "disk"), ("snapshotId", "snapshot"))  # fmt: skip


# Where each notification field came from in the CloudEvent, so an error names what the sender wrote.
_FIELDS = {"content": "data", "resourceId": "subject", "eventTime": "time", "regionId": "aliyunregionid",
           "userId": "aliyunaccountid", "name": "type", "ver": "specversion"}  # fmt: skip


def eventbridge_field(field: str | None) -> str | None:
    """The CloudEvent field a notification field was taken from: ``content.notBefore`` -> ``data.notBefore``."""
    if not field:
        return field
    head, dot, rest = field.partition(".")
    return _FIELDS.get(head, head) + dot + rest


def is_cloud_event(obj: dict[str, Any]) -> bool:
    return "specversion" in obj and "type" in obj


def to_notification(event: dict[str, Any]) -> dict[str, Any]:
    type_ = event.get("type")
    if not isinstance(type_, str) or not type_:
        raise EventValidationError("missing or not a string", source="eventbridge", field="type")
    name = type_[4:] if type_.startswith(("ecs:", "acs:")) else type_
    region = event.get("aliyunregionid")
    if not isinstance(region, str) or not region:
        raise EventValidationError("missing or not a string", source="eventbridge", field="aliyunregionid")
    account = event.get("aliyunaccountid")
    data = event.get("data")
    if not isinstance(data, dict):
        raise EventValidationError("missing or not an object", source="eventbridge", field="data")
    subject = event.get("subject")
    if not (isinstance(subject, str) and subject.startswith("acs:")):
        subject = _subject_from_data(data, region, account)
    notification: dict[str, Any] = {
        "ver": event.get("specversion"),
        "id": event.get("id"),
        "product": "ECS",
        "resourceId": subject,
        "name": name,
        "userId": account,
        "eventTime": event.get("time"),
        "regionId": region,
        "content": data,
    }
    if "level" in event:
        notification["level"] = event["level"]
    return notification


def _subject_from_data(data: dict[str, Any], region: str, account: Any) -> str:
    for key, resource_type in _SUBJECT_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            return f"acs:ecs:{region}:{account or ''}:{resource_type}/{value}"
    raise EventValidationError("no ARN in subject and no resource id in data", source="eventbridge", field="subject")
