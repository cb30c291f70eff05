"""NLB (2022-04-30) through the real SDKs: aliyun-python-sdk-nlb (form-body parameters) and alibabacloud_nlb20220430
(Tea, V2 signature). One server group serves two NLBs; NLB's spelling, limits and response shapes."""

from __future__ import annotations

from typing import Any

import pytest
from aliyunsdkecs.request.v20140526.StopInstanceRequest import StopInstanceRequest
from aliyunsdknlb.request.v20220430.GetJobStatusRequest import GetJobStatusRequest
from aliyunsdknlb.request.v20220430.GetListenerHealthStatusRequest import GetListenerHealthStatusRequest
from aliyunsdknlb.request.v20220430.GetLoadBalancerAttributeRequest import GetLoadBalancerAttributeRequest
from aliyunsdknlb.request.v20220430.ListListenersRequest import ListListenersRequest
from aliyunsdknlb.request.v20220430.ListLoadBalancersRequest import ListLoadBalancersRequest
from aliyunsdknlb.request.v20220430.ListServerGroupServersRequest import ListServerGroupServersRequest
from aliyunsdknlb.request.v20220430.ListServerGroupsRequest import ListServerGroupsRequest
from aliyunsdknlb.request.v20220430.RemoveServersFromServerGroupRequest import RemoveServersFromServerGroupRequest
from aliyunsdknlb.request.v20220430.UpdateServerGroupServersAttributeRequest import (
    UpdateServerGroupServersAttributeRequest,
)

from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetSummary
from localcloud.testing import sdk_call as send
from localcloud.testing import sdk_error as fails

FLEET: dict[str, Any] = {
    "instances": [{"name": "tcp", "count": 2}],
    "nlbs": [
        {
            "name": "edge-a",
            "server_groups": [
                {
                    "name": "tcp-443",
                    "backends": [{"instances": "tcp", "port": 443}],
                    "connection_drain": {"enabled": True, "timeout": 30},
                }
            ],
            "listeners": [{"port": 443, "server_group": "tcp-443"}],
        },
        {"name": "edge-b", "listeners": [{"port": 8443, "server_group": "tcp-443"}]},
    ],
}


@pytest.fixture
def fleet(localcloud: LocalCloud) -> FleetSummary:
    summary = localcloud.load_fleet(FLEET)
    localcloud.advance(30)  # past the first health checks
    return summary


def update(group_id: str, entries: list[tuple[str, int, int]]) -> UpdateServerGroupServersAttributeRequest:
    request = UpdateServerGroupServersAttributeRequest()
    request.set_ServerGroupId(group_id)
    request.set_Serverss([{"ServerId": s, "ServerType": "Ecs", "Port": p, "Weight": w} for s, p, w in entries])
    return request


def members(cloud: LocalCloud, group_id: str) -> dict[str, tuple[int, str]]:
    request = ListServerGroupServersRequest()
    request.set_ServerGroupId(group_id)
    return {s["ServerId"]: (s["Weight"], s["Status"]) for s in send(cloud, request)["Servers"]}


def test_one_group_serves_two_nlbs_with_flat_drain_settings(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    group_id = fleet.server_groups["nlb/tcp-443"]
    edge_a, edge_b = fleet.nlbs["edge-a"], fleet.nlbs["edge-b"]
    request = ListServerGroupsRequest()
    request.set_ServerGroupIdss([group_id])
    (group,) = send(localcloud, request)["ServerGroups"]
    assert group["RelatedLoadBalancerIds"] == [edge_a, edge_b]
    assert (group["ConnectionDrainEnabled"], group["ConnectionDrainTimeout"]) == (True, 30)
    assert group["HealthCheck"]["HealthCheckEnabled"] is True
    assert group["ServerCount"] == 2

    listeners = ListListenersRequest()
    listeners.set_LoadBalancerIdss([edge_b])
    assert [(lsn["ListenerPort"], lsn["ServerGroupId"]) for lsn in send(localcloud, listeners)["Listeners"]] == [
        (8443, group_id)
    ]
    lbs = ListLoadBalancersRequest()
    lbs.set_LoadBalancerNamess(["edge-a"])
    assert [lb["LoadBalancerId"] for lb in send(localcloud, lbs)["LoadBalancers"]] == [edge_a]
    attribute = GetLoadBalancerAttributeRequest()
    attribute.set_LoadBalancerId(edge_a)
    assert send(localcloud, attribute)["LoadBalancerType"] == "Network"


def test_update_is_a_job_with_nlb_codes_and_limits(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    group_id = fleet.server_groups["nlb/tcp-443"]
    tcp1, tcp2 = fleet.instances["tcp"]

    body = send(localcloud, update(group_id, [(tcp1, 443, 0)]))
    assert body["ServerGroupId"] == group_id
    status = GetJobStatusRequest()
    status.set_JobId(body["JobId"])
    assert send(localcloud, status)["Status"] == "Processing"
    assert members(localcloud, group_id)[tcp1] == (0, "Configuring")
    busy = fails(localcloud, update(group_id, [(tcp2, 443, 0)]))
    assert (busy.get_error_code(), busy.get_http_status()) == ("IncorrectStatus.serverGroup", 400)

    localcloud.advance(5)
    assert send(localcloud, status)["Status"] == "Succeeded"
    assert members(localcloud, group_id) == {tcp1: (0, "Available"), tcp2: (100, "Available")}

    # 200 servers per call is NLB's limit (ALB's is 40): 200 passes the count check, 201 does not
    many = [(f"i-bp1many{n:013d}", 443, 0) for n in range(201)]
    assert fails(localcloud, update(group_id, many)).get_error_code() == "IllegalParam.Servers"
    assert fails(localcloud, update(group_id, many[:200])).get_error_code() == "ResourceNotFound.BackendServer"
    gone = fails(localcloud, update("sgp-nosuchgroup00000", [(tcp1, 443, 0)]))
    assert (gone.get_error_code(), gone.get_http_status()) == ("ResourceNotFound.serverGroup", 404)


def test_health_has_no_unused_state_and_follows_ecs(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    group_id = fleet.server_groups["nlb/tcp-443"]
    tcp1, tcp2 = fleet.instances["tcp"]
    listeners = ListListenersRequest()
    listeners.set_LoadBalancerIdss([fleet.nlbs["edge-a"]])
    (listener,) = send(localcloud, listeners)["Listeners"]
    request = GetListenerHealthStatusRequest()
    request.set_ListenerId(listener["ListenerId"])

    send(localcloud, update(group_id, [(tcp1, 443, 0)]))
    localcloud.advance(5)
    stop = StopInstanceRequest()
    stop.set_InstanceId(tcp2)
    send(localcloud, stop)
    localcloud.advance(60)

    (status,) = send(localcloud, request)["ListenerHealthStatus"]
    (info,) = status["ServerGroupInfos"]
    assert info["HeathCheckEnabled"] is True  # NLB's spelling
    assert [(s["ServerId"], s["Status"], s["Reason"]["ReasonCode"]) for s in info["NonNormalServers"]] == [
        (tcp2, "Unhealthy", "CONNECT_FAILED")
    ]  # weight 0 is not a health state on NLB


def test_remove_with_the_legacy_sdk_sends_a_form_body(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    group_id = fleet.server_groups["nlb/tcp-443"]
    tcp1 = fleet.instances["tcp"][0]
    request = RemoveServersFromServerGroupRequest()
    request.set_ServerGroupId(group_id)
    request.set_Serverss([{"ServerId": tcp1, "ServerType": "Ecs", "Port": 443}])
    assert request.get_body_params()["Servers.1.ServerId"] == tcp1  # the SDK's placement, served as such
    send(localcloud, request)
    assert members(localcloud, group_id)[tcp1] == (100, "Removing")
    localcloud.advance(5)
    assert tcp1 not in members(localcloud, group_id)
    (call,) = localcloud.call_log.calls("RemoveServersFromServerGroup", "Nlb")
    assert (call.code, call.params["Servers.1.Port"]) == ("OK", "443")


def test_tea_sdk_with_v2_signature(localcloud: LocalCloud, fleet: FleetSummary) -> None:
    from alibabacloud_nlb20220430 import models
    from alibabacloud_nlb20220430.client import Client
    from alibabacloud_tea_openapi.models import Config

    group_id = fleet.server_groups["nlb/tcp-443"]
    tcp1 = fleet.instances["tcp"][0]
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
    entry = models.UpdateServerGroupServersAttributeRequestServers(
        server_id=tcp1, server_type="Ecs", port=443, weight=0
    )
    body = client.update_server_group_servers_attribute(
        models.UpdateServerGroupServersAttributeRequest(
            server_group_id=group_id, servers=[entry], region_id="cn-hangzhou"
        )
    ).body
    assert body.server_group_id == group_id
    assert client.get_job_status(models.GetJobStatusRequest(job_id=body.job_id)).body.status == "Processing"
    listed = client.list_server_group_servers(
        models.ListServerGroupServersRequest(server_ids=[tcp1], region_id="cn-hangzhou")
    ).body
    assert [(s.server_group_id, s.weight, s.status) for s in listed.servers] == [(group_id, 0, "Configuring")]
