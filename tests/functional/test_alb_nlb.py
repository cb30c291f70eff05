"""An instance behind all four kinds of backend at once (a CLB default server group, a CLB VServer group, an ALB
server group and an NLB server group), end to end through the engine, the queue consumer and the real SDKs on
localcloud: drained in all four, rebooted, restored in all four; a person removing it from the ALB group mid-drain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from tests.functional.conftest import World

from ecs_events.engine.saga import Saga

ALB_WEIGHT, NLB_WEIGHT = 70, 60


@dataclass(frozen=True)
class Groups:
    alb: str  # the ALB server group (connection draining on, 120 s)
    nlb: str  # the NLB server group


@pytest.fixture
def groups(world: World) -> Groups:
    """web-1 and web-2 in an ALB group and an NLB group, beside the CLB ones (built as an operator would have)."""
    cloud, account, region = world.cloud, world.cloud.account_id, world.cloud.region_id
    web = world.ids("web")[:2]
    alb_lb = cloud.alb.create_load_balancer(account, region, "web-alb")
    alb = cloud.alb.create_server_group(account, region, "web-80", drain_enabled=True, drain_timeout=120)
    cloud.alb.create_listener(account, region, alb_lb, 80, [alb])
    cloud.alb.place_servers(account, region, alb, [(i, 80, ALB_WEIGHT) for i in web])
    nlb_lb = cloud.nlb.create_load_balancer(account, region, "web-nlb")
    nlb = cloud.nlb.create_server_group(account, region, "web-443")
    cloud.nlb.create_listener(account, region, nlb_lb, 443, [nlb])
    cloud.nlb.place_servers(account, region, nlb, [(i, 443, NLB_WEIGHT) for i in web])
    cloud.call_log.clear()
    return Groups(alb, nlb)


def _weights(world: World, groups: Groups, instance_id: str) -> dict[str, int | None]:
    """kind -> the instance's weight there (None: not a member), read off the fake's state, not our records."""
    cloud, account, region = world.cloud, world.cloud.account_id, world.cloud.region_id
    (lb_id,) = cloud.slb.load_balancer_ids(account, region)
    (vgroup,) = cloud.slb.vserver_groups(account, region, lb_id)
    alb = cloud.alb.members(account, region, groups.alb)
    nlb = cloud.nlb.members(account, region, groups.nlb)
    return {
        "clb": cloud.slb.backends(account, region, lb_id).get(instance_id),
        "vserver": cloud.slb.group_backends(account, region, vgroup).get((instance_id, 8080)),
        "alb": alb[(instance_id, 80)][0] if (instance_id, 80) in alb else None,
        "nlb": nlb[(instance_id, 443)][0] if (instance_id, 443) in nlb else None,
    }


ORIGINAL = {"clb": 100, "vserver": 80, "alb": ALB_WEIGHT, "nlb": NLB_WEIGHT}
DRAINED = {"clb": 0, "vserver": 0, "alb": 0, "nlb": 0}


def _saga(world: World, instance_id: str) -> Saga:
    (doc,) = world.app.store.scan(f"saga/{instance_id}/")
    return Saga.from_doc(doc.value)


def _remove_by_hand(world: World, group_id: str, server_id: str, port: int) -> None:
    """A person removing the server in the console: an SDK call that is not ours."""
    from aliyunsdkalb.request.v20200616.RemoveServersFromServerGroupRequest import RemoveServersFromServerGroupRequest

    request = RemoveServersFromServerGroupRequest()
    request.set_ServerGroupId(group_id)
    request.set_Servers([{"ServerId": server_id, "ServerType": "Ecs", "Port": port}])
    world.cloud.acs_client().do_action_with_exception(request)


def _updates(world: World, product: str) -> list[Any]:
    return [c for c in world.calls("UpdateServerGroupServersAttribute") if c.product == product]


def test_a_scheduled_reboot_drains_and_restores_clb_vserver_alb_and_nlb(world: World, groups: Groups) -> None:
    web, peer = world.ids("web")[:2]
    assert _weights(world, groups, web) == ORIGINAL
    not_before = world.cloud.clock.now() + timedelta(minutes=40)
    event_id = world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)

    world.run(seconds=11 * 60, step=30)  # drained at notBefore - 30 min
    assert _weights(world, groups, web) == DRAINED
    assert _weights(world, groups, peer) == ORIGINAL
    alb_group, nlb_group = groups.alb, groups.nlb
    (drain,) = world.app.store.scan("drain/")
    assert sorted(m["kind"] for m in drain.value["memberships"]) == ["alb", "clb", "clb", "nlb"]
    budgets = {doc.key: doc.value["size"] for doc in world.app.store.scan("budget/")}
    assert budgets[f"budget/{alb_group}"] == 2 and budgets[f"budget/{nlb_group}"] == 2  # a server group is a unit

    world.run(seconds=2 * 3600, step=60)
    assert world.event_statuses(event_id)[-1] == "Avoided"
    [reboot] = world.calls("RebootInstance")
    assert _weights(world, groups, web) == ORIGINAL and _weights(world, groups, peer) == ORIGINAL
    for product in ("Alb", "Nlb"):
        drain_call, restore_call = _updates(world, product)
        assert drain_call.time < reboot.time < restore_call.time
        assert (drain_call.params["Servers.1.Weight"], restore_call.params["Servers.1.Weight"]) == (
            "0",
            str(ALB_WEIGHT if product == "Alb" else NLB_WEIGHT),
        )
    assert world.app.store.scan("drain/") == [] and world.app.store.scan("budget/") == []
    assert _saga(world, web).status.value == "succeeded"
    # A job just started is never done: its state is read one poll later, once per change (issue "performance").
    for product in ("Alb", "Nlb"):
        looks = [  # ListServerGroupServers of the group for the instance: is the job done
            c.time
            for c in world.calls("ListServerGroupServers")
            if c.product == product and "ServerGroupId" in c.params and "ServerIds.1" in c.params
        ]
        drained, restored = (c.time for c in _updates(world, product))
        assert len(looks) == 2 and drained < looks[0] < restored < looks[1], (drained, restored, looks)


def test_a_server_removed_from_the_alb_group_mid_drain_is_reported_and_the_others_restored(
    world: World, groups: Groups
) -> None:
    web = world.ids("web")[0]
    alb_group = groups.alb
    world.cloud.ecs.create_system_event(
        web, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(minutes=40)
    )
    world.run(seconds=11 * 60, step=30)
    assert _weights(world, groups, web) == DRAINED
    _remove_by_hand(world, alb_group, web, 80)

    world.run(seconds=2 * 3600, step=60)
    assert _weights(world, groups, web) == {**ORIGINAL, "alb": None}
    assert world.app.store.scan("drain/") == [] and world.app.store.scan("budget/") == []
    saga = _saga(world, web)
    assert saga.status.value == "succeeded"
    history = "\n".join(h.what for h in saga.history)
    assert "1 gone" in history and f"alb {alb_group}/{alb_group} {web}:80 (" in history
    assert "ResourceNotFound.BackendServer" in history


def test_connection_draining_lengthens_the_drain_period_and_says_so(world: World, tmp_path: Any) -> None:
    """The ALB group drains connections for 300 s, longer than the policy's 60 s drain period: the reboot waits."""
    cloud, account, region = world.cloud, world.cloud.account_id, world.cloud.region_id
    web = world.ids("web")[0]
    group = cloud.alb.create_server_group(account, region, "slow-drain", drain_enabled=True, drain_timeout=300)
    cloud.alb.create_listener(account, region, cloud.alb.create_load_balancer(account, region, "lb"), 80, [group])
    cloud.alb.place_servers(account, region, group, [(web, 80, 50)])
    cloud.call_log.clear()
    policy = tmp_path / "policy.yaml"
    policy.write_text("drain_period: 60s\nsnapshot: {maintenance: false}\n")
    app = world.make_app(policy=str(policy))
    cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", cloud.clock.now() + timedelta(minutes=31))
    world.run(seconds=40 * 60, step=15, app=app)
    drained = min(c.time for c in world.calls("UpdateServerGroupServersAttribute"))
    (reboot,) = world.calls("RebootInstance")
    assert (reboot.time - drained).total_seconds() >= 300
    saga = _saga(world, web)
    assert any("ConnectionDrainTimeout of" in h.what for h in saga.history)
    assert saga.status.value == "succeeded"


def test_an_alb_restore_is_done_once_the_job_carries_the_weight(world: World, groups: Groups) -> None:
    """ALB changes are jobs: the restore step waits (polled by timers) until the servers are Available again."""
    world.cloud.alb.set_job_seconds(120)  # slow jobs
    web = world.ids("web")[0]
    world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(hours=1))
    world.run(seconds=2 * 3600, step=15)
    saga = _saga(world, web)
    assert saga.status.value == "succeeded"
    restore = next(s for s in saga.steps if s.action.value == "restore")
    last_update = max(c.time for c in _updates(world, "Alb"))
    assert restore.done_at is not None and (restore.done_at - last_update).total_seconds() >= 120
    assert _weights(world, groups, web) == ORIGINAL
