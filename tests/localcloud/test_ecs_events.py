"""System events on the localcloud clock, through the real SDK: simulated maintenance, Avoided by our own reboot,
Executed at notBefore, Inquiring + AcceptInquiredSystemEvent, full status, preemptible release, disk Stalled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.AcceptInquiredSystemEventRequest import AcceptInquiredSystemEventRequest
from aliyunsdkecs.request.v20140526.CreateSimulatedSystemEventsRequest import CreateSimulatedSystemEventsRequest
from aliyunsdkecs.request.v20140526.DescribeDisksRequest import DescribeDisksRequest
from aliyunsdkecs.request.v20140526.DescribeInstanceHistoryEventsRequest import DescribeInstanceHistoryEventsRequest
from aliyunsdkecs.request.v20140526.DescribeInstancesFullStatusRequest import DescribeInstancesFullStatusRequest
from aliyunsdkecs.request.v20140526.RebootInstanceRequest import RebootInstanceRequest

from localcloud.cloud import LocalCloud
from localcloud.emit import iso
from localcloud.testing import sdk_call as call
from localcloud.testing import sdk_error as server_error

Run = Callable[..., list[str]]
HOUR = 3600
REBOOT = "SystemMaintenance.Reboot"


def simulate(
    client: AcsClient, ids: list[str], not_before: str, event_type: str = "SystemMaintenance.Reboot"
) -> list[str]:
    request = CreateSimulatedSystemEventsRequest()
    request.set_InstanceIds(ids)
    request.set_EventType(event_type)
    request.set_NotBefore(not_before)
    event_ids: list[str] = call(client, request)["EventIdSet"]["EventId"]
    return event_ids


def history(client: AcsClient, *statuses: str, instance_id: str | None = None) -> list[dict[str, Any]]:
    request = DescribeInstanceHistoryEventsRequest()
    if statuses:
        request.set_InstanceEventCycleStatuss(list(statuses))
    if instance_id:
        request.set_InstanceId(instance_id)
    found: list[dict[str, Any]] = call(client, request)["InstanceSystemEventSet"]["InstanceSystemEventType"]
    return found


def full_status(client: AcsClient, ids: list[str]) -> list[dict[str, Any]]:
    request = DescribeInstancesFullStatusRequest()
    request.set_InstanceIds(ids)
    found: list[dict[str, Any]] = call(client, request)["InstanceFullStatusSet"]["InstanceFullStatusType"]
    return found


def statuses(cloud: LocalCloud, event_id: str) -> list[str]:
    return [n["content"]["eventStatus"] for n in cloud.emitted if n["content"].get("eventId") == event_id]


def in_hours(cloud: LocalCloud, hours: float) -> str:
    return iso(cloud.clock.now() + timedelta(hours=hours))


def test_simulated_event_is_scheduled_and_visible(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    not_before = in_hours(localcloud, 24)
    (event_id,) = simulate(client, [instance_id], not_before)
    assert history(client) == []  # by default only finished events
    (event,) = history(client, "Scheduled")
    assert event["EventId"] == event_id and event["NotBefore"] == not_before
    assert event["EventType"]["Name"] == "SystemMaintenance.Reboot"
    assert event["EventCycleStatus"]["Name"] == "Scheduled"
    (status,) = full_status(client, [instance_id])
    assert status["Status"]["Name"] == "Running" and status["HealthStatus"]["Name"] == "OK"
    (scheduled,) = status["ScheduledSystemEventSet"]["ScheduledSystemEventType"]
    assert scheduled["EventId"] == event_id
    note = localcloud.emitted[-1]
    assert note["name"] == "Instance:SystemMaintenance.Reboot:Scheduled" and note["level"] == "CRITICAL"
    assert note["content"] == {
        "eventId": event_id,
        "publishTime": iso(localcloud.clock.now()),
        "notBefore": not_before,
        "instanceId": instance_id,
        "eventType": "SystemMaintenance.Reboot",
        "eventStatus": "Scheduled",
    }


def test_our_reboot_before_not_before_avoids_the_event(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    (event_id,) = simulate(client, [instance_id], in_hours(localcloud, 24))
    localcloud.advance(HOUR)
    rebooted_at = iso(localcloud.clock.now())
    reboot = RebootInstanceRequest()
    reboot.set_InstanceId(instance_id)
    call(client, reboot)
    localcloud.advance(48 * HOUR)
    assert statuses(localcloud, event_id) == ["Scheduled", "Avoided"]
    (event,) = history(client, instance_id=instance_id)
    assert event["EventCycleStatus"]["Name"] == "Avoided"
    avoided = next(n for n in localcloud.emitted if n["content"].get("eventStatus") == "Avoided")["content"]
    assert avoided["executeStartTime"] == avoided["executeFinishTime"] == rebooted_at


def test_clock_reaching_not_before_executes_with_a_reboot(
    localcloud: LocalCloud, client: AcsClient, running: Run
) -> None:
    (instance_id,) = running()
    (event_id,) = simulate(client, [instance_id], in_hours(localcloud, 2))
    localcloud.advance(2 * HOUR)
    assert statuses(localcloud, event_id) == ["Scheduled", "Executing"]
    (status,) = full_status(client, [instance_id])
    assert status["HealthStatus"]["Name"] == "Maintaining"
    localcloud.advance(60)
    assert statuses(localcloud, event_id) == ["Scheduled", "Executing", "Executed"]
    states = [n["content"]["state"] for n in localcloud.emitted if n["name"] == "Instance:StateChange"]
    assert states[-3:] == ["Stopping", "Starting", "Running"]
    executed = localcloud.emitted[-1]["content"]
    assert executed["eventStatus"] == "Executed" and "executeStartTime" in executed and "executeFinishTime" in executed
    assert history(client)[0]["EventCycleStatus"]["Name"] == "Executed"


def test_inquiring_event_waits_for_acceptance(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    not_before = localcloud.clock.now() + timedelta(hours=1)
    event_id = localcloud.ecs.create_system_event(instance_id, "SystemMaintenance.Reboot", not_before, "Inquiring")
    localcloud.advance(2 * HOUR)
    assert statuses(localcloud, event_id) == ["Inquiring"]
    accept = AcceptInquiredSystemEventRequest()
    accept.set_EventId(event_id)
    call(client, accept)
    localcloud.advance(60)
    assert statuses(localcloud, event_id) == ["Inquiring", "Scheduled", "Executing", "Executed"]


def test_accepting_a_non_inquiring_event_fails(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    (event_id,) = simulate(client, [instance_id], in_hours(localcloud, 24))
    accept = AcceptInquiredSystemEventRequest()
    accept.set_EventId(event_id)
    err = server_error(client, accept)
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidEventId.NoInquiringEventFound", 404)


def test_simulated_stop_event_stops_the_instance(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    (event_id,) = simulate(client, [instance_id], in_hours(localcloud, 1), "SystemMaintenance.Stop")
    localcloud.advance(HOUR + 60)
    assert statuses(localcloud, event_id) == ["Scheduled", "Executing", "Executed"]
    assert localcloud.ecs.status(instance_id) == "Stopped"


def test_simulate_errors(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    err = server_error(client, CreateSimulatedSystemEventsRequest())
    assert (err.get_error_code(), err.get_http_status()) == ("MissingParameter", 400)
    request = CreateSimulatedSystemEventsRequest()
    request.set_InstanceIds([instance_id])
    request.set_EventType("SystemMaintenance.Reboot")
    request.set_NotBefore("tomorrow")
    assert server_error(client, request).get_error_code() == "InvalidParameter"
    request.set_NotBefore(in_hours(localcloud, 1))
    request.set_EventType("Nothing.Happens")
    assert server_error(client, request).get_error_code() == "InvalidParameter"
    request.set_EventType("SystemMaintenance.Reboot")
    request.set_InstanceIds(["i-bp1doesnotexist000000"])
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidInstanceId.NotFound", 404)


def test_full_status_health_follows_state_and_overrides(localcloud: LocalCloud, client: AcsClient, run: Run) -> None:
    (instance_id,) = run()
    assert full_status(client, [instance_id])[0]["HealthStatus"]["Name"] == "Initializing"
    localcloud.advance(60)
    localcloud.ecs.set_health(instance_id, "Impaired")
    assert full_status(client, [instance_id])[0]["HealthStatus"]["Name"] == "Impaired"


def test_preemptible_interruption_notifies_then_releases(
    localcloud: LocalCloud, client: AcsClient, running: Run
) -> None:
    (instance_id,) = running(spot=True)
    localcloud.ecs.interrupt_preemptible(instance_id, notice_seconds=300)
    note = localcloud.emitted[-1]
    assert note["name"] == "Instance:PreemptibleInstanceInterruption"
    assert note["content"] == {"instanceId": instance_id, "action": "delete"}
    localcloud.advance(299)
    assert localcloud.ecs.status(instance_id) == "Running"
    localcloud.advance(1)
    assert localcloud.ecs.status(instance_id) == "Deleted"
    assert localcloud.emitted[-1]["content"] == {
        "resourceId": instance_id,
        "resourceType": "ALIYUN::ECS::Instance",
        "state": "Deleted",
    }


def test_disk_stalled_emits_start_and_finish(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running(data_disks=[{"Size": 100}], name="db-1")
    request = DescribeDisksRequest()
    request.set_InstanceId(instance_id)
    request.set_DiskType("data")
    disk_id = call(client, request)["Disks"]["Disk"][0]["DiskId"]
    localcloud.ecs.inject_disk_event(disk_id, "Stalled", duration_seconds=120)
    start = localcloud.emitted[-1]
    assert start["name"] == "Disk:Stalled:Executing"
    assert start["resourceId"].endswith(f":disk/{disk_id}")
    assert start["content"]["device"] == "/dev/xvdb" and start["content"]["ecsInstanceName"] == "db-1"
    assert "executeFinishTime" not in start["content"]
    localcloud.advance(120)
    end = localcloud.emitted[-1]["content"]
    assert end["eventId"] == start["content"]["eventId"]
    assert end["executeFinishTime"] == iso(localcloud.clock.now())
