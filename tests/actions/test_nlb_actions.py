"""Nlb actions against localcloud through the real aliyun-python-sdk-nlb (form-body parameters, ``set_...ss``
list setters): find with the flat drain settings, a group shared by two NLBs counted once, drain and restore,
all-port members, 200-server batches, NLB's ``IncorrectStatus.serverGroup``, gone groups, dry-run."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_events import retry
from ecs_events.actions.errors import NotFoundError
from ecs_events.actions.types import Membership
from ecs_events.runtime.clients import Clients
from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetSummary

NLB_FLEET: dict[str, Any] = {
    "instances": [{"name": "web", "count": 3}, {"name": "other", "count": 1}],
    "nlbs": [
        {
            "name": "nlb-a",
            "server_groups": [
                {
                    "name": "tcp-443",
                    "backends": [{"instances": "web", "port": 443, "weight": 90}],
                    "connection_drain": {"enabled": True, "timeout": 45},
                },
                {"name": "tcp-22", "backends": [{"instances": "web", "port": 22, "weight": 10}]},
            ],
            "listeners": [{"port": 443, "server_group": "tcp-443"}, {"port": 22, "server_group": "tcp-22"}],
        },
        {"name": "nlb-b", "listeners": [{"port": 443, "server_group": "tcp-443"}]},  # the same group again
    ],
}


@pytest.fixture
def nlbs(localcloud: LocalCloud) -> FleetSummary:
    summary = localcloud.load_fleet(NLB_FLEET)
    localcloud.advance(60)
    localcloud.call_log.clear()
    return summary


def _members(cloud: LocalCloud, group_id: str) -> dict[tuple[str, int], tuple[int, str]]:
    return cloud.nlb.members(cloud.account_id, cloud.region_id, group_id)


def test_find_reads_flat_drain_settings_and_counts_a_shared_group_once(
    localcloud: LocalCloud, clients: Clients, nlbs: FleetSummary
) -> None:
    web = nlbs.instances["web"][0]
    g443, g22 = nlbs.server_groups["nlb/tcp-443"], nlbs.server_groups["nlb/tcp-22"]
    view = clients.nlb().find(web)
    assert sorted(view.memberships, key=lambda m: m.port or 0) == [
        Membership(g22, g22, web, 22, 10, "Ecs", "nlb"),
        Membership(g443, g443, web, 443, 90, "Ecs", "nlb"),
    ]
    assert view.lb_sizes == {g443: 3, g22: 3}  # tcp-443 serves two NLBs: one budget unit
    assert view.drain_seconds == {g443: 45}
    [by_server, *_] = localcloud.call_log.calls("ListServerGroupServers", product="Nlb")
    assert by_server.params["ServerIds.1"] == web and "ServerGroupId" not in by_server.params
    [groups] = localcloud.call_log.calls("ListServerGroups", product="Nlb")
    assert {groups.params["ServerGroupIds.1"], groups.params["ServerGroupIds.2"]} == {g443, g22}


def test_drain_and_restore_with_settled(localcloud: LocalCloud, clients: Clients, nlbs: FleetSummary) -> None:
    web = nlbs.instances["web"][0]
    g443 = nlbs.server_groups["nlb/tcp-443"]
    nlb = clients.nlb()
    memberships = nlb.find(web).memberships
    nlb.set_weights(memberships, 0)
    assert _members(localcloud, g443)[(web, 443)] == (0, "Configuring")
    assert not nlb.settled(memberships, 0)
    localcloud.advance(5)
    assert nlb.settled(memberships, 0)
    nlb.set_weights(memberships, None)
    localcloud.advance(5)
    assert nlb.settled(memberships, None)
    assert _members(localcloud, g443)[(web, 443)] == (90, "Available")
    [update, *_] = localcloud.call_log.calls("UpdateServerGroupServersAttribute", product="Nlb")
    assert (update.params["Servers.1.ServerId"], update.params["Servers.1.Weight"]) == (web, "0")


def test_all_port_members_are_sent_without_a_port(localcloud: LocalCloud, clients: Clients, nlbs: FleetSummary) -> None:
    other = nlbs.instances["other"][0]
    account, region = localcloud.account_id, localcloud.region_id
    group_id = localcloud.nlb.create_server_group(account, region, "any-port")
    localcloud.nlb.place_servers(account, region, group_id, [(other, 0, 70)])
    nlb = clients.nlb()
    [member] = nlb.find(other).memberships
    assert (member.group_id, member.port, member.weight) == (group_id, 0, 70)
    nlb.set_weights([member], 0)
    [update] = localcloud.call_log.calls("UpdateServerGroupServersAttribute")
    assert "Servers.1.Port" not in update.params
    assert _members(localcloud, group_id)[(other, 0)][0] == 0


def test_more_than_200_servers_go_in_batches_of_200(localcloud: LocalCloud, clients: Clients, no_sleep: Any) -> None:
    summary = localcloud.load_fleet(
        {
            "instances": [{"name": f"many{n}", "count": c} for n, c in enumerate((100, 100, 3))],
            "nlbs": [
                {
                    "name": "big",
                    "server_groups": [
                        {
                            "name": "all",
                            "backends": [{"instances": f"many{n}", "port": 80, "weight": 100} for n in range(2)],
                        }
                    ],
                    "listeners": [{"port": 80, "server_group": "all"}],
                }
            ],
        }
    )
    group_id = summary.server_groups["nlb/all"]
    account, region = localcloud.account_id, localcloud.region_id
    localcloud.nlb.place_servers(account, region, group_id, [(i, 80, 100) for i in summary.instances["many2"]])
    localcloud.nlb.set_job_seconds(1)
    no_sleep.side_effect = localcloud.advance
    members = [Membership(group_id, group_id, i, 80, 100, "Ecs", "nlb") for i in summary.instance_ids]
    clients.nlb().set_weights(members, 0)
    calls = [c for c in localcloud.call_log.calls("UpdateServerGroupServersAttribute") if c.code == "OK"]
    assert [sum(1 for k in c.params if k.endswith(".ServerId")) for c in calls] == [200, 3]
    localcloud.advance(1)
    assert set(_members(localcloud, group_id).values()) == {(0, "Available")}


def test_a_configuring_group_is_retried_with_nlbs_spelling(
    localcloud: LocalCloud, clients: Clients, nlbs: FleetSummary, no_sleep: Any
) -> None:
    web, peer = nlbs.instances["web"][:2]
    g22 = nlbs.server_groups["nlb/tcp-22"]
    nlb = clients.nlb()
    nlb.set_weights([Membership(g22, g22, peer, 22, 10, "Ecs", "nlb")], 0)
    localcloud.nlb.set_job_seconds(2)  # the job already running keeps its 5 s
    no_sleep.side_effect = localcloud.advance
    nlb.set_weights([Membership(g22, g22, web, 22, 10, "Ecs", "nlb")], 0)
    codes = [c.code for c in localcloud.call_log.calls("UpdateServerGroupServersAttribute")][1:]
    assert codes[0] == "IncorrectStatus.serverGroup" and codes[-1] == "OK"
    assert retry.stats["Nlb.UpdateServerGroupServersAttribute"] == len(codes) - 1


def test_a_gone_group_is_not_found(localcloud: LocalCloud, clients: Clients, nlbs: FleetSummary) -> None:
    web = nlbs.instances["web"][0]
    gone = "sgp-0000000000000gone"
    with pytest.raises(NotFoundError) as info:
        clients.nlb().remove([Membership(gone, gone, web, 443, 90, "Ecs", "nlb")])
    assert (info.value.product, info.value.code) == ("Nlb", "ResourceNotFound.serverGroup")
    assert len(localcloud.call_log.calls("RemoveServersFromServerGroup")) == 1


def test_dry_run_changes_nothing(localcloud: LocalCloud, dry_clients: Clients, nlbs: FleetSummary) -> None:
    web = nlbs.instances["web"][0]
    nlb = dry_clients.nlb()
    memberships = nlb.find(web).memberships
    groups = {m.lb_id for m in memberships}
    before = {g: _members(localcloud, g) for g in groups}
    nlb.set_weights(memberships, 0)
    nlb.remove(memberships)
    mutating = [c for c in localcloud.call_log if not c.action.startswith("List")]
    assert len(mutating) == 4
    assert {(c.params["DryRun"], c.code) for c in mutating} == {("true", "DryRunOperation")}
    assert {g: _members(localcloud, g) for g in groups} == before
