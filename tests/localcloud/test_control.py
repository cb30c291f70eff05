"""The control API (``/_localcloud``) through real HTTP, with RemoteCloud and raw http.client, and against a
localcloud served in another process."""

from __future__ import annotations

import base64
import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.RebootInstanceRequest import RebootInstanceRequest

from localcloud.cloud import LocalCloud
from localcloud.core import DEFAULT_START
from localcloud.remote import RemoteCloud, RemoteCloudError
from localcloud.testing import make_queue, sdk_call, sdk_error

SHARED = Path(__file__).resolve().parents[2] / "shared"
FLEET = {"instances": [{"name": "web", "count": 2}, {"name": "spot", "preemptible": True, "disks": [{"size": 40}]}]}


@pytest.fixture
def remote(localcloud: LocalCloud) -> RemoteCloud:
    return RemoteCloud(localcloud.url)


def raw(cloud: LocalCloud, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(cloud.endpoint, timeout=30)
    try:
        conn.request(method, path, body)
        resp = conn.getresponse()
        assert resp.getheader("Content-Type") == "application/json"
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


# -- clock -------------------------------------------------------------------------------------------------------------


def test_clock_reads_and_advances_the_manual_clock(localcloud: LocalCloud, remote: RemoteCloud) -> None:
    assert raw(localcloud, "GET", "/_localcloud/clock") == (200, {"now": "2026-11-26T02:00:00Z", "manual": True})
    assert remote.now() == DEFAULT_START and remote.manual()
    assert remote.advance(90) == DEFAULT_START + timedelta(seconds=90)
    assert localcloud.clock.now() == DEFAULT_START + timedelta(seconds=90)
    assert raw(localcloud, "POST", "/_localcloud/clock", b'{"advance": 0.25}')[1]["now"] == "2026-11-26T02:01:30.250Z"
    assert remote.set_time("2026-11-27T00:00:00Z") == datetime(2026, 11, 27, tzinfo=timezone.utc)


def test_advancing_runs_what_fell_due(localcloud: LocalCloud, remote: RemoteCloud) -> None:
    (instance_id,) = remote.load_fleet({"instances": [{"name": "db"}]})["instance_ids"]
    event_id = remote.simulate(instance_id, "SystemMaintenance.Reboot", remote.now() + timedelta(minutes=10))
    remote.advance(600)
    (event,) = [e for e in localcloud.emitted if e["content"].get("eventId") == event_id][-1:]
    assert event["content"]["eventStatus"] in ("Executing", "Executed")


@pytest.mark.parametrize(
    "body",
    [b'{"advance": -1}', b'{"advance": "x"}', b'{"set": "2020-01-01T00:00:00Z"}', b'{"set": "soon"}', b"{}",
     b'{"advance": 1, "set": "2027-01-01T00:00:00Z"}', b"not json", b"[1]", b'{"advance": NaN}'],
)  # fmt: skip
def test_bad_clock_input_is_a_one_line_400(localcloud: LocalCloud, body: bytes) -> None:
    status, answer = raw(localcloud, "POST", "/_localcloud/clock", body)
    assert status == 400 and list(answer) == ["error"] and "\n" not in answer["error"]
    assert localcloud.clock.now() == DEFAULT_START


# -- calls -------------------------------------------------------------------------------------------------------------


def test_calls_lists_ecs_and_mns_calls_in_order_with_codes(localcloud: LocalCloud, remote: RemoteCloud) -> None:
    client = localcloud.acs_client()
    sdk_call(client, DescribeInstancesRequest())
    make_queue(localcloud, "jobs")
    reboot = RebootInstanceRequest()
    reboot.set_InstanceId("i-nope")
    sdk_error(client, reboot)
    calls = remote.calls()
    assert [(c["product"], c["action"], c["code"], c["status"]) for c in calls] == [
        ("Ecs", "DescribeInstances", None, 200),
        ("Mns", "CreateQueue", None, 201),
        ("Ecs", "RebootInstance", "InvalidInstanceId.NotFound", 404),
    ]
    assert calls[2]["params"] == {"InstanceId": "i-nope"} and calls[1]["params"] == {"QueueName": "jobs"}
    assert calls[0]["time"] == "2026-11-26T02:00:00Z" and [c["index"] for c in calls] == [0, 1, 2]
    assert remote.calls(since=1) == calls[1:]
    assert remote.calls(action="RebootInstance") == calls[2:]
    assert remote.calls(since=3) == []
    assert raw(localcloud, "GET", "/_localcloud/calls?since=-1")[0] == 400


# -- reset, faults, fleet, routes ---------------------------------------------------------------------------------


def test_reset_drops_state_and_runs_after_reset_hooks(localcloud: LocalCloud, remote: RemoteCloud) -> None:
    remote.load_fleet({"instances": [{"name": "web"}]})
    remote.route_events_to_queue("ev")
    seen: list[str] = []
    localcloud.control.after_reset.append(lambda: seen.append("hook"))
    try:
        remote.reset()
    finally:
        localcloud.control.after_reset.clear()
    assert seen == ["hook"] and remote.calls() == [] and remote.now() == DEFAULT_START
    assert sdk_call(localcloud, DescribeInstancesRequest())["TotalCount"] == 0
    assert localcloud.ctx.events.target_names() == []


def test_faults_apply_to_sdk_calls_until_cleared(localcloud: LocalCloud, remote: RemoteCloud) -> None:
    rule = remote.faults("Ecs", "DescribeInstances", throttling_rate=1.0)
    assert rule == {
        "product": "Ecs",
        "action": "DescribeInstances",
        "rule": {"throttling_rate": 1.0, "error_rate": 0.0, "latency": 0.0, "qps_limit": 0.0, "reset_rate": 0.0},
    }
    client = AcsClient(localcloud.access_key_id, localcloud.access_key_secret, localcloud.region_id, auto_retry=False)
    client.add_endpoint(localcloud.region_id, "Ecs", localcloud.endpoint)
    assert sdk_error(client, DescribeInstancesRequest()).get_error_code() == "Throttling"
    remote.clear_faults()
    assert sdk_call(client, DescribeInstancesRequest())["TotalCount"] == 0


@pytest.mark.parametrize(
    "body",
    [{"throttling_rate": 2}, {"error_rate": "half"}, {"bogus": 1}, {"latency": -1}, {"product": ""}, {"clear": 1}],
)
def test_bad_fault_rules_are_400(localcloud: LocalCloud, body: dict[str, Any]) -> None:
    status, answer = raw(localcloud, "POST", "/_localcloud/faults", json.dumps(body).encode())
    assert status == 400 and "error" in answer


def test_fleet_builds_through_the_apis_and_a_bad_one_is_400(localcloud: LocalCloud, remote: RemoteCloud) -> None:
    summary = remote.load_fleet(FLEET)
    assert [len(summary["instances"]["web"]), len(summary["instances"]["spot"])] == [2, 1]
    assert summary["instance_ids"] == summary["instances"]["web"] + summary["instances"]["spot"]
    assert [c["action"] for c in remote.calls(action="RunInstances")] == ["RunInstances"] * 3
    with pytest.raises(RemoteCloudError) as info:
        remote.load_fleet({"instances": [{"count": 2}]})
    assert info.value.status == 400 and "instances[0].name" in info.value.message


def test_routed_events_and_simulations_reach_the_queue(localcloud: LocalCloud, remote: RemoteCloud) -> None:
    summary = remote.load_fleet(FLEET)
    remote.route_events_to_queue("ev")
    remote.route_events_to_queue("ev")  # idempotent: one delivery per event
    web, spot = summary["instances"]["web"][0], summary["instances"]["spot"][0]
    remote.simulate(web, "SystemMaintenance.Redeploy", "2026-11-27T00:00:00Z", status="Inquiring")
    remote.preempt(spot, notice_seconds=60)
    remote.disk_event(localcloud.ecs.instance(spot).disk_ids[-1], "Stalled", duration=30)
    names = [json.loads(_decode(m.body))["name"] for m in localcloud.mns.queue_messages(localcloud.account_id, "ev")]
    assert names == [
        "Instance:SystemMaintenance.Redeploy:Inquiring",
        "Instance:PreemptibleInstanceInterruption",
        "Disk:Stalled:Executing",
    ]


def _decode(body: str) -> str:
    return base64.b64decode(body).decode()


@pytest.mark.parametrize(
    "body",
    [{}, {"instance_id": "i-nope", "not_before": "2027-01-01T00:00:00Z"}, {"instance_id": "x"},
     {"preempt": "i-nope"}, {"disk_event": "d-nope"}, {"instance_id": "x", "event_type": "Nope", "not_before": "x"}],
)  # fmt: skip
def test_bad_simulations_are_4xx_json(localcloud: LocalCloud, body: dict[str, Any]) -> None:
    status, answer = raw(localcloud, "POST", "/_localcloud/simulate", json.dumps(body).encode())
    assert status in (400, 404) and "\n" not in answer["error"]


def test_unknown_control_path_is_404_and_wrong_method_405(localcloud: LocalCloud) -> None:
    assert raw(localcloud, "GET", "/_localcloud/nope")[0] == 404
    assert raw(localcloud, "GET", "/_localcloud")[0] == 404
    status, answer = raw(localcloud, "DELETE", "/_localcloud/clock")
    assert status == 405 and "GET or POST" in answer["error"]
    assert localcloud.call_log.calls() == []


# -- another process ---------------------------------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[str, list[str]]]:
    """``python -m localcloud --manual-clock --port 0 --events-queue ev`` in a subprocess: (url, printed lines)."""
    env = {"PYTHONPATH": str(SHARED), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "--manual-clock", "--port", "0", "--events-queue", "ev"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("control: "):
                break
        endpoint = next(line.split()[1] for line in lines if line.startswith("endpoint: "))
        yield endpoint, lines
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_served_manual_clock_is_driven_from_another_process(served: tuple[str, list[str]]) -> None:
    url, lines = served
    assert any(
        line.startswith(f"control: {url}/_localcloud  (clock: manual, now 2026-11-26T02:00:00Z") for line in lines
    )
    remote = RemoteCloud(url)
    assert remote.now() == DEFAULT_START
    assert remote.advance(3600) == DEFAULT_START + timedelta(hours=1)
    ids = remote.load_fleet({"instances": [{"name": "web", "count": 2}]})["instance_ids"]
    client = AcsClient("LTAI-localcloud", "localcloud-secret", "cn-hangzhou")
    client.add_endpoint("cn-hangzhou", "Ecs", url.removeprefix("http://"))
    body = sdk_call(client, DescribeInstancesRequest())
    assert sorted(i["InstanceId"] for i in body["Instances"]["Instance"]) == sorted(ids)
    assert all(i["Status"] == "Running" for i in body["Instances"]["Instance"])
    (described,) = remote.calls(action="DescribeInstances")
    assert described["product"] == "Ecs" and described["code"] is None and described["params"] == {}
    remote.reset()
    assert remote.calls() == [] and remote.now() == DEFAULT_START
    remote.route_events_to_queue("ev")  # already re-added by the CLI after reset: still one route
