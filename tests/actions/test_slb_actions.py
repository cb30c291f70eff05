"""Slb actions against localcloud through the real aliyun-python-sdk-slb: find, drain, restore, remove, retries."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from ecs_events import retry
from ecs_events.actions.errors import NotFoundError, TransientError
from ecs_events.actions.types import Membership
from ecs_events.runtime.clients import Clients
from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetSummary


def _weights(clients: Clients, instance_id: str) -> dict[tuple[str, str | None, int | None], int]:
    """The instance's weights read back through the SDK: (lb, group, port) -> weight."""
    return {(m.lb_id, m.group_id, m.port): m.weight for m in clients.slb().find(instance_id).memberships}


def test_find_lists_default_and_vserver_memberships_and_lb_sizes(clients: Clients, fleet: FleetSummary) -> None:
    web = fleet.instances["web"][0]
    web_lb, mixed_lb = fleet.load_balancers["web-lb"], fleet.load_balancers["mixed-lb"]
    view = clients.slb().find(web)
    assert sorted(view.memberships, key=lambda m: (m.lb_id, m.group_id or "")) == sorted(
        [
            Membership(web_lb, None, web, None, 100, "ecs"),
            Membership(web_lb, fleet.vserver_groups["web-lb/web-8080"], web, 8080, 80, "ecs"),
            Membership(mixed_lb, fleet.vserver_groups["mixed-lb/mixed-9000"], web, 9000, 30, "ecs"),
        ],
        key=lambda m: (m.lb_id, m.group_id or ""),
    )
    assert view.lb_sizes == {web_lb: 3, mixed_lb: 5}


def test_find_uses_the_server_id_filter(localcloud: LocalCloud, clients: Clients, fleet: FleetSummary) -> None:
    other = fleet.instances["other"][0]
    view = clients.slb().find(other)
    assert [(m.lb_id, m.group_id, m.weight) for m in view.memberships] == [(fleet.load_balancers["mixed-lb"], None, 50)]
    assert localcloud.call_log.calls("DescribeLoadBalancers")[0].params["ServerId"] == other


def test_find_of_a_server_behind_no_load_balancer_is_empty(
    clients: Clients, fleet: FleetSummary, running: Callable[..., list[str]]
) -> None:
    [alone] = running()
    view = clients.slb().find(alone)
    assert (view.memberships, view.lb_sizes) == ([], {})


def test_drain_then_restore_puts_back_the_exact_original_weights(
    localcloud: LocalCloud, clients: Clients, fleet: FleetSummary
) -> None:
    web = fleet.instances["web"][0]
    web_lb = fleet.load_balancers["web-lb"]
    localcloud.slb.set_backend_weights(localcloud.account_id, localcloud.region_id, web_lb, [(web, 70)])
    before = _weights(clients, web)
    assert sorted(before.values()) == [30, 70, 80]
    slb = clients.slb()
    memberships = slb.find(web).memberships
    slb.set_weights(memberships, 0)
    assert set(_weights(clients, web).values()) == {0}
    slb.set_weights(memberships, None)
    assert _weights(clients, web) == before
    # the other web servers were never touched
    for peer in fleet.instances["web"][1:]:
        assert sorted(_weights(clients, peer).values()) == [30, 80, 100]
    [default_call, *_] = localcloud.call_log.calls("SetBackendServers")
    assert json.loads(default_call.params["BackendServers"]) == [{"ServerId": web, "Type": "ecs", "Weight": "0"}]
    group_calls = localcloud.call_log.calls("SetVServerGroupAttribute")
    assert {json.loads(c.params["BackendServers"])[0]["Port"] for c in group_calls} == {"8080", "9000"}


def test_set_weights_sends_at_most_20_servers_per_call(localcloud: LocalCloud, clients: Clients) -> None:
    summary = localcloud.load_fleet(
        {
            "instances": [{"name": "many", "count": 25}],
            "load_balancers": [{"name": "big", "backends": [{"instances": "many", "weight": 100}]}],
        }
    )
    lb_id = summary.load_balancers["big"]
    members = [Membership(lb_id, None, i, None, 100) for i in summary.instances["many"]]
    clients.slb().set_weights(members, 0)
    calls = localcloud.call_log.calls("SetBackendServers")
    assert [len(json.loads(c.params["BackendServers"])) for c in calls] == [20, 5]
    assert set(localcloud.slb.backends(localcloud.account_id, localcloud.region_id, lb_id).values()) == {0}


def test_remove_takes_the_server_out_of_every_group(
    localcloud: LocalCloud, clients: Clients, fleet: FleetSummary
) -> None:
    web = fleet.instances["web"][0]
    slb = clients.slb()
    slb.remove(slb.find(web).memberships)
    assert slb.find(web).memberships == []
    assert len(localcloud.call_log.calls("RemoveBackendServers")) == 1
    assert len(localcloud.call_log.calls("RemoveVServerGroupBackendServers")) == 2
    group = fleet.vserver_groups["web-lb/web-8080"]
    assert web not in {s for s, _ in localcloud.slb.group_backends(localcloud.account_id, localcloud.region_id, group)}


def test_backend_configuring_is_retried_until_it_clears(
    localcloud: LocalCloud, clients: Clients, fleet: FleetSummary
) -> None:
    web = fleet.instances["web"][0]
    web_lb = fleet.load_balancers["web-lb"]
    slb = clients.slb()
    defaults = [m for m in slb.find(web).memberships if m.group_id is None and m.lb_id == web_lb]
    localcloud.slb.set_configuring(web_lb, calls=2)
    slb.set_weights(defaults, 0)
    codes = [c.code for c in localcloud.call_log.calls("SetBackendServers")]
    assert codes == ["BackendServer.configuring", "BackendServer.configuring", "OK"]
    assert retry.stats["Slb.SetBackendServers"] == 2


def test_a_load_balancer_that_stays_configuring_is_a_transient_error_after_the_last_attempt(
    localcloud: LocalCloud, clients: Clients, fleet: FleetSummary
) -> None:
    web = fleet.instances["web"][0]
    web_lb = fleet.load_balancers["web-lb"]
    localcloud.slb.set_configuring(web_lb, calls=100)
    with pytest.raises(TransientError) as info:
        clients.slb().set_weights([Membership(web_lb, None, web, None, 100)], 0)
    assert (info.value.code, info.value.status) == ("BackendServer.configuring", 409)
    assert len(localcloud.call_log.calls("SetBackendServers")) == retry.ATTEMPTS


def test_weights_of_a_server_not_in_the_group_is_not_found_and_not_retried(
    localcloud: LocalCloud, clients: Clients, fleet: FleetSummary
) -> None:
    web_lb = fleet.load_balancers["web-lb"]
    with pytest.raises(NotFoundError) as info:
        clients.slb().set_weights([Membership(web_lb, None, "i-bp1notabackend0000000", None, 100)], 0)
    assert (info.value.product, info.value.action, info.value.code) == (
        "Slb",
        "SetBackendServers",
        "InvalidServerId.NotFound",
    )
    assert len(localcloud.call_log.calls("SetBackendServers")) == 1


def test_find_survives_throttling(localcloud: LocalCloud, clients: Clients, fleet: FleetSummary) -> None:
    localcloud.faults.set("Slb", "*", throttling_rate=0.4)
    view = clients.slb().find(fleet.instances["web"][0])
    assert len(view.memberships) == 3
    assert sum(v for k, v in retry.stats.items() if k.startswith("Slb.")) > 0
