"""Cloud Assistant through the real SDK: CreateCommand + InvokeCommand, RunCommand, DescribeInvocationResults."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.CreateCommandRequest import CreateCommandRequest
from aliyunsdkecs.request.v20140526.DescribeInvocationResultsRequest import DescribeInvocationResultsRequest
from aliyunsdkecs.request.v20140526.InvokeCommandRequest import InvokeCommandRequest
from aliyunsdkecs.request.v20140526.RunCommandRequest import RunCommandRequest

from localcloud.cloud import LocalCloud
from localcloud.testing import sdk_call as call
from localcloud.testing import sdk_error as server_error

Run = Callable[..., list[str]]
SCRIPT = base64.b64encode(b"systemctl is-active nginx").decode()


def results(client: AcsClient, invoke_id: str) -> list[dict[str, Any]]:
    request = DescribeInvocationResultsRequest()
    request.set_InvokeId(invoke_id)
    found: list[dict[str, Any]] = call(client, request)["Invocation"]["InvocationResults"]["InvocationResult"]
    return found


def test_run_command_runs_and_finishes_with_configured_output(
    localcloud: LocalCloud, client: AcsClient, running: Run
) -> None:
    a, b = running(amount=2)
    localcloud.ecs.set_command_output(a, "active\n", 0)
    localcloud.ecs.set_command_output(b, "inactive\n", 3)
    request = RunCommandRequest()
    request.set_Type("RunShellScript")
    request.set_CommandContent(SCRIPT)
    request.set_InstanceIds([a, b])
    body = call(client, request)
    assert body["CommandId"].startswith("c-") and body["InvokeId"].startswith("t-")
    assert {r["InvokeRecordStatus"] for r in results(client, body["InvokeId"])} == {"Running"}
    localcloud.advance(localcloud.ecs.delays.command)
    by_instance = {r["InstanceId"]: r for r in results(client, body["InvokeId"])}
    assert by_instance[a]["InvokeRecordStatus"] == "Finished" and by_instance[a]["ExitCode"] == 0
    assert base64.b64decode(by_instance[a]["Output"]).decode() == "active\n"
    assert by_instance[b]["InvokeRecordStatus"] == "Failed" and by_instance[b]["ExitCode"] == 3


def test_create_then_invoke_command(localcloud: LocalCloud, client: AcsClient, running: Run) -> None:
    (instance_id,) = running()
    create = CreateCommandRequest()
    create.set_Name("check")
    create.set_Type("RunShellScript")
    create.set_CommandContent(SCRIPT)
    command_id = call(client, create)["CommandId"]
    invoke = InvokeCommandRequest()
    invoke.set_CommandId(command_id)
    invoke.set_InstanceIds([instance_id])
    invoke_id = call(client, invoke)["InvokeId"]
    localcloud.advance(10)
    (result,) = results(client, invoke_id)
    assert (result["CommandId"], result["InvocationStatus"], result["Output"]) == (command_id, "Success", "")


def test_command_errors(client: AcsClient, run: Run) -> None:
    (pending,) = run()
    request = RunCommandRequest()
    request.set_Type("RunShellScript")
    request.set_CommandContent(SCRIPT)
    assert server_error(client, request).get_error_code() == "MissingParameter"
    request.set_InstanceIds([pending])
    err = server_error(client, request)
    assert (err.get_error_code(), err.get_http_status()) == ("IncorrectInstanceStatus", 403)
    request.set_Type("RunCobol")
    assert server_error(client, request).get_error_code() == "InvalidParameter"
    invoke = InvokeCommandRequest()
    invoke.set_CommandId("c-hz0doesnotexist00000")
    invoke.set_InstanceIds([pending])
    err = server_error(client, invoke)
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidCommandId.NotFound", 404)
