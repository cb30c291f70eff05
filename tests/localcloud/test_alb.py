"""ALB (2020-06-16) through the real SDKs: aliyun-python-sdk-alb on aliyunsdkcore, and alibabacloud_alb20200616
(Tea, V2 signature). Load balancers, listeners and server groups come from a fleet; member changes are async jobs
on localcloud's clock; health follows the ECS instances."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from aliyunsdkalb.request.v20200616.AddServersToServerGroupRequest import AddServersToServerGroupRequest
from aliyunsdkalb.request.v20200616.GetListenerHealthStatusRequest import GetListenerHealthStatusRequest
from aliyunsdkalb.request.v20200616.GetLoadBalancerAttributeRequest import GetLoadBalancerAttributeRequest
from aliyunsdkalb.request.v20200616.ListAsynJobsRequest import ListAsynJobsRequest
from aliyunsdkalb.request.v20200616.ListListenersRequest import ListListenersRequest
from aliyunsdkalb.request.v20200616.ListLoadBalancersRequest import ListLoadBalancersRequest
from aliyunsdkalb.request.v20200616.ListServerGroupServersRequest import ListServerGroupServersRequest
from aliyunsdkalb.request.v20200616.ListServerGroupsRequest import ListServerGroupsRequest
from aliyunsdkalb.request.v20200616.RemoveServersFromServerGroupRequest import RemoveServersFromServerGroupRequest
from aliyunsdkalb.request.v20200616.UpdateServerGroupServersAttributeRequest import (
    UpdateServerGroupServersAttributeRequest,
)
from aliyunsdkcore.request import CommonRequest
from aliyunsdkecs.request.v20140526.StartInstanceRequest import StartInstanceRequest
from aliyunsdkecs.request.v20140526.StopInstanceRequest import StopInstanceRequest

from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetError, FleetSummary
from localcloud.testing import sdk_call as send
from localcloud.testing import sdk_error as fails

FLEET: dict[str, Any] = {
    "instances": [{"name": "web", "count": 3}, {"name": "api", "count": 1}],
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
                    "name": "api-8080",
                    "backends": [{"instances": "web", "port": 8080}, {"instances": "api", "port": 8080}],
                },
            ],
            "listeners": [{"port": 80, "server_groups": ["web-80"]}, {"port": 443, "server_groups": ["web-80"]}],
        },
        {"name": "api-alb", "listeners": [{"port": 8080, "server_groups": ["api-8080"]}]},
    ],
}


@pytest.fixture
def fleet(localcloud: LocalCloud) -> FleetSummary:
    return localcloud.load_fleet(FLEET)


def servers(*entries: tuple[str, int, int | None]) -> list[dict[str, Any]]:
    out = []
    for server_id, port, weight in entries:
        item: dict[str, Any] = {"ServerId": server_id, "ServerType": "Ecs", "Port": port}
        if weight is not None:
            item["Weight"] = weight
        out.append(item)
    return out


def change(cls: Any, group_id: str, entries: list[dict[str, Any]], **extra: Any) -> Any:
    request = cls()
    request.set_ServerGroupId(group_id)
    request.set_Servers(entries)
    for name, value in extra.items():
        getattr(request, f"set_{name}")(value)
    return request


def listed(cloud: LocalCloud, group_id: str | None = None, server_ids: list[str] | None = None) -> list[Any]:
    request = ListServerGroupServersRequest()
    if group_id:
        request.set_ServerGroupId(group_id)
    if server_ids:
        request.set_ServerIds(server_ids)
    result: list[Any] = send(cloud, request)["Servers"]
    return result


def group_info(cloud: LocalCloud, group_id: str) -> dict[str, Any]:
    request = ListServerGroupsRequest()
    request.set_ServerGroupIds([group_id])
    (group,) = send(cloud, request)["ServerGroups"]
    result: dict[str, Any] = group
    return result


def health(cloud: LocalCloud, listener_id: str) -> dict[str, str]:
    request = GetListenerHealthStatusRequest()
    request.set_ListenerId(listener_id)
    (status,) = send(cloud, request)["ListenerHealthStatus"]
    return {s["ServerId"]: s["Status"] for info in status["ServerGroupInfos"] for s in info["NonNormalServers"]}


def listener_on(cloud: LocalCloud, lb_id: str, port: int) -> str:
    request = ListListenersRequest()
    request.set_LoadBalancerIds([lb_id])
    found = [lsn["ListenerId"] for lsn in send(cloud, request)["Listeners"] if lsn["ListenerPort"] == port]
    assert len(found) == 1
    listener_id: str = found[0]
    return listener_id


def test_load_balancers_listeners_and_groups_as_the_fleet_declares(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    web_alb, api_alb = fleet.albs["web-alb"], fleet.albs["api-alb"]
    web80, api8080 = fleet.server_groups["alb/web-80"], fleet.server_groups["alb/api-8080"]

    request = ListLoadBalancersRequest()
    request.set_LoadBalancerIds([web_alb])
    body = send(localcloud, request)
    assert [lb["LoadBalancerName"] for lb in body["LoadBalancers"]] == ["web-alb"]
    assert body["TotalCount"] == 1
    attribute = GetLoadBalancerAttributeRequest()
    attribute.set_LoadBalancerId(api_alb)
    assert send(localcloud, attribute)["LoadBalancerStatus"] == "Active"

    listeners = ListListenersRequest()
    listeners.set_LoadBalancerIds([web_alb])
    forwards = {
        lsn["ListenerPort"]: [
            t["ServerGroupId"] for t in lsn["DefaultActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"]
        ]
        for lsn in send(localcloud, listeners)["Listeners"]
    }
    assert forwards == {80: [web80], 443: [web80]}

    web = group_info(localcloud, web80)
    assert web["ConnectionDrainConfig"] == {"ConnectionDrainEnabled": True, "ConnectionDrainTimeout": 120}
    assert web["RelatedLoadBalancerIds"] == [web_alb]
    assert web["ServerCount"] == 3
    assert web["ServerGroupStatus"] == "Available"
    api = group_info(localcloud, api8080)
    assert api["ConnectionDrainConfig"] == {"ConnectionDrainEnabled": False, "ConnectionDrainTimeout": 300}
    assert api["RelatedLoadBalancerIds"] == [api_alb]


def test_list_group_servers_pages_and_finds_an_instance_in_every_group(
    localcloud: LocalCloud, fleet: FleetSummary
) -> None:
    web80, api8080 = fleet.server_groups["alb/web-80"], fleet.server_groups["alb/api-8080"]
    first = ListServerGroupServersRequest()
    first.set_ServerGroupId(web80)
    first.set_MaxResults(2)
    page1 = send(localcloud, first)
    assert len(page1["Servers"]) == 2 and page1["TotalCount"] == 3 and page1["NextToken"]
    first.set_NextToken(page1["NextToken"])
    page2 = send(localcloud, first)
    assert len(page2["Servers"]) == 1 and page2["NextToken"] == ""
    ids = [s["ServerId"] for s in page1["Servers"] + page2["Servers"]]
    assert ids == fleet.instances["web"]

    # no ServerGroupId: ServerIds alone finds the instance in every group it serves (one call, not one per group)
    web1 = fleet.instances["web"][0]
    found = {(s["ServerGroupId"], s["Port"]) for s in listed(localcloud, server_ids=[web1])}
    assert found == {(web80, 80), (api8080, 8080)}

    bad = ListServerGroupServersRequest()
    bad.set_NextToken("not-a-token")
    assert fails(localcloud, bad).get_error_code() == "IllegalParam.NextToken"


def test_weight_change_is_an_async_job_and_the_group_refuses_a_second_change_meanwhile(
    localcloud: LocalCloud, fleet: FleetSummary
) -> None:
    web80 = fleet.server_groups["alb/web-80"]
    web1, web2, _ = fleet.instances["web"]

    job_id = send(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web1, 80, 0))))["JobId"]

    assert {s["ServerId"]: (s["Weight"], s["Status"]) for s in listed(localcloud, web80)}[web1] == (0, "Configuring")
    assert group_info(localcloud, web80)["ServerGroupStatus"] == "Configuring"
    refused = fails(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web2, 80, 0))))
    assert (refused.get_error_code(), refused.get_http_status()) == ("IncorrectStatus.ServerGroup", 400)
    jobs = ListAsynJobsRequest()
    jobs.set_JobIds([job_id])
    assert send(localcloud, jobs)["Jobs"][0]["Status"] == "Processing"

    localcloud.advance(5)

    assert {s["ServerId"]: (s["Weight"], s["Status"]) for s in listed(localcloud, web80)}[web1] == (0, "Available")
    assert group_info(localcloud, web80)["ServerGroupStatus"] == "Available"
    (job,) = send(localcloud, jobs)["Jobs"]
    assert (job["Status"], job["ApiName"], job["ResourceId"]) == (
        "Succeeded",
        "UpdateServerGroupServersAttribute",
        web80,
    )
    # the group takes changes again, and the refused one never applied
    send(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web1, 80, 100))))
    assert {s["ServerId"]: s["Weight"] for s in listed(localcloud, web80)} == {
        web1: 100,
        web2: 100,
        fleet.instances["web"][2]: 100,
    }


def test_remove_then_add_back_pass_through_removing_and_adding(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    web80 = fleet.server_groups["alb/web-80"]
    web1 = fleet.instances["web"][0]

    send(localcloud, change(RemoveServersFromServerGroupRequest, web80, servers((web1, 80, None))))
    assert {s["ServerId"]: s["Status"] for s in listed(localcloud, web80)}[web1] == "Removing"
    localcloud.advance(5)
    assert web1 not in {s["ServerId"] for s in listed(localcloud, web80)}

    send(localcloud, change(AddServersToServerGroupRequest, web80, servers((web1, 80, 50))))
    assert {s["ServerId"]: (s["Weight"], s["Status"]) for s in listed(localcloud, web80)}[web1] == (50, "Adding")
    localcloud.advance(5)
    assert {s["ServerId"]: (s["Weight"], s["Status"]) for s in listed(localcloud, web80)}[web1] == (50, "Available")


def test_real_error_codes_for_missing_things_and_bad_lists(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    web80 = fleet.server_groups["alb/web-80"]
    web1 = fleet.instances["web"][0]
    api1 = fleet.instances["api"][0]

    missing_group = fails(
        localcloud, change(UpdateServerGroupServersAttributeRequest, "sgp-nosuchgroup00000", servers((web1, 80, 0)))
    )
    assert (missing_group.get_error_code(), missing_group.get_http_status()) == ("ResourceNotFound.ServerGroup", 404)
    not_member = fails(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((api1, 80, 0))))
    assert (not_member.get_error_code(), not_member.get_http_status()) == ("ResourceNotFound.BackendServer", 404)
    wrong_port = fails(localcloud, change(RemoveServersFromServerGroupRequest, web80, servers((web1, 81, None))))
    assert wrong_port.get_error_code() == "ResourceNotFound.BackendServer"
    no_instance = fails(
        localcloud, change(AddServersToServerGroupRequest, web80, servers(("i-bp1nosuchinstance000", 80, 100)))
    )
    assert (no_instance.get_error_code(), no_instance.get_http_status()) == ("ResourceNotFound.Ecs", 404)
    already = fails(localcloud, change(AddServersToServerGroupRequest, web80, servers((web1, 80, 100))))
    assert already.get_error_code() == "ResourceAlreadyExist.Server"
    twice = fails(
        localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web1, 80, 0), (web1, 80, 10)))
    )
    assert twice.get_error_code() == "DuplicatedParam.Server"
    bad_weight = fails(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web1, 80, 101))))
    assert bad_weight.get_error_code() == "IllegalParam.Servers.1.Weight"
    no_type = fails(
        localcloud,
        change(UpdateServerGroupServersAttributeRequest, web80, [{"ServerId": web1, "Port": 80, "Weight": 0}]),
    )
    assert no_type.get_error_code() == "MissingParameter"
    listener = GetListenerHealthStatusRequest()
    listener.set_ListenerId("lsn-nosuchlistener00")
    assert fails(localcloud, listener).get_error_code() == "ResourceNotFound.Listener"
    lb = GetLoadBalancerAttributeRequest()
    lb.set_LoadBalancerId("alb-nosuchbalancer00")
    assert fails(localcloud, lb).get_error_code() == "ResourceNotFound.LoadBalancer"
    # nothing above changed anything
    assert {s["Status"] for s in listed(localcloud, web80)} == {"Available"}
    assert group_info(localcloud, web80)["ServerGroupStatus"] == "Available"


def test_at_most_40_servers_per_update_dry_run_and_client_token(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    web80 = fleet.server_groups["alb/web-80"]
    web1 = fleet.instances["web"][0]
    many = [{"ServerId": f"i-bp1many{n:013d}", "ServerType": "Ecs", "Port": 80, "Weight": 0} for n in range(41)]
    too_many = fails(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, many))
    assert (too_many.get_error_code(), too_many.get_http_status()) == ("IllegalParam.Servers", 400)
    # 40 is within the limit: what fails then is the unknown servers, not the count
    assert fails(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, many[:40])).get_error_code() == (
        "ResourceNotFound.BackendServer"
    )

    dry = fails(
        localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web1, 80, 0)), DryRun=True)
    )
    assert dry.get_error_code() == "DryRunOperation"
    assert {s["Weight"] for s in listed(localcloud, web80)} == {100}

    token = "drain-web1-0001"
    first = send(
        localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web1, 80, 0)), ClientToken=token)
    )
    again = send(
        localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web1, 80, 0)), ClientToken=token)
    )
    assert again["JobId"] == first["JobId"]  # a retried call is the same job, not a conflict


def test_health_follows_the_instance_state_and_weight(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    web_alb, web80 = fleet.albs["web-alb"], fleet.server_groups["alb/web-80"]
    web1, web2, web3 = fleet.instances["web"]
    listener_id = listener_on(localcloud, web_alb, 80)
    # the fleet's instances just became Running: healthy after interval (2 s) x healthy threshold (3)
    assert set(health(localcloud, listener_id).values()) == {"Initial"}
    localcloud.advance(6)
    assert health(localcloud, listener_id) == {}

    send(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web2, 80, 0))))
    assert health(localcloud, listener_id) == {web2: "Unused"}
    localcloud.advance(5)

    stop = StopInstanceRequest()
    stop.set_InstanceId(web3)
    send(localcloud, stop)
    localcloud.advance(60)
    assert health(localcloud, listener_id) == {web2: "Unused", web3: "Unhealthy"}
    start = StartInstanceRequest()
    start.set_InstanceId(web3)
    send(localcloud, start)
    localcloud.advance(60)  # Running again; the check needs interval (2 s) x healthy threshold (3) after that
    assert localcloud.ecs.status(web3) == "Running"
    assert health(localcloud, listener_id) == {web2: "Unused"}

    send(localcloud, change(RemoveServersFromServerGroupRequest, web80, servers((web1, 80, None))))
    localcloud.advance(5)
    send(localcloud, change(AddServersToServerGroupRequest, web80, servers((web1, 80, 100))))
    assert health(localcloud, listener_id)[web1] == "Initial"
    localcloud.advance(5)  # Available now: still within its first checks
    assert health(localcloud, listener_id)[web1] == "Initial"
    localcloud.advance(6)
    assert web1 not in health(localcloud, listener_id)


def test_every_call_is_logged_as_alb(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    web80 = fleet.server_groups["alb/web-80"]
    listed(localcloud, web80)
    fails(
        localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers(("i-bp1notamember000000", 80, 0)))
    )
    calls = [(c.product, c.action, c.code) for c in localcloud.call_log.calls(product="Alb")]
    assert calls == [
        ("Alb", "ListServerGroupServers", "OK"),
        ("Alb", "UpdateServerGroupServersAttribute", "ResourceNotFound.BackendServer"),
    ]
    update = localcloud.call_log.calls("UpdateServerGroupServersAttribute")[-1]
    assert update.params["Servers.1.ServerId"] == "i-bp1notamember000000"  # flattened as Servers.N.Field


def test_common_request_reaches_alb(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    """Actions a product SDK lacks can go through aliyunsdkcore's CommonRequest (here ListAsynJobs)."""
    web80 = fleet.server_groups["alb/web-80"]
    web1 = fleet.instances["web"][0]
    job_id = send(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web1, 80, 0))))["JobId"]
    request = CommonRequest(domain=localcloud.endpoint, version="2020-06-16", action_name="ListAsynJobs", product="Alb")
    request.set_protocol_type("http")
    request.set_method("POST")
    request.add_query_param("JobIds.1", job_id)
    (job,) = send(localcloud, request)["Jobs"]
    assert (job["Id"], job["Status"]) == (job_id, "Processing")


def test_tea_sdk_with_v2_signature(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    from alibabacloud_alb20200616 import models
    from alibabacloud_alb20200616.client import Client
    from alibabacloud_tea_openapi.models import Config

    web80 = fleet.server_groups["alb/web-80"]
    web1 = fleet.instances["web"][0]
    client = Client(
        Config(
            access_key_id=localcloud.access_key_id,
            access_key_secret=localcloud.access_key_secret,
            endpoint=localcloud.endpoint,
            protocol="HTTP",
            region_id=localcloud.region_id,
            signature_algorithm="v2",
        )
    )
    entry = models.UpdateServerGroupServersAttributeRequestServers(server_id=web1, server_type="Ecs", port=80, weight=0)
    update = models.UpdateServerGroupServersAttributeRequest(server_group_id=web80, servers=[entry], dry_run=False)
    assert client.update_server_group_servers_attribute(update).body.job_id

    body = client.list_server_group_servers(models.ListServerGroupServersRequest(server_ids=[web1])).body
    assert {(s.server_group_id, s.weight, s.status) for s in body.servers} == {
        (web80, 0, "Configuring"),
        (fleet.server_groups["alb/api-8080"], 100, "Available"),
    }
    with pytest.raises(Exception) as info:
        client.update_server_group_servers_attribute(update)
    assert getattr(info.value, "code", None) == "IncorrectStatus.ServerGroup"
    assert localcloud.call_log.calls("UpdateServerGroupServersAttribute")[-1].params["DryRun"] == "False"


def test_control_api_shows_alb_state(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    web80 = fleet.server_groups["alb/web-80"]
    web1 = fleet.instances["web"][0]
    send(localcloud, change(UpdateServerGroupServersAttributeRequest, web80, servers((web1, 80, 0))))
    with urllib.request.urlopen(f"{localcloud.url}/_localcloud/alb") as answer:
        state = json.loads(answer.read())
    assert sorted(lb["name"] for lb in state["load_balancers"]) == ["api-alb", "web-alb"]
    (group,) = [g for g in state["server_groups"] if g["id"] == web80]
    assert group["status"] == "Configuring"
    assert group["connection_drain"] == {"enabled": True, "timeout": 120}
    assert {s["server_id"]: (s["weight"], s["status"], s["health"]) for s in group["servers"]}[web1] == (
        0,
        "Configuring",
        "Unused",
    )


def test_fleet_refuses_a_listener_naming_an_unknown_group(localcloud: LocalCloud) -> None:
    doc = {"albs": [{"name": "a", "listeners": [{"port": 80, "server_groups": ["nope"]}]}]}
    with pytest.raises(FleetError, match=r"albs\[0\]\.listeners\[0\]: no ALB server group named 'nope'"):
        localcloud.load_fleet(doc)
    with pytest.raises(FleetError, match=r"connection_drain\.timeout: must be an integer from 0 to 900"):
        localcloud.load_fleet(
            {"albs": [{"name": "b", "server_groups": [{"name": "g", "connection_drain": {"timeout": 901}}]}]}
        )
