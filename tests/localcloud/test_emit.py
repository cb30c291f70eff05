"""Emitted CloudMonitor notifications: the seed's shape, delivery to an MNS queue (base64 body), an MNS topic and a
callback, parsed by the project's own ``ecs_events.sources.unwrap`` / ``ecs_events.models.parse_notification``."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.CreateSimulatedSystemEventsRequest import CreateSimulatedSystemEventsRequest
from aliyunsdkecs.request.v20140526.CreateSnapshotRequest import CreateSnapshotRequest
from aliyunsdkecs.request.v20140526.DescribeDisksRequest import DescribeDisksRequest
from aliyunsdkecs.request.v20140526.RebootInstanceRequest import RebootInstanceRequest

from ecs_events.models import parse_notification
from ecs_events.sources import Source, unwrap
from localcloud.cloud import LocalCloud
from localcloud.emit import event_time, iso
from localcloud.testing import sdk_call as call

Run = Callable[..., list[str]]
TOP_LEVEL = {"ver", "id", "product", "resourceId", "level", "name", "userId", "eventTime", "regionId", "content"}


def drain(localcloud: LocalCloud, queue_name: str) -> list[str]:
    """Every message body as it is on the wire (the SDK's base64 decoding switched off)."""
    queue = localcloud.mns_account().get_queue(queue_name)
    queue.set_encoding(False)
    bodies: list[str] = []
    while True:
        try:
            messages = queue.batch_receive_message(16, 0)
        except Exception as exc:  # MessageNotExist: the queue is empty
            assert getattr(exc, "type", "") == "MessageNotExist"
            return bodies
        for message in messages:
            bodies.append(message.message_body)
            queue.delete_message(message.receipt_handle)


def data_disk(client: AcsClient, instance_id: str) -> str:
    request = DescribeDisksRequest()
    request.set_InstanceId(instance_id)
    request.set_DiskType("data")
    return str(call(client, request)["Disks"]["Disk"][0]["DiskId"])


def every_kind(localcloud: LocalCloud, client: AcsClient, running: Run) -> tuple[str, str]:
    """Make the cloud emit one of everything; returns (instance id, spot instance id)."""
    (instance_id,) = running(data_disks=[{"Size": 100}])
    (spot,) = running(spot=True)
    disk_id = data_disk(client, instance_id)
    simulate = CreateSimulatedSystemEventsRequest()
    simulate.set_InstanceIds([instance_id])
    simulate.set_EventType("SystemMaintenance.Reboot")
    simulate.set_NotBefore(iso(localcloud.clock.now() + timedelta(hours=24)))
    call(client, simulate)
    reboot = RebootInstanceRequest()
    reboot.set_InstanceId(instance_id)
    call(client, reboot)
    snapshot = CreateSnapshotRequest()
    snapshot.set_DiskId(disk_id)
    snapshot.set_ClientToken("emit-test")
    call(client, snapshot)
    localcloud.ecs.inject_disk_event(disk_id, "Stalled", 60)
    localcloud.ecs.interrupt_preemptible(spot, 300)
    localcloud.advance(600)
    return instance_id, spot


def test_notifications_have_the_seed_shape(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    instance_id, _ = every_kind(localcloud, client, running)
    names = {n["name"] for n in localcloud.emitted}
    assert names >= {
        "Instance:StateChange",
        "Instance:SystemMaintenance.Reboot:Scheduled",
        "Instance:SystemMaintenance.Reboot:Avoided",
        "Snapshot:CreateSnapshotCompleted",
        "Disk:Stalled:Executing",
        "Instance:PreemptibleInstanceInterruption",
    }
    for note in localcloud.emitted:
        assert set(note) == TOP_LEVEL
        assert (note["ver"], note["product"], note["userId"], note["regionId"]) == (
            "1.0",
            "ECS",
            localcloud.account_id,
            "cn-hangzhou",
        )
        assert re.fullmatch(r"acs:ecs:cn-hangzhou:\d+:(instance|disk|snapshot)/[a-z]-\w+", note["resourceId"])
        assert re.fullmatch(r"\d{8}T\d{6}\.\d{3}\+0800", note["eventTime"])
        assert note["level"] in ("INFO", "WARN", "CRITICAL")
    first = localcloud.emitted[0]
    assert first["resourceId"] == f"acs:ecs:cn-hangzhou:{localcloud.account_id}:instance/{instance_id}"


def test_event_time_is_utc_plus_8() -> None:
    from localcloud.core import DEFAULT_START

    assert event_time(DEFAULT_START + timedelta(milliseconds=922)) == "20261126T100000.922+0800"


def test_queue_delivery_is_base64_and_parsed_by_our_models(
    localcloud: LocalCloud, client: AcsClient, running: Run
) -> None:
    localcloud.route_events_to_queue("ecs-events")
    instance_id, spot = every_kind(localcloud, client, running)
    bodies = drain(localcloud, "ecs-events")
    assert len(bodies) == len(localcloud.emitted)
    assert all(json.loads(base64.b64decode(body))["ver"] == "1.0" for body in bodies)  # base64 JSON, as CMS does
    events = [d.event for body in bodies for d in unwrap(body, hint=Source.MNS_QUEUE)]
    assert all(e is not None for e in events)
    by_name: dict[str, list[Any]] = {}
    for event in events:
        by_name.setdefault(f"{event.kind.value}:{event.event_type}:{event.status}", []).append(event)
    scheduled = by_name["instance_system_event:SystemMaintenance.Reboot:Scheduled"][0]
    assert scheduled.instance_id == instance_id and scheduled.not_before is not None
    assert "instance_system_event:SystemMaintenance.Reboot:Avoided" in by_name
    (snapshot,) = [e for e in events if e.kind.value == "snapshot_completed"]
    assert snapshot.snapshot_id.startswith("s-") and snapshot.disk_id == data_disk(client, instance_id)
    stalled = [e for e in events if e.kind.value == "disk_system_event"]
    assert len(stalled) == 2 and stalled[0].disk_id == snapshot.disk_id
    (preempt,) = [e for e in events if e.kind.value == "preemptible_interruption"]
    assert preempt.instance_id == spot
    states = [e.state for e in events if e.kind.value == "state_change" and e.instance_id == spot]
    assert states[-1] == "Deleted"


def test_topic_delivery_fans_out_to_a_subscribed_queue(localcloud: LocalCloud, running: Run) -> None:
    localcloud.mns.create_queue(localcloud.account_id, "from-topic")
    localcloud.route_events_to_topic("ecs-topic")
    localcloud.mns.subscribe(
        localcloud.account_id, "ecs-topic", "to-queue", "from-topic", notify_content_format="SIMPLIFIED"
    )
    (instance_id,) = running()
    bodies = drain(localcloud, "from-topic")
    assert len(bodies) == 3  # Pending, Starting, Running
    (delivery,) = unwrap(bodies[-1])
    assert (delivery.event.kind.value, delivery.event.instance_id, delivery.event.state) == (  # type: ignore[union-attr]
        "state_change",
        instance_id,
        "Running",
    )


def test_callback_gets_dicts_our_models_parse(localcloud: LocalCloud, running: Run) -> None:
    seen: list[dict[str, Any]] = []
    localcloud.on_event(seen.append)
    (instance_id,) = running()
    localcloud.ecs.create_system_event(
        instance_id, "SystemFailure.Reboot", localcloud.clock.now() + timedelta(minutes=5), "Inquiring"
    )
    event = parse_notification(json.loads(json.dumps(seen[-1])))
    assert (event.event_type, event.status, event.instance_id) == ("SystemFailure.Reboot", "Inquiring", instance_id)


def test_failing_target_never_fails_the_api_call(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    def broken(_: dict[str, Any]) -> None:
        raise RuntimeError("target down")

    localcloud.on_event(broken)
    localcloud.route_events_to_queue("gone")
    localcloud.mns.reset()  # the queue disappears: QueueNotExist on every send
    (instance_id,) = running()
    reboot = RebootInstanceRequest()
    reboot.set_InstanceId(instance_id)
    assert "RequestId" in call(client, reboot)
    assert localcloud.emitted[-1]["content"]["state"] == "Stopping"


def test_topic_json_format_is_unwrapped_as_an_mns_topic_message(localcloud: LocalCloud, running: Run) -> None:
    """The JSON notify format (TopicOwner, TopicName, Message, ...) as the fake builds it is what our sources read."""
    localcloud.mns.create_queue(localcloud.account_id, "topic-json")
    localcloud.route_events_to_topic("ecs-topic")
    localcloud.mns.subscribe(localcloud.account_id, "ecs-topic", "as-json", "topic-json", notify_content_format="JSON")
    (instance_id,) = running()
    bodies = drain(localcloud, "topic-json")
    assert len(bodies) == 3
    envelope = json.loads(bodies[-1])
    assert {"TopicOwner", "TopicName", "Message", "MessageId", "PublishTime"} <= set(envelope)
    (delivery,) = unwrap(bodies[-1])
    assert delivery.source is Source.MNS_TOPIC
    assert delivery.message_id == envelope["MessageId"]
    assert delivery.event is not None
    assert (delivery.event.name, delivery.event.instance_id) == ("Instance:StateChange", instance_id)
