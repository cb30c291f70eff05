"""The ALB and NLB parts of the invariants (tests/reliability/test_invariants.py), one directed history each on the
same driver and fleet (``invariants_support``): the rules the random histories draw (a person removing a drained
server from the ALB group, an ALB group configuring at the moment we drain or restore, slow jobs) end with every
promise kept, and the checks do read ALB and NLB state, jobs and calls (each can fail: a broken promise planted
behind the engine's back is reported)."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.reliability.invariants_support import History, Window, check


def _reboot(h: History, instance_id: str, minutes: int = 60) -> str:
    return h.cloud.ecs.create_system_event(
        instance_id, "SystemMaintenance.Reboot", h.now() + timedelta(minutes=minutes)
    )


def _alb_weights(h: History, instance_id: str) -> dict[tuple[str, str, int | None], int]:
    return {e: w for e, w in h.weights().items() if e[1] == instance_id and e[0] == h.alb_group}


def _mine(h: History, instance_id: str) -> dict[tuple[str, str, int | None], int]:
    return {e: w for e, w in h.weights().items() if e[1] == instance_id}


def _avoided(h: History, event_id: str) -> bool:
    return h.cloud.ecs.backend(*h._where()).events.events[event_id].status == "Avoided"


def _refused(h: History, weight: str) -> list[object]:
    return [
        c
        for c in h.cloud.call_log.calls("UpdateServerGroupServersAttribute", "Alb")
        if c.code == "IncorrectStatus.ServerGroup" and c.params.get("Servers.1.Weight") == weight
    ]


def test_the_fleet_puts_instances_in_an_alb_group_and_an_nlb_group_served_by_two_nlbs(h: History) -> None:
    web, api = h.ids["web"][0], h.ids["api"][0]
    assert {e[0] for e in h.original if e[1] == web} >= {h.alb_group}
    assert {e[0] for e in h.original if e[1] == api} >= {h.nlb_group}
    assert h.original[(h.alb_group, web, 80)] == 70 and h.original[(h.nlb_group, api, 443)] == 60
    (group,) = [g for g in h.cloud.nlb.state()["server_groups"] if g["id"] == h.nlb_group]
    assert len(group["load_balancers"]) == 2  # one budget unit behind two NLBs


def test_a_person_removing_the_drained_server_from_the_alb_group_breaks_no_promise(h: History) -> None:
    web = h.ids["web"][0]
    event = _reboot(h, web)
    h.run_until(h.now() + timedelta(minutes=31))
    assert set(_mine(h, web).values()) == {0}  # drained on both CLBs, the VServer group and the ALB group
    h.remove_from_alb(web)  # RemoveServersFromServerGroup through the SDK, as in the console
    assert h.removed and h.removed[-1][1] == (h.alb_group, web, 80)
    h.finish()
    assert check(h) == []
    assert _avoided(h, event)
    assert _alb_weights(h, web) == {}  # gone, not put back
    rest = {e: w for e, w in h.original.items() if e[1] == web and e[0] != h.alb_group}
    assert _mine(h, web) == rest  # the others restored


def test_an_alb_group_configuring_when_we_drain_breaks_no_promise(h: History) -> None:
    web = h.ids["web"][0]
    h.arm_configuring(5)  # a person's job starts on the group just before our drain reaches it
    event = _reboot(h, web)
    h.finish()
    assert _refused(h, "0"), "the drain never met the configuring group"
    assert check(h) == []
    assert _avoided(h, event)
    assert _mine(h, web) == {e: w for e, w in h.original.items() if e[1] == web}


def test_an_alb_group_configuring_when_we_restore_breaks_no_promise(h: History) -> None:
    web = h.ids["web"][0]
    event = _reboot(h, web)
    h.run_until(h.now() + timedelta(minutes=31))
    assert set(_mine(h, web).values()) == {0}
    h.arm_configuring(5)  # ... just before our restore reaches it
    h.finish()
    assert _refused(h, "70"), "the restore never met the configuring group"
    assert check(h) == []
    assert _avoided(h, event)
    assert _mine(h, web) == {e: w for e, w in h.original.items() if e[1] == web}


def test_slow_alb_and_nlb_jobs_end_before_the_reboot(h: History) -> None:
    web, api = h.ids["web"][0], h.ids["api"][0]
    h.cloud.alb.set_job_seconds(180)  # jobs of 3 minutes: longer than the drain period
    h.cloud.nlb.set_job_seconds(180)
    _reboot(h, web)
    _reboot(h, api, minutes=90)
    h.finish()
    assert check(h) == []


def test_a_drain_refused_by_a_configuring_alb_group_is_not_taken_for_done(h: History) -> None:
    web = h.ids["web"][0]
    h.arm_configuring(180)  # a person's 3-minute job starts on the ALB group just before our drain reaches it
    event = _reboot(h, web)
    h.finish()
    assert _refused(h, "0")
    assert check(h) == []
    assert _avoided(h, event)


def test_a_remediation_joining_a_drain_whose_alb_call_was_refused_reboots_only_at_weight_0(h: History) -> None:
    """Two remediations of one instance: the redeploy's drain (lead before its notBefore) meets the ALB group a
    person is configuring for 10 minutes, so its ALB entry stays at 70 (retried); the reboot's drain 5 minutes later
    joins the drain it holds and must not take that entry for drained (found by the invariants at 50 steps: I6)."""
    web = h.ids["web"][0]
    h.cloud.ecs.create_system_event(web, "SystemMaintenance.Redeploy", h.now() + timedelta(minutes=35))
    event = _reboot(h, web, minutes=40)
    h.arm_configuring(600)
    h.run_until(h.now() + timedelta(minutes=6))
    assert _refused(h, "0"), "the redeploy's drain never met the configuring group"
    assert _alb_weights(h, web) == {(h.alb_group, web, 80): 70}
    h.finish()
    assert check(h) == []
    assert _avoided(h, event)


def test_a_drain_whose_vserver_call_keeps_failing_is_not_taken_for_done(h: History) -> None:
    web = h.ids["web"][0]
    _reboot(h, web)
    h.run_until(h.now() + timedelta(minutes=29))
    h.cloud.faults.set("Slb", "SetVServerGroupAttribute", error_rate=1.0)
    h.outages.append(Window(h.now()))  # the API fails: late restores are excused, an undrained reboot is not
    h.run_until(h.now() + timedelta(minutes=10))
    h.finish()
    assert [p for p in check(h) if p.startswith("I6")] == []


# -- the checks can fail ----------------------------------------------------------------------------------------------
def test_an_alb_or_nlb_weight_left_at_0_is_reported(h: History) -> None:
    _reboot(h, h.ids["web"][0])
    h.finish()
    assert check(h) == []
    web, api = h.ids["web"][1], h.ids["api"][1]
    for service, group, key in ((h.cloud.alb, h.alb_group, (web, 80)), (h.cloud.nlb, h.nlb_group, (api, 443))):
        with h.cloud.ctx.scheduler.lock:  # behind everyone's back: no call in the log
            service.backend(*h._where()).get_group(group).members[key].weight = 0
    problems = check(h)
    assert f"I1: {(h.alb_group, web, 80)} ends at weight 0, was 70" in problems
    assert f"I1: {(h.nlb_group, api, 443)} ends at weight 0, was 60" in problems


def _update(h: History, group: str, server: str, port: int, weight: int) -> None:
    from aliyunsdknlb.request.v20220430.UpdateServerGroupServersAttributeRequest import (
        UpdateServerGroupServersAttributeRequest,
    )

    request = UpdateServerGroupServersAttributeRequest()
    request.set_ServerGroupId(group)
    request.set_Serverss([{"ServerId": server, "ServerType": "Ecs", "Port": port, "Weight": weight}])
    json.loads(h.harness(lambda: h.cloud.acs_client().do_action_with_exception(request)))


def test_two_servers_of_the_shared_nlb_group_at_0_at_once_is_over_the_budget(h: History) -> None:
    """The NLB group behind two NLBs is one unit of 3 servers (budget 1): a second weight 0 in it is reported once,
    against the group, wherever the calls came from (the replay reads the call log)."""
    api_1, api_2 = h.ids["api"]
    _update(h, h.nlb_group, api_1, 443, 0)
    h.cloud.advance(10)  # the job ends
    _update(h, h.nlb_group, api_2, 443, 0)
    problems = [p for p in check(h) if p.startswith("I3")]
    assert len(problems) == 1 and f"voluntary drain of {api_2} on {h.nlb_group}" in problems[0]


def test_a_reboot_while_a_weight_0_job_configures_is_reported(h: History) -> None:
    from aliyunsdkecs.request.v20140526.RebootInstanceRequest import RebootInstanceRequest

    api = h.ids["api"][0]
    h.cloud.nlb.set_job_seconds(180)
    _update(h, h.nlb_group, api, 443, 0)  # the NLB job configures for 3 minutes; its CLB entry stays at 100
    request = RebootInstanceRequest()
    request.set_InstanceId(api)
    h.harness(lambda: h.cloud.acs_client().do_action_with_exception(request))
    problems = [p for p in check(h) if p.startswith("I6")]
    assert any("still serving" in p for p in problems)  # its CLB entry was never drained
    assert any("nlb job" in p and h.nlb_group in p for p in problems)
