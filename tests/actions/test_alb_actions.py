"""Alb actions against localcloud through the real aliyun-python-sdk-alb: find across groups and ports, drain,
restore, the 40-server batches, Configuring conflicts, gone groups and servers, dry-run, ``settled``, and what
discovery costs."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_events import retry
from ecs_events.actions.errors import NotFoundError, TransientError
from ecs_events.actions.types import Membership
from ecs_events.runtime.clients import Clients
from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetSummary

ALB_FLEET: dict[str, Any] = {
    "instances": [{"name": "web", "count": 3}, {"name": "other", "count": 2}],
    "load_balancers": [{"name": "clb", "backends": [{"instances": "web", "weight": 100}]}],
    "albs": [
        {
            "name": "web-alb",
            "server_groups": [
                {
                    "name": "web-80",
                    "backends": [{"instances": "web", "port": 80, "weight": 100}],
                    "connection_drain": {"enabled": True, "timeout": 120},
                },
                {
                    "name": "web-8080",
                    "backends": [
                        {"instances": "web", "port": 8080, "weight": 80},
                        {"instances": "web", "port": 8081, "weight": 60},
                    ],
                },
                {
                    "name": "mixed",
                    "backends": [
                        {"instances": "other", "port": 9000, "weight": 50},
                        {"instances": "web", "port": 9000, "weight": 30},
                    ],
                    "connection_drain": {"enabled": False, "timeout": 500},
                },
            ],
            "listeners": [{"port": 80, "server_groups": ["web-80"]}, {"port": 8080, "server_groups": ["web-8080"]}],
        },
        {"name": "other-alb", "listeners": [{"port": 9000, "server_groups": ["mixed"]}]},
    ],
}


@pytest.fixture
def albs(localcloud: LocalCloud) -> FleetSummary:
    summary = localcloud.load_fleet(ALB_FLEET)
    localcloud.advance(60)
    localcloud.call_log.clear()
    return summary


def _members(cloud: LocalCloud, group_id: str) -> dict[tuple[str, int], tuple[int, str]]:
    """(server, port) -> (weight, status), read off the fake's state, not through our code."""
    return cloud.alb.members(cloud.account_id, cloud.region_id, group_id)


def _remove_by_hand(cloud: LocalCloud, group_id: str, server_id: str, port: int) -> None:
    """A person removing a server in the console: the SDK call, not ours."""
    from aliyunsdkalb.request.v20200616.RemoveServersFromServerGroupRequest import RemoveServersFromServerGroupRequest

    request = RemoveServersFromServerGroupRequest()
    request.set_ServerGroupId(group_id)
    request.set_Servers([{"ServerId": server_id, "ServerType": "Ecs", "Port": port}])
    cloud.acs_client().do_action_with_exception(request)


def test_find_lists_every_group_and_port_sizes_and_drain_timeouts(
    localcloud: LocalCloud, clients: Clients, albs: FleetSummary
) -> None:
    web = albs.instances["web"][0]
    g80, g8080, mixed = (albs.server_groups[f"alb/{n}"] for n in ("web-80", "web-8080", "mixed"))
    view = clients.alb().find(web)
    assert sorted(view.memberships, key=lambda m: (m.group_id or "", m.port or 0)) == sorted(
        [
            Membership(g80, g80, web, 80, 100, "Ecs", "alb"),
            Membership(g8080, g8080, web, 8080, 80, "Ecs", "alb"),
            Membership(g8080, g8080, web, 8081, 60, "Ecs", "alb"),
            Membership(mixed, mixed, web, 9000, 30, "Ecs", "alb"),
        ],
        key=lambda m: (m.group_id or "", m.port or 0),
    )
    assert view.lb_sizes == {g80: 3, g8080: 3, mixed: 5}  # distinct servers, not entries
    assert view.drain_seconds == {g80: 120}  # only where connection draining is on
    [by_server, *_] = localcloud.call_log.calls("ListServerGroupServers", product="Alb")
    assert by_server.params["ServerIds.1"] == web and "ServerGroupId" not in by_server.params


def test_find_of_an_instance_in_no_server_group_is_empty(clients: Clients, albs: FleetSummary) -> None:
    [alone] = albs.instances["other"][1:]
    view = clients.alb().find(alone)
    assert len(view.memberships) == 1  # the "mixed" group only
    assert clients.nlb().find(alone).memberships == []


def test_find_pages_through_more_than_100_groups_with_calls_per_group_found_not_per_account(
    localcloud: LocalCloud, clients: Clients, albs: FleetSummary
) -> None:
    web, peer = albs.instances["web"][:2]
    account, region = localcloud.account_id, localcloud.region_id
    groups = [localcloud.alb.create_server_group(account, region, f"g{n}") for n in range(150)]
    for n, group_id in enumerate(groups):
        servers = [(web, 80, 100 - n % 50)] if n < 105 else [(peer, 80, 100)]
        localcloud.alb.place_servers(account, region, group_id, servers)
    localcloud.call_log.clear()
    view = clients.alb().find(web)
    assert len(view.memberships) == 105 + 4  # the new groups and the fleet's four entries
    assert {m.weight for m in view.memberships if m.group_id in groups} == {100 - n % 50 for n in range(105)}
    listed = localcloud.call_log.calls("ListServerGroupServers", product="Alb")
    by_instance = [c for c in listed if "ServerGroupId" not in c.params]
    assert len(by_instance) == 2 and by_instance[1].params["NextToken"]  # 109 entries: two pages of 100
    assert len(listed) - len(by_instance) == 108  # one size read per group holding the instance, none for the 45 others
    assert len(localcloud.call_log.calls("ListServerGroups", product="Alb")) == 6  # 108 ids, 20 a call


def test_drain_then_restore_puts_back_the_exact_weights_asynchronously(
    localcloud: LocalCloud, clients: Clients, albs: FleetSummary
) -> None:
    web = albs.instances["web"][0]
    g8080 = albs.server_groups["alb/web-8080"]
    alb = clients.alb()
    memberships = alb.find(web).memberships
    before = _members(localcloud, g8080)
    alb.set_weights(memberships, 0)
    assert _members(localcloud, g8080)[(web, 8080)] == (0, "Configuring")  # a job: the call returned at once
    assert not alb.settled(memberships, 0)
    localcloud.advance(5)
    assert alb.settled(memberships, 0) and not alb.settled(memberships, None)
    alb.set_weights(memberships, None)
    localcloud.advance(5)
    assert alb.settled(memberships, None)
    assert _members(localcloud, g8080) == before
    updates = localcloud.call_log.calls("UpdateServerGroupServersAttribute", product="Alb")
    assert len(updates) == 6  # three groups, drain then restore: one call per group
    [two_ports] = [c for c in updates[:3] if c.params["ServerGroupId"] == g8080]
    assert {k: v for k, v in two_ports.params.items() if k.startswith("Servers.")} == {
        "Servers.1.ServerId": web, "Servers.1.ServerType": "Ecs", "Servers.1.Port": "8080", "Servers.1.Weight": "0",
        "Servers.2.ServerId": web, "Servers.2.ServerType": "Ecs", "Servers.2.Port": "8081", "Servers.2.Weight": "0",
    }  # fmt: skip
    assert all(c.params.get("ClientToken") for c in updates)
    # the other servers were never touched
    assert {k: v for k, v in _members(localcloud, g8080).items() if k[0] != web} == {
        k: v for k, v in before.items() if k[0] != web
    }


def test_more_than_40_servers_go_in_batches_of_40_each_after_the_last_job(
    localcloud: LocalCloud, clients: Clients, no_sleep: Any
) -> None:
    summary = localcloud.load_fleet(
        {
            "instances": [{"name": "many", "count": 45}],
            "albs": [
                {
                    "name": "big",
                    "server_groups": [{"name": "all", "backends": [{"instances": "many", "port": 80, "weight": 100}]}],
                    "listeners": [{"port": 80, "server_groups": ["all"]}],
                }
            ],
        }
    )
    group_id = summary.server_groups["alb/all"]
    localcloud.alb.set_job_seconds(2)
    no_sleep.side_effect = localcloud.advance  # a retry's wait passes on the cloud's clock
    members = [Membership(group_id, group_id, i, 80, 100, "Ecs", "alb") for i in summary.instances["many"]]
    clients.alb().set_weights(members, 0)
    calls = localcloud.call_log.calls("UpdateServerGroupServersAttribute")
    sizes = [sum(1 for k in c.params if k.endswith(".ServerId")) for c in calls]
    assert sizes[0] == 40 and set(sizes[1:]) == {5}
    assert calls[0].code == "OK" and [c.code for c in calls[1:-1]] == ["IncorrectStatus.ServerGroup"] * (len(calls) - 2)
    assert calls[-1].code == "OK"  # the second batch went in once the first job ended
    localcloud.advance(2)
    assert set(_members(localcloud, group_id).values()) == {(0, "Available")}


def test_a_configuring_group_is_retried_until_its_job_ends(
    localcloud: LocalCloud, clients: Clients, albs: FleetSummary, no_sleep: Any
) -> None:
    web, peer = albs.instances["web"][:2]
    g80 = albs.server_groups["alb/web-80"]
    alb = clients.alb()
    [peer_80] = [m for m in alb.find(peer).memberships if m.group_id == g80]
    alb.set_weights([peer_80], 50)  # someone else's change: the group is Configuring for 5 s
    no_sleep.side_effect = localcloud.advance
    [web_80] = [m for m in alb.find(web).memberships if m.group_id == g80]
    alb.set_weights([web_80], 0)
    codes = [c.code for c in localcloud.call_log.calls("UpdateServerGroupServersAttribute")][1:]
    assert codes[0] == "IncorrectStatus.ServerGroup" and codes[-1] == "OK"
    assert retry.stats["Alb.UpdateServerGroupServersAttribute"] == len(codes) - 1
    assert _members(localcloud, g80)[(web, 80)][0] == 0


def test_a_group_that_stays_configuring_is_a_transient_error_after_the_last_attempt(
    localcloud: LocalCloud, clients: Clients, albs: FleetSummary
) -> None:
    web, peer = albs.instances["web"][:2]
    g80 = albs.server_groups["alb/web-80"]
    alb = clients.alb()
    alb.set_weights([Membership(g80, g80, peer, 80, 100, "Ecs", "alb")], 50)
    localcloud.call_log.clear()
    with pytest.raises(TransientError) as info:
        alb.set_weights([Membership(g80, g80, web, 80, 100, "Ecs", "alb")], 0)
    assert (info.value.code, info.value.status) == ("IncorrectStatus.ServerGroup", 400)
    assert len(localcloud.call_log.calls("UpdateServerGroupServersAttribute")) == retry.ATTEMPTS


def test_a_gone_group_is_not_found_and_not_retried(
    localcloud: LocalCloud, clients: Clients, albs: FleetSummary
) -> None:
    web = albs.instances["web"][0]
    gone = "sgp-0000000000000gone"
    with pytest.raises(NotFoundError) as info:
        clients.alb().set_weights([Membership(gone, gone, web, 80, 100, "Ecs", "alb")], None)
    assert (info.value.product, info.value.action, info.value.code) == (
        "Alb",
        "UpdateServerGroupServersAttribute",
        "ResourceNotFound.ServerGroup",
    )
    assert len(localcloud.call_log.calls("UpdateServerGroupServersAttribute")) == 1


def test_a_server_removed_by_hand_is_not_found_and_its_other_ports_are_still_changed(
    localcloud: LocalCloud, clients: Clients, albs: FleetSummary
) -> None:
    web = albs.instances["web"][0]
    g8080 = albs.server_groups["alb/web-8080"]
    alb = clients.alb()
    entries = [m for m in alb.find(web).memberships if m.group_id == g8080]
    alb.set_weights(entries, 0)
    localcloud.advance(5)
    _remove_by_hand(localcloud, g8080, web, 8081)
    localcloud.advance(5)
    with pytest.raises(NotFoundError) as info:
        alb.set_weights(entries, None)
    assert info.value.code == "ResourceNotFound.BackendServer" and f"{web}:8081" in info.value.message
    assert _members(localcloud, g8080)[(web, 8080)] == (80, "Configuring")  # restored all the same
    assert (web, 8081) not in _members(localcloud, g8080)
    # a lone gone server is one call, no second look
    localcloud.advance(5)
    localcloud.call_log.clear()
    with pytest.raises(NotFoundError):
        alb.set_weights([m for m in entries if m.port == 8081], None)
    assert [c.action for c in localcloud.call_log] == ["UpdateServerGroupServersAttribute"]


def test_remove_takes_the_instance_out_of_every_group(
    localcloud: LocalCloud, clients: Clients, albs: FleetSummary
) -> None:
    web = albs.instances["web"][0]
    alb = clients.alb()
    memberships = alb.find(web).memberships
    alb.remove(memberships)
    assert len(localcloud.call_log.calls("RemoveServersFromServerGroup")) == 3
    assert not alb.settled(memberships, 0)  # Removing
    localcloud.advance(5)
    assert alb.find(web).memberships == []
    assert alb.settled(memberships, 0)  # gone: nothing left to wait for


def test_dry_run_validates_with_dry_run_true_and_changes_nothing(
    localcloud: LocalCloud, dry_clients: Clients, albs: FleetSummary
) -> None:
    web = albs.instances["web"][0]
    alb = dry_clients.alb()
    memberships = alb.find(web).memberships
    before = {g: _members(localcloud, g) for g in {m.lb_id for m in memberships}}
    alb.set_weights(memberships, 0)
    alb.remove(memberships)
    mutating = [c for c in localcloud.call_log if not c.action.startswith("List")]
    assert len(mutating) == 6
    assert {(c.params["DryRun"], c.code) for c in mutating} == {("true", "DryRunOperation")}
    assert {g: _members(localcloud, g) for g in before} == before
