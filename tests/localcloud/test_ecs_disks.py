"""ECS disks and snapshots through the real SDK: DescribeDisks, Attach/DetachDisk, CreateSnapshot, DescribeSnapshots."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.AttachDiskRequest import AttachDiskRequest
from aliyunsdkecs.request.v20140526.CreateSnapshotRequest import CreateSnapshotRequest
from aliyunsdkecs.request.v20140526.DescribeDisksRequest import DescribeDisksRequest
from aliyunsdkecs.request.v20140526.DescribeSnapshotsRequest import DescribeSnapshotsRequest
from aliyunsdkecs.request.v20140526.DetachDiskRequest import DetachDiskRequest

from localcloud.cloud import LocalCloud
from localcloud.testing import sdk_call as call
from localcloud.testing import sdk_error as server_error

Run = Callable[..., list[str]]


def disks_of(client: AcsClient, instance_id: str) -> list[dict[str, Any]]:
    request = DescribeDisksRequest()
    request.set_InstanceId(instance_id)
    found: list[dict[str, Any]] = call(client, request)["Disks"]["Disk"]
    return found


def snapshot(client: AcsClient, disk_id: str, name: str | None = "pre-reboot", token: str | None = None) -> str:
    request = CreateSnapshotRequest()
    request.set_DiskId(disk_id)
    if name is not None:
        request.set_SnapshotName(name)
    if token:
        request.set_ClientToken(token)
    return str(call(client, request)["SnapshotId"])


def snapshots(client: AcsClient, **filters: str) -> list[dict[str, Any]]:
    request = DescribeSnapshotsRequest()
    for key, value in filters.items():
        request.add_query_param(key, value)
    found: list[dict[str, Any]] = call(client, request)["Snapshots"]["Snapshot"]
    return found


def test_instances_get_a_system_disk_and_data_disks(client: AcsClient, running: Run) -> None:
    (instance_id,) = running(data_disks=[{"Size": 100, "Category": "cloud_essd"}, {"Size": 200}])
    disks = disks_of(client, instance_id)
    assert [(d["Type"], d["Device"], d["Size"]) for d in disks] == [
        ("system", "/dev/xvda", 40),
        ("data", "/dev/xvdb", 100),
        ("data", "/dev/xvdc", 200),
    ]
    assert disks[1]["Category"] == "cloud_essd"
    assert all(d["Status"] == "In_use" and d["InstanceId"] == instance_id for d in disks)


def test_describe_disks_by_ids_and_type(client: AcsClient, running: Run) -> None:
    (instance_id,) = running(data_disks=[{"Size": 100}])
    data_disk = disks_of(client, instance_id)[1]["DiskId"]
    request = DescribeDisksRequest()
    request.set_DiskIds(json.dumps([data_disk]))
    assert [d["DiskId"] for d in call(client, request)["Disks"]["Disk"]] == [data_disk]
    request = DescribeDisksRequest()
    request.set_DiskType("system")
    assert call(client, request)["TotalCount"] == 1


def test_detach_and_attach_emit_disk_operation_completed(
    localcloud: LocalCloud, client: AcsClient, running: Run
) -> None:
    (instance_id,) = running(data_disks=[{"Size": 100}])
    disk_id = disks_of(client, instance_id)[1]["DiskId"]
    detach = DetachDiskRequest()
    detach.set_InstanceId(instance_id)
    detach.set_DiskId(disk_id)
    call(client, detach)
    localcloud.advance(5)
    attach = AttachDiskRequest()
    attach.set_InstanceId(instance_id)
    attach.set_DiskId(disk_id)
    call(client, attach)
    localcloud.advance(5)
    done = [n["content"] for n in localcloud.emitted if n["name"] == "Disk:DiskOperationCompleted"]
    assert done == [
        {"diskId": disk_id, "operation": "DetachDisk", "result": "accomplished"},
        {"diskId": disk_id, "operation": "AttachDisk", "result": "accomplished"},
    ]


def test_snapshot_progresses_then_completes_and_notifies(
    localcloud: LocalCloud, client: AcsClient, running: Run
) -> None:
    (instance_id,) = running()
    disk_id = disks_of(client, instance_id)[0]["DiskId"]
    snapshot_id = snapshot(client, disk_id)
    (snap,) = snapshots(client, SnapshotIds=json.dumps([snapshot_id]))
    assert (snap["Status"], snap["SourceDiskId"], snap["SourceDiskType"]) == ("progressing", disk_id, "System")
    localcloud.advance(localcloud.ecs.delays.snapshot)
    (snap,) = snapshots(client, DiskId=disk_id)
    assert (snap["Status"], snap["Progress"]) == ("accomplished", "100%")
    note = localcloud.emitted[-1]
    assert note["name"] == "Snapshot:CreateSnapshotCompleted"
    assert note["resourceId"].endswith(f":snapshot/{snapshot_id}")
    assert note["content"]["result"] == "accomplished"
    assert set(note["content"]) == {"result", "snapshotId", "snapshotName", "diskId", "startTime", "endTime"}


def test_create_snapshot_is_idempotent_on_client_token(client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    disk_id = disks_of(client, instance_id)[0]["DiskId"]
    first = snapshot(client, disk_id, token="token-1")
    assert snapshot(client, disk_id, token="token-1") == first
    assert len(snapshots(client, DiskId=disk_id)) == 1


def test_second_snapshot_while_one_is_progressing_is_refused(client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    disk_id = disks_of(client, instance_id)[0]["DiskId"]
    snapshot(client, disk_id)
    request = CreateSnapshotRequest()
    request.set_DiskId(disk_id)
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("IncorrectDiskStatus.CreatingSnapshot", 403)


def test_failed_snapshot_is_reported(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    disk_id = disks_of(client, instance_id)[0]["DiskId"]
    localcloud.ecs.fail_snapshots(disk_id)
    snapshot(client, disk_id)
    localcloud.advance(60)
    assert snapshots(client, DiskId=disk_id)[0]["Status"] == "failed"
    assert localcloud.emitted[-1]["content"]["result"] == "failed"
    assert localcloud.emitted[-1]["level"] == "WARN"


@pytest.mark.parametrize("name", ["a", "auto-daily", "http://x", "1starts-with-digit", "x" * 129, "bad name"])
def test_snapshot_name_rules(client: AcsClient, running: Run, name: str) -> None:
    (instance_id,) = running()
    request = CreateSnapshotRequest()
    request.set_DiskId(disks_of(client, instance_id)[0]["DiskId"])
    request.set_SnapshotName(name)
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidSnapshotName.Malformed", 400)


def test_snapshot_of_unknown_disk_is_not_found(client: AcsClient) -> None:
    request = CreateSnapshotRequest()
    request.set_DiskId("d-bp1doesnotexist000000")
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidDiskId.NotFound", 404)


def test_snapshot_without_disk_is_missing_parameter(client: AcsClient) -> None:
    err = server_error(client, CreateSnapshotRequest())
    assert (err.get_error_code(), err.get_http_status()) == ("MissingParameter", 400)


def test_detach_system_disk_is_incorrect_disk_status(client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    request = DetachDiskRequest()
    request.set_InstanceId(instance_id)
    request.set_DiskId(disks_of(client, instance_id)[0]["DiskId"])
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("IncorrectDiskStatus", 403)


def test_describe_snapshots_rejects_unknown_status(client: AcsClient) -> None:
    request = DescribeSnapshotsRequest()
    request.set_Status("done")
    assert server_error(client, request).get_error_code() == "InvalidParameter"
