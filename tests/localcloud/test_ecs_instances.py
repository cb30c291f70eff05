"""ECS instances through the real SDK: RunInstances, DescribeInstances, Start/Stop/Reboot/DeleteInstance."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DeleteInstanceRequest import DeleteInstanceRequest
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.GetInstanceConsoleOutputRequest import GetInstanceConsoleOutputRequest
from aliyunsdkecs.request.v20140526.RebootInstanceRequest import RebootInstanceRequest
from aliyunsdkecs.request.v20140526.RunInstancesRequest import RunInstancesRequest
from aliyunsdkecs.request.v20140526.StartInstanceRequest import StartInstanceRequest
from aliyunsdkecs.request.v20140526.StopInstanceRequest import StopInstanceRequest

from localcloud.cloud import LocalCloud
from localcloud.testing import sdk_call as call
from localcloud.testing import sdk_error as server_error

Run = Callable[..., list[str]]


def describe(client: AcsClient, **kw: object) -> dict[str, object]:
    request = DescribeInstancesRequest()
    if "ids" in kw:
        request.set_InstanceIds(json.dumps(kw["ids"]))
    if "tags" in kw:
        request.set_Tags(kw["tags"])
    if "status" in kw:
        request.set_Status(kw["status"])
    if "page" in kw:
        request.set_PageNumber(kw["page"])
        request.set_PageSize(kw["size"])
    return call(client, request)


def status_of(client: AcsClient, instance_id: str) -> str:
    instances = describe(client, ids=[instance_id])["Instances"]
    assert isinstance(instances, dict)
    return str(instances["Instance"][0]["Status"])


def test_run_instances_returns_ids_and_goes_through_the_lifecycle(
    localcloud: LocalCloud, client: AcsClient, run: Run
) -> None:
    ids = run(amount=2)
    assert len(ids) == 2 and all(i.startswith("i-bp1") for i in ids)
    assert status_of(client, ids[0]) == "Pending"
    localcloud.advance(localcloud.ecs.delays.create)
    assert status_of(client, ids[0]) == "Starting"
    localcloud.advance(localcloud.ecs.delays.start)
    assert status_of(client, ids[0]) == "Running"


def test_describe_instances_shape(client: AcsClient, running: Run) -> None:
    (instance_id,) = running(tags={"env": "prod"}, name="web-1", spot=True)
    body = describe(client, ids=[instance_id])
    assert body["TotalCount"] == 1
    instance = body["Instances"]["Instance"][0]  # type: ignore[index]
    assert instance["InstanceId"] == instance_id
    assert instance["InstanceName"] == "web-1"
    assert instance["SpotStrategy"] == "SpotAsPriceGo"
    assert instance["Tags"]["Tag"] == [{"TagKey": "env", "TagValue": "prod"}]
    assert instance["OperationLocks"]["LockReason"] == []
    assert instance["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0].startswith("172.16.")


def test_describe_instances_filters_by_tag_and_status(client: AcsClient, running: Run, run: Run) -> None:
    prod = running(amount=2, tags={"env": "prod"})
    running(tags={"env": "dev"})
    pending = run(tags={"env": "prod"})
    body = describe(client, tags=[{"Key": "env", "Value": "prod"}], status="Running")
    assert sorted(i["InstanceId"] for i in body["Instances"]["Instance"]) == sorted(prod)  # type: ignore[index]
    assert describe(client, tags=[{"Key": "env"}])["TotalCount"] == 4
    assert describe(client, status="Pending")["Instances"]["Instance"][0]["InstanceId"] == pending[0]  # type: ignore[index]


def test_describe_instances_pages(client: AcsClient, running: Run) -> None:
    ids = running(amount=5)
    first = describe(client, page=1, size=2)
    third = describe(client, page=3, size=2)
    assert first["TotalCount"] == 5 and first["PageNumber"] == 1 and first["PageSize"] == 2
    assert [i["InstanceId"] for i in first["Instances"]["Instance"]] == ids[:2]  # type: ignore[index]
    assert [i["InstanceId"] for i in third["Instances"]["Instance"]] == ids[4:]  # type: ignore[index]


def test_describe_instances_unknown_ids_are_simply_absent(client: AcsClient) -> None:
    assert describe(client, ids=["i-bp1doesnotexist000000"])["TotalCount"] == 0


def test_describe_instances_rejects_a_malformed_id_list(client: AcsClient) -> None:
    request = DescribeInstancesRequest()
    request.set_InstanceIds("i-not-json")
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidParameter", 400)


def test_describe_instances_rejects_a_page_size_over_100(client: AcsClient) -> None:
    request = DescribeInstancesRequest()
    request.set_PageSize(101)
    assert server_error(client, request).get_error_code() == "InvalidParameter"


def test_stop_then_start(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    request = StopInstanceRequest()
    request.set_InstanceId(instance_id)
    request.set_ForceStop(True)
    call(client, request)
    assert status_of(client, instance_id) == "Stopping"
    localcloud.advance(10)
    assert status_of(client, instance_id) == "Stopped"
    start = StartInstanceRequest()
    start.set_InstanceId(instance_id)
    call(client, start)
    assert status_of(client, instance_id) == "Starting"
    localcloud.advance(10)
    assert status_of(client, instance_id) == "Running"


def test_reboot_goes_stopping_starting_running(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    seen: list[str] = []
    localcloud.on_event(lambda n: seen.append(n["content"].get("state", "")))
    request = RebootInstanceRequest()
    request.set_InstanceId(instance_id)
    request.set_ForceStop(False)
    call(client, request)
    localcloud.advance(10)
    assert seen == ["Stopping", "Starting", "Running"]


def test_reboot_dry_run_answers_dry_run_operation(client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    request = RebootInstanceRequest()
    request.set_InstanceId(instance_id)
    request.set_DryRun(True)
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("DryRunOperation", 400)
    assert status_of(client, instance_id) == "Running"


def test_reboot_of_a_stopped_instance_is_incorrect_status(client: AcsClient, run: Run) -> None:
    (instance_id,) = run()
    request = RebootInstanceRequest()
    request.set_InstanceId(instance_id)
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("IncorrectInstanceStatus", 403)


@pytest.mark.parametrize(
    "request_class", [RebootInstanceRequest, StopInstanceRequest, StartInstanceRequest, DeleteInstanceRequest]
)
def test_unknown_instance_is_not_found(client: AcsClient, request_class: type) -> None:
    request = request_class()
    request.set_InstanceId("i-bp1doesnotexist000000")
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidInstanceId.NotFound", 404)


def test_missing_instance_id_is_missing_parameter(client: AcsClient) -> None:
    err = server_error(client, RebootInstanceRequest())
    assert (err.get_error_code(), err.get_http_status()) == ("MissingParameter", 400)
    assert "InstanceId" in err.get_error_msg()


def test_delete_running_instance_needs_force(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    request = DeleteInstanceRequest()
    request.set_InstanceId(instance_id)
    assert server_error(client, request).get_error_code() == "IncorrectInstanceStatus"
    request.set_Force(True)
    call(client, request)
    assert describe(client, ids=[instance_id])["TotalCount"] == 0
    assert localcloud.emitted[-1]["content"]["state"] == "Deleted"


def test_run_instances_rejects_bad_values(client: AcsClient) -> None:
    request = RunInstancesRequest()
    request.set_Amount(0)
    assert server_error(client, request).get_error_code() == "InvalidParameter"
    request = RunInstancesRequest()
    request.set_SpotStrategy("Sometimes")
    assert server_error(client, request).get_error_code() == "InvalidParameter"
    request = RunInstancesRequest()
    request.add_query_param("Tag.1.Value", "orphan")
    assert server_error(client, request).get_error_code() == "MissingParameter"


def test_console_output_is_base64(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    localcloud.ecs.set_console_output(instance_id, "kernel panic - not syncing\n")
    request = GetInstanceConsoleOutputRequest()
    request.set_InstanceId(instance_id)
    body = call(client, request)
    assert body["InstanceId"] == instance_id
    assert base64.b64decode(body["ConsoleOutput"]).decode() == "kernel panic - not syncing\n"


def test_unknown_action_is_not_found(client: AcsClient) -> None:
    request = DescribeInstancesRequest()
    request.set_action_name("DescribeNothing")
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidAction.NotFound", 404)
