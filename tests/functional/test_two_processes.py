"""A full maintenance saga across processes: localcloud served with ``--manual-clock`` in one process, the consumer
run as ``ecs-events consume --until-idle`` in a fresh process after each clock advance (what a timer-triggered
consumer does), the test stepping time through the control API. Nothing is shared but the wire and the store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstanceHistoryEventsRequest import DescribeInstanceHistoryEventsRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerAttributeRequest import DescribeLoadBalancerAttributeRequest
from tests.functional.conftest import QUEUE, TAG
from tests.reliability.harness import serve_localcloud

from localcloud.remote import RemoteCloud
from localcloud.testing import sdk_call

BIN = Path(sys.executable).parent


@pytest.fixture
def served() -> Iterator[RemoteCloud]:
    with serve_localcloud() as cloud:
        yield cloud


def test_maintenance_saga_across_processes_ends_avoided_with_weights_restored(
    served: RemoteCloud, tmp_path: Path
) -> None:
    fleet = served.load_fleet(
        {
            "instances": [{"name": "web", "count": 2, "tags": TAG, "disks": [{"size": 40}]}],
            "load_balancers": [
                {
                    "name": "lb",
                    "backends": [{"instances": "web", "weight": 100}],
                    "vserver_groups": [{"name": "g", "backends": [{"instances": "web", "port": 80, "weight": 70}]}],
                }
            ],
        }
    )
    served.advance(60)
    served.route_events_to_queue(QUEUE)
    web = fleet["instances"]["web"][0]
    not_before = served.now() + timedelta(hours=1)
    event_id = served.simulate(web, "SystemMaintenance.Reboot", not_before)
    env = {
        **os.environ,
        "ECS_EVENTS_ACCOUNT_ID": "1234567890123456",
        "ECS_EVENTS_LOCALCLOUD": served.url,
        "ECS_EVENTS_STORE": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "ECS_EVENTS_QUEUE": QUEUE,
    }

    def consume() -> str:
        done = subprocess.run(
            [str(BIN / "ecs-events"), "consume", "--until-idle"],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    consume()
    for _ in range(22):  # 22 x 2 min: past notBefore - 30 min, the drain period, snapshots, the reboot
        served.advance(120)
        consume()

    calls = served.calls()
    reboots = [c for c in calls if c["action"] == "RebootInstance"]
    assert [c["params"]["InstanceId"] for c in reboots] == [web]
    statuses = [
        c for c in served.calls(action="DescribeInstancesFullStatus") if c["code"] is None
    ]  # health was checked before the restore
    assert statuses
    drains = [c for c in calls if c["action"] in ("SetBackendServers", "SetVServerGroupAttribute")]
    assert len(drains) == 4
    assert drains[-1]["time"] > reboots[0]["time"]  # restored after the reboot
    emitted_status = [
        c for c in calls if c["action"] == "SendMessage" and c["params"].get("QueueName") == QUEUE
    ]  # the engine's own timers went through MNS
    assert emitted_status
    # The end state, read through the SDK like an operator would: the event Avoided, every weight back.
    client = AcsClient("LTAI-localcloud", "localcloud-secret", "cn-hangzhou")
    for product in ("Ecs", "Slb"):
        client.add_endpoint("cn-hangzhou", product, served.url.removeprefix("http://"))
    history = DescribeInstanceHistoryEventsRequest()
    history.set_InstanceId(web)
    found = sdk_call(client, history)["InstanceSystemEventSet"]["InstanceSystemEventType"]
    assert [(e["EventId"], e["EventCycleStatus"]["Name"]) for e in found] == [(event_id, "Avoided")]
    lb = DescribeLoadBalancerAttributeRequest()
    lb.set_LoadBalancerId(fleet["load_balancers"]["lb"])
    weights = {s["ServerId"]: s["Weight"] for s in sdk_call(client, lb)["BackendServers"]["BackendServer"]}
    assert set(weights.values()) == {100}
    status = subprocess.run(
        [str(BIN / "ecs-events"), "status", "--json"], check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["drained"] == []
