from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ecs_events.errors import EventValidationError
from ecs_events.models import (
    EventKind,
    InstanceSystemEvent,
    ResourceArn,
    UnknownEvent,
    kind_of,
    parse_notification,
    parse_time,
)

SCHEDULED: dict[str, Any] = {
    "ver": "1.0",
    "id": "2256A988-0B26-4E2B-820A-8A00000000E5",
    "product": "ECS",
    "resourceId": "acs:ecs:cn-hangzhou:1234567890123456:instance/i-bp1a",
    "level": "CRITICAL",
    "name": "Instance:SystemMaintenance.Reboot:Scheduled",
    "userId": "1234567890123456",
    "eventTime": "20190409T121826.922+0800",
    "regionId": "cn-hangzhou",
    "content": {
        "eventId": "e-bp11",
        "publishTime": "2019-04-09T04:18:26Z",
        "notBefore": "2019-04-12T01:01:01Z",
        "instanceId": "i-bp1a",
        "eventType": "SystemMaintenance.Reboot",
        "eventStatus": "Scheduled",
    },
}


def _with(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(SCHEDULED)
    for dotted, value in changes.items():
        target = payload
        *path, last = dotted.split("__")
        for key in path:
            target = target[key]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return payload


def test_event_time_is_aware_and_keeps_its_offset() -> None:
    event = parse_notification(SCHEDULED)
    assert event.event_time == datetime(2019, 4, 9, 4, 18, 26, 922000, tzinfo=timezone.utc)
    assert event.event_time is not None
    assert event.event_time.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20190409T121826.922+0800", datetime(2019, 4, 9, 4, 18, 26, 922000, tzinfo=timezone.utc)),
        ("20190409T121826+0800", datetime(2019, 4, 9, 4, 18, 26, tzinfo=timezone.utc)),
        ("2019-04-12T01:01:01Z", datetime(2019, 4, 12, 1, 1, 1, tzinfo=timezone.utc)),
        ("2019-04-12T01:01:01.5Z", datetime(2019, 4, 12, 1, 1, 1, 500000, tzinfo=timezone.utc)),
        ("2026-11-26T10:00:00.123+08:00", datetime(2026, 11, 26, 2, 0, 0, 123000, tzinfo=timezone.utc)),
        ("2019-04-12T01:01:01", datetime(2019, 4, 12, 1, 1, 1, tzinfo=timezone.utc)),
    ],
)
def test_parse_time_accepts_both_wire_forms(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2019-13-01T00:00:00Z", "20190409", 1554783506, ""])
def test_parse_time_rejects_what_is_not_a_time(text: object) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


def test_arn_parts() -> None:
    arn = ResourceArn.parse("acs:ecs:cn-hangzhou:169070*****30:disk/d-t4n")
    assert (arn.service, arn.region, arn.account, arn.resource_type, arn.resource_id) == (
        "ecs",
        "cn-hangzhou",
        "169070*****30",
        "disk",
        "d-t4n",
    )
    assert str(arn) == "acs:ecs:cn-hangzhou:169070*****30:disk/d-t4n"


@pytest.mark.parametrize(
    "value", ["i-bp1", "acs:ecs:cn-hangzhou:123:instance", "arn:ecs:a:b:instance/i", "acs::a:b:c/d"]
)
def test_arn_that_does_not_parse_is_an_error_naming_the_field(value: str) -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_notification(_with(resourceId=value))
    assert caught.value.field == "resourceId"
    assert "cloudmonitor: field resourceId" in str(caught.value)


def test_status_falls_back_to_the_name_when_content_has_none() -> None:
    event = parse_notification(_with(content__eventStatus=...))
    assert event.status == "Scheduled"


def test_status_is_none_when_neither_content_nor_name_has_one() -> None:
    event = parse_notification(_with(content__eventStatus=..., name="Instance:SystemMaintenance.Reboot"))
    assert isinstance(event, InstanceSystemEvent)
    assert event.status is None


def test_instance_id_falls_back_to_the_arn() -> None:
    event = parse_notification(_with(content__instanceId=...))
    assert event.instance_id == "i-bp1a"


def test_account_falls_back_to_the_arn_when_user_id_is_absent() -> None:
    assert parse_notification(_with(userId=...)).account == "1234567890123456"


def test_unknown_top_level_fields_are_kept() -> None:
    event = parse_notification(_with(ruleName="ecs-events", curLevel="CRITICAL"))
    assert event.model_extra == {"ruleName": "ecs-events", "curLevel": "CRITICAL"}


def test_only_name_resource_region_and_content_are_required() -> None:
    minimal = {k: SCHEDULED[k] for k in ("name", "resourceId", "regionId", "content")}
    event = parse_notification(minimal)
    assert event.level is None and event.event_time is None and event.id is None
    for key in minimal:
        broken = dict(minimal)
        del broken[key]
        with pytest.raises(EventValidationError) as caught:
            parse_notification(broken)
        assert caught.value.field == key


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"content__notBefore": 1554783506}, "content.notBefore"),
        ({"content__instanceId": 42}, "content.instanceId"),
        ({"level": "LOUD"}, "level"),
        ({"regionId": ["cn-hangzhou"]}, "regionId"),
        ({"content": "not an object"}, "content"),
        ({"eventTime": "20190409"}, "eventTime"),
    ],
)
def test_wrong_field_types_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_notification(_with(**changes))
    assert caught.value.field == field
    assert caught.value.source == "cloudmonitor"


def test_a_payload_that_is_not_an_object_is_an_error() -> None:
    with pytest.raises(EventValidationError, match="expected a JSON object"):
        parse_notification(["not", "an", "object"])


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Instance:SystemMaintenance.Reboot:Scheduled", EventKind.INSTANCE_SYSTEM_EVENT),
        ("Instance:AccountUnbalanced.Delete:Scheduled", EventKind.INSTANCE_SYSTEM_EVENT),
        ("Instance:Security.TpmAlert:Executing", EventKind.INSTANCE_SYSTEM_EVENT),
        ("Disk:Stalled:Executing", EventKind.DISK_SYSTEM_EVENT),
        ("Disk:ErrorDetected:Executing", EventKind.DISK_SYSTEM_EVENT),
        ("Instance:StateChange", EventKind.STATE_CHANGE),
        ("Instance:PreemptibleInstanceInterruption", EventKind.PREEMPTIBLE_INTERRUPTION),
        ("Disk:DiskOperationCompleted", EventKind.DISK_OPERATION),
        ("Snapshot:CreateSnapshotCompleted", EventKind.SNAPSHOT_COMPLETED),
        ("Instance:Brand.New:Scheduled", EventKind.UNKNOWN),
        ("Image:CreateImageCompleted", EventKind.UNKNOWN),
        ("", EventKind.UNKNOWN),
    ],
)
def test_kind_of_name(name: str, kind: EventKind) -> None:
    assert kind_of(name) is kind


def test_unknown_event_keeps_the_whole_raw_content() -> None:
    content = {"whatever": {"nested": [1, 2]}, "instanceId": "i-x"}
    event = parse_notification(_with(name="Instance:Brand.New:Scheduled", content=content))
    assert isinstance(event, UnknownEvent)
    assert event.content == content
    assert event.instance_id == "i-x"
    assert event.kind is EventKind.UNKNOWN


def test_every_event_has_the_plain_attributes() -> None:
    event = parse_notification(SCHEDULED)
    assert event.kind is EventKind.INSTANCE_SYSTEM_EVENT
    assert event.event_type == "SystemMaintenance.Reboot"
    assert event.status == "Scheduled"
    assert event.instance_id == "i-bp1a"
    assert event.not_before == datetime(2019, 4, 12, 1, 1, 1, tzinfo=timezone.utc)


def test_models_are_frozen() -> None:
    event = parse_notification(SCHEDULED)
    with pytest.raises(Exception, match="frozen"):
        event.name = "changed"  # type: ignore[misc]
