"""Dry-run: reads go through, RebootInstance is validated with DryRun=True, nothing else mutating is sent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest

from ecs_events.actions.errors import ConflictError
from ecs_events.runtime.clients import Clients
from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetSummary

MUTATING = (
    "RebootInstance",
    "CreateSnapshot",
    "RunCommand",
    "AcceptInquiredSystemEvent",
    "SetBackendServers",
    "SetVServerGroupAttribute",
    "RemoveBackendServers",
    "RemoveVServerGroupBackendServers",
)


def test_dry_run_makes_no_mutating_call(
    localcloud: LocalCloud,
    dry_clients: Clients,
    fleet: FleetSummary,
    running: Callable[..., list[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ecs_events.actions")
    [instance] = running(data_disks=[{"Size": 100}])
    event_id = localcloud.ecs.create_system_event(
        instance, "SystemMaintenance.Reboot", localcloud.clock.now() + timedelta(days=2), "Inquiring"
    )
    localcloud.call_log.clear()
    ecs, slb = dry_clients.ecs(), dry_clients.slb()

    disks = ecs.describe_disks(instance)
    ecs.reboot(instance)
    assert ecs.create_snapshot(disks[0].disk_id, token="t-1", name="snap") == "dry-run"
    assert ecs.run_command(instance, "echo hi") == "dry-run"
    ecs.accept_inquired(event_id)
    web = fleet.instances["web"][0]
    view = slb.find(web)
    before = {(m.lb_id, m.group_id): m.weight for m in view.memberships}
    slb.set_weights(view.memberships, 0)
    slb.remove(view.memberships)

    [reboot] = localcloud.call_log.calls("RebootInstance")
    assert (reboot.params["DryRun"], reboot.code) == ("True", "DryRunOperation")
    sent = {c.action for c in localcloud.call_log}
    assert sent & set(MUTATING) == {"RebootInstance"}
    assert localcloud.ecs.status(instance) == "Running"
    assert {(m.lb_id, m.group_id): m.weight for m in slb.find(web).memberships} == before
    assert not localcloud.ecs.backend(localcloud.account_id).snapshots
    plans = [r.getMessage().split()[2] for r in caplog.records if r.getMessage().startswith("dry-run: would")]
    assert sorted(plans) == sorted(
        [
            "RebootInstance",
            "CreateSnapshot",
            "RunCommand",
            "AcceptInquiredSystemEvent",
            "SetBackendServers",
            *["SetVServerGroupAttribute"] * 2,
            "RemoveBackendServers",
            *["RemoveVServerGroupBackendServers"] * 2,
        ]
    )


def test_dry_run_reboot_still_reports_what_the_cloud_would_refuse(
    localcloud: LocalCloud, dry_clients: Clients, running: Callable[..., list[str]]
) -> None:
    from aliyunsdkecs.request.v20140526.StopInstanceRequest import StopInstanceRequest

    [instance] = running()
    stop = StopInstanceRequest()
    stop.set_InstanceId(instance)
    localcloud.acs_client().do_action_with_exception(stop)
    localcloud.advance(60)
    with pytest.raises(ConflictError) as info:
        dry_clients.ecs().reboot(instance)
    assert info.value.code == "IncorrectInstanceStatus"
