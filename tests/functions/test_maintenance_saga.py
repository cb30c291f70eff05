"""A scheduled reboot of a real fleet instance, entirely through the FC functions: the maintenance notification
pushed to ``maintenance`` (as the MNS topic trigger does), every notification the cloud emits afterwards pushed to
the function its trigger would reach, and ``consumer`` invoked on each timer tick as the clock advances."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.functions.conftest import TAG, Functions, for_instance, sample, timer_event

from ecs_events.cli.replay_cmd import pick_function
from ecs_events.engine.saga import Saga, SagaStatus
from ecs_events.models.times import iso_utc
from ecs_events.runtime import handlers
from localcloud.cloud import LocalCloud

FLEET: dict[str, Any] = {
    "instances": [
        {"name": "web", "count": 2, "tags": {"app": "web", **TAG}, "disks": [{"size": 100, "category": "cloud_essd"}]},
    ],
    "load_balancers": [
        {
            "name": "web-lb",
            "backends": [{"instances": "web", "weight": 100}],
            "vserver_groups": [{"name": "web-8080", "backends": [{"instances": "web", "port": 8080, "weight": 80}]}],
        }
    ],
}


def weights(cloud: LocalCloud) -> dict[tuple[str, int | None, str], int]:
    """Every backend weight, read off the fake's state (not our records)."""
    slb, account, region = cloud.slb, cloud.account_id, cloud.region_id
    out: dict[tuple[str, int | None, str], int] = {}
    for lb_id in slb.load_balancer_ids(account, region):
        for server_id, weight in slb.backends(account, region, lb_id).items():
            out[(lb_id, None, server_id)] = weight
        for group_id in slb.vserver_groups(account, region, lb_id):
            for (server_id, port), weight in slb.group_backends(account, region, group_id).items():
                out[(group_id, port, server_id)] = weight
    return out


def saga_of(instance_id: str) -> Saga:
    [doc] = handlers.initialize().store.scan(f"saga/{instance_id}/")
    return Saga.from_doc(doc.value)


def test_scheduled_reboot_through_maintenance_and_consumer_is_avoided(functions: Functions) -> None:
    cloud = functions.cloud
    fleet = cloud.load_fleet(FLEET)
    cloud.advance(60)  # everything Running
    web = fleet.instances["web"][0]
    before = weights(cloud)
    not_before = cloud.clock.now() + timedelta(hours=2)
    event_id = cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)
    seen = len(cloud.emitted)  # the platform's own Scheduled notice is the sample below
    cloud.call_log.clear()

    notification = for_instance(
        sample("cloudmonitor/instance-systemmaintenance-reboot-scheduled.json"),
        cloud,
        web,
        eventId=event_id,
        notBefore=iso_utc(not_before),
        publishTime=iso_utc(cloud.clock.now()),
    )
    first = functions.invoke("maintenance", json.dumps(notification))
    assert (first["acted"], first["dead_lettered"]) == (1, 0)
    assert first["results"][0]["saga"] == f"saga/{web}/{event_id}"

    pushed: list[str] = []

    def push_emitted() -> (
        None
    ):  # the topic triggers: each new notification (some emitted while we push) to its function
        nonlocal seen
        while seen < len(cloud.emitted):
            body = json.dumps(cloud.emitted[seen]).encode()
            seen += 1
            name = pick_function(body)
            result = functions.invoke(name, body)
            assert result["dead_lettered"] == 0, result
            pushed.append(name)

    for _ in range(3 * 60):  # minutes; the saga must be done well before notBefore + an hour
        cloud.advance(60)
        push_emitted()
        report = functions.invoke("consumer", timer_event({"wait_seconds": 0}))
        assert report["dead_lettered"] == 0, report
        if saga_of(web).status is not SagaStatus.ACTIVE:
            break

    cloud.advance(60)
    push_emitted()  # what the platform said last (Avoided) arrives after the saga closed: it stays closed
    functions.invoke("consumer", timer_event({"wait_seconds": 0}))
    saga = saga_of(web)
    assert saga.status is SagaStatus.SUCCEEDED, saga.history[-5:]
    statuses = [e["content"]["eventStatus"] for e in cloud.emitted if e["content"].get("eventId") == event_id]
    assert statuses[-1] == "Avoided"
    reboots = cloud.call_log.calls("RebootInstance")
    assert [c.params["InstanceId"] for c in reboots] == [web]
    assert reboots[0].time < not_before
    drains = cloud.call_log.calls("SetBackendServers") + cloud.call_log.calls("SetVServerGroupAttribute")
    assert any('"Weight": "0"' in c.params["BackendServers"] or '"Weight":"0"' in c.params["BackendServers"]
               for c in drains)  # fmt: skip
    assert weights(cloud) == before
    assert {"lifecycle", "maintenance"} <= set(pushed)  # StateChange and Avoided came back through their triggers
    assert functions.dlq() == []
