"""The ``Balancers`` facade over CLB, ALB and NLB on localcloud: one view of an instance in all three, each change
sent to its own API, ``settled`` per kind, and the same interface as ``Slb``."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from ecs_events.actions.balancers import Balancers, LazyKinds, UnknownKindError
from ecs_events.actions.slb import Slb
from ecs_events.actions.types import Membership, SlbView, Spent
from ecs_events.runtime.clients import Clients
from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetSummary

MIXED: dict[str, Any] = {
    "instances": [{"name": "web", "count": 2}],
    "load_balancers": [
        {
            "name": "clb",
            "backends": [{"instances": "web", "weight": 100}],
            "vserver_groups": [{"name": "v8080", "backends": [{"instances": "web", "port": 8080, "weight": 80}]}],
        }
    ],
    "albs": [
        {
            "name": "alb",
            "server_groups": [
                {
                    "name": "a80",
                    "backends": [{"instances": "web", "port": 80, "weight": 70}],
                    "connection_drain": {"enabled": True, "timeout": 200},
                }
            ],
            "listeners": [{"port": 80, "server_groups": ["a80"]}],
        }
    ],
    "nlbs": [
        {
            "name": "nlb",
            "server_groups": [{"name": "n443", "backends": [{"instances": "web", "port": 443, "weight": 60}]}],
            "listeners": [{"port": 443, "server_group": "n443"}],
        }
    ],
}


@pytest.fixture
def mixed(localcloud: LocalCloud) -> FleetSummary:
    summary = localcloud.load_fleet(MIXED)
    localcloud.advance(60)
    localcloud.call_log.clear()
    return summary


def _weights(cloud: LocalCloud, fleet: FleetSummary, instance_id: str) -> dict[str, int]:
    """kind -> the instance's weight there, read off the fake's state."""
    account, region = cloud.account_id, cloud.region_id
    lb, v8080 = fleet.load_balancers["clb"], fleet.vserver_groups["clb/v8080"]
    a80, n443 = fleet.server_groups["alb/a80"], fleet.server_groups["nlb/n443"]
    return {
        "clb": cloud.slb.backends(account, region, lb)[instance_id],
        "vserver": cloud.slb.group_backends(account, region, v8080)[(instance_id, 8080)],
        "alb": cloud.alb.members(account, region, a80)[(instance_id, 80)][0],
        "nlb": cloud.nlb.members(account, region, n443)[(instance_id, 443)][0],
    }


def test_find_merges_every_kind(clients: Clients, mixed: FleetSummary) -> None:
    web = mixed.instances["web"][0]
    a80, n443, lb = mixed.server_groups["alb/a80"], mixed.server_groups["nlb/n443"], mixed.load_balancers["clb"]
    view = clients.balancers().find(web)
    assert sorted((m.kind, m.lb_id, m.port or 0, m.weight) for m in view.memberships) == sorted(
        [("clb", lb, 0, 100), ("clb", lb, 8080, 80), ("alb", a80, 80, 70), ("nlb", n443, 443, 60)]
    )
    assert view.lb_sizes == {lb: 2, a80: 2, n443: 2}
    assert view.drain_seconds == {a80: 200}


def test_changes_go_to_each_kinds_api_and_settle(localcloud: LocalCloud, clients: Clients, mixed: FleetSummary) -> None:
    web, peer = mixed.instances["web"]
    balancers = clients.balancers()
    memberships = balancers.find(web).memberships
    balancers.set_weights(memberships, 0)
    assert _weights(localcloud, mixed, web) == {"clb": 0, "vserver": 0, "alb": 0, "nlb": 0}
    assert not balancers.settled(memberships, 0)  # ALB and NLB jobs run
    localcloud.advance(5)
    assert balancers.settled(memberships, 0)
    balancers.set_weights(memberships, None)
    localcloud.advance(5)
    assert balancers.settled(memberships, None)
    assert _weights(localcloud, mixed, web) == {"clb": 100, "vserver": 80, "alb": 70, "nlb": 60}
    assert _weights(localcloud, mixed, peer) == {"clb": 100, "vserver": 80, "alb": 70, "nlb": 60}
    products = {(c.product, c.action) for c in localcloud.call_log if not c.action.startswith(("List", "Describe"))}
    assert products == {
        ("Slb", "SetBackendServers"),
        ("Slb", "SetVServerGroupAttribute"),
        ("Alb", "UpdateServerGroupServersAttribute"),
        ("Nlb", "UpdateServerGroupServersAttribute"),
    }


def test_a_kind_nobody_handles_is_refused_with_its_name(clients: Clients) -> None:
    with pytest.raises(UnknownKindError, match="kind 'gwlb' of gwlb/lb-1/-/i-1/-: expected one of alb, clb, nlb"):
        clients.balancers().set_weights([Membership("lb-1", None, "i-1", None, 100, kind="gwlb")], 0)


def test_the_facade_has_slbs_interface() -> None:
    for name in ("find", "set_weights", "remove"):
        assert inspect.signature(getattr(Balancers, name)).parameters.keys() == (
            inspect.signature(getattr(Slb, name)).parameters.keys()
        ), name


def test_discovery_is_limited_to_the_kinds_asked_for_and_restores_reach_every_kind() -> None:
    seen: list[str] = []

    class Kind:
        def __init__(self, name: str) -> None:
            self.name = name

        def find(self, instance_id: str, spent: Spent | None = None) -> SlbView:
            seen.append(f"find {self.name}")
            return SlbView([], {})

        def set_weights(self, memberships: Any, weight: int | None) -> None:
            seen.append(f"set {self.name}")

        def remove(self, memberships: Any) -> None:
            seen.append(f"remove {self.name}")

    facade = Balancers({k: Kind(k) for k in ("clb", "alb", "nlb")}, discover=["clb"])
    facade.find("i-1")
    facade.set_weights([Membership("sg-1", "sg-1", "i-1", 80, 10, kind="alb")], None)
    assert seen == ["find clb", "set alb"]


def test_each_kind_is_built_on_first_use_only(clients: Clients) -> None:
    """FC cold start: building the facade builds no kind; discovery builds the kinds it looks in; a restore of
    another kind builds that one; each is built once."""
    built: list[str] = []

    class Kind:
        def __init__(self, name: str) -> None:
            built.append(name)

        def find(self, instance_id: str, spent: Spent | None = None) -> SlbView:
            return SlbView([], {})

        def set_weights(self, memberships: Any, weight: int | None) -> None:
            pass

        def remove(self, memberships: Any) -> None:
            pass

    kinds = LazyKinds({kind: lambda kind=kind: Kind(kind) for kind in ("clb", "alb", "nlb")})
    facade = Balancers(kinds, discover=["clb", "elb"])
    assert (facade.discover, built, sorted(kinds), len(kinds), "alb" in kinds, "elb" in kinds) == (
        ["clb"], [], ["alb", "clb", "nlb"], 3, True, False,
    )  # fmt: skip
    facade.find("i-1")
    facade.find("i-1")
    assert built == ["clb"]
    facade.set_weights([Membership("sg-1", "sg-1", "i-1", 80, 10, kind="nlb")], None)
    assert built == ["clb", "nlb"]
    assert kinds["nlb"] is kinds["nlb"] and built == ["clb", "nlb"]
    with pytest.raises(KeyError):
        kinds["elb"]
    assert isinstance(clients.balancers().kinds, LazyKinds)


def test_the_load_balancers_setting_is_checked_in_one_line() -> None:
    from ecs_events.runtime.settings import SettingsError, load_settings

    assert load_settings(load_balancers="CLB, nlb").load_balancers == ("clb", "nlb")
    with pytest.raises(SettingsError, match="ECS_EVENTS_LOAD_BALANCERS: expected a comma-separated list"):
        load_settings(load_balancers="clb,elb")
