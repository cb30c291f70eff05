"""The RAM policy in template.yml and s.yaml is exactly what the code calls: derived from localcloud's call log.

Every scenario the functions meet in production runs through the engine and the queue consumer against localcloud
(real SDKs over HTTP); each logged (product, action) is mapped to its RAM action. The templates must grant exactly
that set: a missing action fails in production with a 403, an extra one is privilege nobody needs.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.deploy.support import code_policy_actions, ram_action, template
from tests.functional.conftest import QUEUE, World
from tests.functional.test_guardrails import crash_after_reboot

POLICY = """\
lead: 30m
drain_period: 60s
snapshot: {maintenance: true, failure: false, disk_error: true, preemption: true}
pre_reboot_command:
  content: "systemctl stop myapp || true"
  timeout: 60s
accept_inquiring: true
"""


def _scenarios(world: World, tmp_path: Path, mocker: Any) -> None:
    """Drive every path that calls the cloud: each adds its calls to localcloud's call log."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    app = world.make_app(policy=str(policy))
    cloud, ecs = world.cloud, world.cloud.ecs
    web, db, batch = world.ids("web"), world.ids("db"), world.ids("batch")
    now = cloud.clock.now
    # the preemptible instance also serves a VServer group, so its removal covers both kinds of membership
    (lb_id,) = cloud.slb.load_balancer_ids(cloud.account_id, cloud.region_id)
    cloud.slb.create_vserver_group(cloud.account_id, cloud.region_id, lb_id, "batch-9000", [(batch[0], 9000, 10)])
    # an ALB and an NLB server group too: the maintenance drains and restores web-1 there, the preemption removes batch
    for service in (cloud.alb, cloud.nlb):
        lb = service.create_load_balancer(cloud.account_id, cloud.region_id, "web")
        group = service.create_server_group(cloud.account_id, cloud.region_id, "web-80", drain_enabled=True)
        service.create_listener(cloud.account_id, cloud.region_id, lb, 80, [group])
        service.place_servers(cloud.account_id, cloud.region_id, group, [(web[0], 80, 100), (batch[0], 80, 10)])

    from ecs_events.runtime.app import reconciler_for

    # a scheduled maintenance reboot: drain, pre-reboot command, snapshots, reboot, health, restore; the snapshots
    # take longer than the saga's backstop look, which the reconciler takes (DescribeSnapshots)
    ecs.set_delays(snapshot=400)
    ecs.create_system_event(web[0], "SystemMaintenance.Reboot", now() + timedelta(hours=1))
    world.run(seconds=41 * 60, step=60, app=app)  # snapshots started at 37 minutes, their backstop look due at 39
    reconciler_for(app).run_once()
    world.run(seconds=5400 - 41 * 60, step=60, app=app)
    ecs.set_delays(snapshot=5)
    # an Inquiring event the policy accepts (the drain budget is free again: one scenario at a time)
    ecs.create_system_event(web[1], "SystemMaintenance.Reboot", now() + timedelta(hours=1), status="Inquiring")
    world.run(seconds=5400, step=60, app=app)
    # a failure the platform is acting on: drain now, console output for the report
    ecs.create_system_event(web[2], "InstanceFailure.Reboot", now(), status="Executing")
    # a preemptible instance's notice: drain, data-disk snapshot, remove
    ecs.interrupt_preemptible(batch[0])
    # a stalled disk: drain the instance, restore when it ends
    ecs.inject_disk_event(ecs.instance(db[0]).disk_ids[-1], "Stalled", duration_seconds=300)
    world.run(seconds=900, step=30, app=app)

    # a transient failure: the message goes back to the queue with a ChangeMessageVisibility backoff
    cloud.faults.set("Ecs", "DescribeInstances", error_rate=1.0)
    ecs.create_system_event(web[0], "SystemMaintenance.Reboot", now() + timedelta(hours=6))
    world.consume(app)
    cloud.faults.clear()
    # a poison message: dead-lettered (SendMessage to the DLQ) and deleted
    cloud.mns.send_message(cloud.account_id, QUEUE, "this is not an event")
    world.run(seconds=600, step=60, app=app)
    # last (it turns the CloudMonitor rule off): a consumer dies right after RebootInstance; its successor asks
    # the event's status (DescribeInstanceHistoryEvents) instead of rebooting again
    ecs.set_delays(stop=0, start=0)
    crash_after_reboot(mocker, cloud)
    ecs.create_system_event(db[0], "SystemMaintenance.Reboot", now() + timedelta(minutes=35))  # behind no LB
    world.run(seconds=1800, step=15, app=app)
    # the reconciler's pass (the eighth function): open events of managed instances, overdue sagas, the registry
    reconciler_for(app).run_once()


@pytest.mark.slow
def test_template_policies_grant_exactly_what_the_code_calls(world: World, tmp_path: Path, mocker: Any) -> None:
    _scenarios(world, tmp_path, mocker)
    calls = {(c.product, c.action) for c in world.cloud.call_log}
    seen = {c.action for c in world.cloud.call_log}
    # the scenarios really reached every path (else the derived set would be short and the test vacuous)
    for action in (
        "RebootInstance", "RunCommand", "CreateSnapshot", "AcceptInquiredSystemEvent", "GetInstanceConsoleOutput",
        "RemoveBackendServers", "RemoveVServerGroupBackendServers", "SetBackendServers", "SetVServerGroupAttribute",
        "ChangeMessageVisibility", "BatchDeleteMessage", "SendMessage", "DescribeInstanceHistoryEvents",
    ):  # fmt: skip
        assert action in seen, f"no scenario made a {action} call"
    for product in ("Alb", "Nlb"):
        for action in ("ListServerGroupServers", "ListServerGroups", "UpdateServerGroupServersAttribute",
                       "RemoveServersFromServerGroup"):  # fmt: skip
            assert (product, action) in calls, f"no scenario made an {product} {action} call"
    derived = {ram_action(product, action) for product, action in calls}
    assert code_policy_actions(template("template.yml")) == derived
    assert code_policy_actions(template("s.yaml")) == derived


def test_ram_action_mapping() -> None:
    assert ram_action("Ecs", "RebootInstance") == "ecs:RebootInstance"
    assert ram_action("Slb", "SetVServerGroupAttribute") == "slb:SetVServerGroupAttribute"
    assert ram_action("Mns", "BatchReceiveMessage") == "mns:ReceiveMessage"
    assert ram_action("Mns", "BatchDeleteMessage") == "mns:DeleteMessage"
    with pytest.raises(KeyError, match=r"Mns\.ListQueue"):
        ram_action("Mns", "ListQueue")
