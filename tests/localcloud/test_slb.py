"""Classic SLB load balancers and their default backend servers, through the real aliyun-python-sdk-slb requests."""

from __future__ import annotations

import json
from typing import Any

from aliyunsdkslb.request.v20140515.AddBackendServersRequest import AddBackendServersRequest
from aliyunsdkslb.request.v20140515.CreateLoadBalancerRequest import CreateLoadBalancerRequest
from aliyunsdkslb.request.v20140515.DeleteLoadBalancerRequest import DeleteLoadBalancerRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerAttributeRequest import DescribeLoadBalancerAttributeRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancersRequest import DescribeLoadBalancersRequest
from aliyunsdkslb.request.v20140515.RemoveBackendServersRequest import RemoveBackendServersRequest
from aliyunsdkslb.request.v20140515.SetBackendServersRequest import SetBackendServersRequest

from localcloud.cloud import LocalCloud
from localcloud.testing import sdk_call as send
from localcloud.testing import sdk_error as fails

WEB1, WEB2, WEB3 = "i-bp1web00000000000001", "i-bp1web00000000000002", "i-bp1web00000000000003"


def create_lb(cloud: LocalCloud, name: str = "web", **setters: str) -> str:
    request = CreateLoadBalancerRequest()
    request.set_LoadBalancerName(name)
    for setter, value in setters.items():
        getattr(request, f"set_{setter}")(value)
    lb_id: str = send(cloud, request)["LoadBalancerId"]
    return lb_id


def servers(*entries: tuple[str, Any]) -> str:
    return json.dumps([{"ServerId": sid, "Weight": weight, "Type": "ecs"} for sid, weight in entries])


def backend_request(cls: Any, lb_id: str, backend_servers: str) -> Any:
    request = cls()
    request.set_LoadBalancerId(lb_id)
    request.set_BackendServers(backend_servers)
    return request


def attribute(cloud: LocalCloud, lb_id: str) -> dict[str, Any]:
    request = DescribeLoadBalancerAttributeRequest()
    request.set_LoadBalancerId(lb_id)
    return send(cloud, request)


def weights(cloud: LocalCloud, lb_id: str) -> dict[str, int]:
    return {s["ServerId"]: s["Weight"] for s in attribute(cloud, lb_id)["BackendServers"]["BackendServer"]}


def describe(cloud: LocalCloud, **setters: Any) -> dict[str, Any]:
    request = DescribeLoadBalancersRequest()
    for setter, value in setters.items():
        getattr(request, f"set_{setter}")(value)
    return send(cloud, request)


# -- load balancers ----------------------------------------------------------------------------------------------


def test_create_load_balancer_returns_id_address_and_network(localcloud: LocalCloud) -> None:
    request = CreateLoadBalancerRequest()
    request.set_LoadBalancerName("internal")
    request.set_AddressType("intranet")
    request.set_VSwitchId("vsw-bp1example")
    request.set_LoadBalancerSpec("slb.s2.small")

    body = send(localcloud, request)

    assert body["LoadBalancerId"].startswith("lb-")
    assert body["LoadBalancerName"] == "internal"
    assert body["Address"].startswith("172.16.")
    assert body["NetworkType"] == "vpc"
    assert body["VSwitchId"] == "vsw-bp1example"
    assert body["VpcId"].startswith("vpc-")
    assert body["RequestId"]


def test_describe_load_balancer_attribute_shows_status_and_spec(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud, "web", LoadBalancerSpec="slb.s1.small")

    body = attribute(localcloud, lb_id)

    assert body["LoadBalancerId"] == lb_id
    assert body["LoadBalancerName"] == "web"
    assert body["LoadBalancerStatus"] == "active"
    assert body["AddressType"] == "internet"
    assert body["LoadBalancerSpec"] == "slb.s1.small"
    assert body["RegionId"] == localcloud.region_id
    assert body["BackendServers"] == {"BackendServer": []}


def test_delete_load_balancer_then_attribute_is_not_found(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    request = DeleteLoadBalancerRequest()
    request.set_LoadBalancerId(lb_id)
    send(localcloud, request)

    request = DescribeLoadBalancerAttributeRequest()
    request.set_LoadBalancerId(lb_id)
    err = fails(localcloud, request)

    assert err.get_error_code() == "InvalidLoadBalancerId.NotFound"
    assert err.get_http_status() == 400
    assert localcloud.slb.load_balancer_ids(localcloud.account_id, localcloud.region_id) == []


def test_describe_load_balancers_lists_all_with_total_count(localcloud: LocalCloud) -> None:
    ids = {create_lb(localcloud, f"lb{n}") for n in range(3)}

    body = describe(localcloud)

    assert body["TotalCount"] == 3
    assert {lb["LoadBalancerId"] for lb in body["LoadBalancers"]["LoadBalancer"]} == ids


def test_describe_load_balancers_filters_by_comma_separated_ids(localcloud: LocalCloud) -> None:
    first, second, _third = (create_lb(localcloud, f"lb{n}") for n in range(3))

    body = describe(localcloud, LoadBalancerId=f"{first},{second}")

    assert [lb["LoadBalancerId"] for lb in body["LoadBalancers"]["LoadBalancer"]] == [first, second]
    assert body["TotalCount"] == 2


def test_describe_load_balancers_pages(localcloud: LocalCloud) -> None:
    ids = [create_lb(localcloud, f"lb{n}") for n in range(5)]

    page2 = describe(localcloud, PageNumber=2, PageSize=2)

    assert [lb["LoadBalancerId"] for lb in page2["LoadBalancers"]["LoadBalancer"]] == ids[2:4]
    assert (page2["TotalCount"], page2["PageNumber"], page2["PageSize"]) == (5, 2, 2)


def test_describe_load_balancers_filters_by_tag(localcloud: LocalCloud) -> None:
    request = CreateLoadBalancerRequest()
    request.set_Tags([{"Key": "team", "Value": "web"}])
    tagged = send(localcloud, request)["LoadBalancerId"]
    create_lb(localcloud, "untagged")

    # DescribeLoadBalancersRequest defines set_Tags twice; the surviving one takes the JSON string ``Tags``.
    body = describe(localcloud, Tags=json.dumps([{"TagKey": "team", "TagValue": "web"}]))

    assert [lb["LoadBalancerId"] for lb in body["LoadBalancers"]["LoadBalancer"]] == [tagged]
    assert body["LoadBalancers"]["LoadBalancer"][0]["Tags"]["Tag"] == [{"TagKey": "team", "TagValue": "web"}]


def test_describe_load_balancers_server_id_filter_finds_default_backends(localcloud: LocalCloud) -> None:
    with_web1 = create_lb(localcloud, "a")
    create_lb(localcloud, "b")
    send(localcloud, backend_request(AddBackendServersRequest, with_web1, servers((WEB1, 100))))

    body = describe(localcloud, ServerId=WEB1)

    assert [lb["LoadBalancerId"] for lb in body["LoadBalancers"]["LoadBalancer"]] == [with_web1]
    assert describe(localcloud, ServerId=WEB3)["TotalCount"] == 0


def test_describe_load_balancers_is_per_region(localcloud: LocalCloud) -> None:
    create_lb(localcloud)
    request = DescribeLoadBalancersRequest()
    client = localcloud.acs_client(region_id="cn-shanghai")

    body = json.loads(client.do_action_with_exception(request))

    assert body["TotalCount"] == 0


# -- backend servers ---------------------------------------------------------------------------------------------


def test_add_backend_servers_echoes_weights_as_strings(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)

    body = send(localcloud, backend_request(AddBackendServersRequest, lb_id, servers((WEB1, "100"), (WEB2, 50))))

    assert body["LoadBalancerId"] == lb_id
    assert body["BackendServers"]["BackendServer"] == [
        {"ServerId": WEB1, "Weight": "100", "Type": "ecs", "Description": ""},
        {"ServerId": WEB2, "Weight": "50", "Type": "ecs", "Description": ""},
    ]
    assert weights(localcloud, lb_id) == {WEB1: 100, WEB2: 50}


def test_add_backend_servers_defaults_weight_to_100_and_keeps_first_duplicate(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    payload = json.dumps([{"ServerId": WEB1}, {"ServerId": WEB1, "Weight": 5}])

    send(localcloud, backend_request(AddBackendServersRequest, lb_id, payload))

    assert localcloud.slb.backends(localcloud.account_id, localcloud.region_id, lb_id) == {WEB1: 100}


def test_describe_attribute_lists_backend_type_and_description(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    payload = json.dumps([{"ServerId": WEB1, "Weight": 80, "Type": "ecs", "Description": "web one"}])
    send(localcloud, backend_request(AddBackendServersRequest, lb_id, payload))

    backends = attribute(localcloud, lb_id)["BackendServers"]["BackendServer"]

    assert backends == [{"ServerId": WEB1, "Weight": 80, "Type": "ecs", "Description": "web one"}]


def test_set_backend_servers_drains_to_zero_and_restores(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    send(localcloud, backend_request(AddBackendServersRequest, lb_id, servers((WEB1, 100), (WEB2, 60))))

    drained = send(localcloud, backend_request(SetBackendServersRequest, lb_id, servers((WEB1, "0"))))
    assert weights(localcloud, lb_id) == {WEB1: 0, WEB2: 60}
    assert drained["LoadBalancerId"] == lb_id
    assert {"ServerId": WEB1, "Weight": "0", "Type": "ecs", "Description": ""} in drained["BackendServers"][
        "BackendServer"
    ]

    send(localcloud, backend_request(SetBackendServersRequest, lb_id, servers((WEB1, 100))))
    assert weights(localcloud, lb_id) == {WEB1: 100, WEB2: 60}


def test_remove_backend_servers(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    send(localcloud, backend_request(AddBackendServersRequest, lb_id, servers((WEB1, 100), (WEB2, 100))))

    body = send(localcloud, backend_request(RemoveBackendServersRequest, lb_id, json.dumps([{"ServerId": WEB1}])))

    assert [s["ServerId"] for s in body["BackendServers"]["BackendServer"]] == [WEB2]
    assert weights(localcloud, lb_id) == {WEB2: 100}
    assert describe(localcloud, ServerId=WEB1)["TotalCount"] == 0


def test_service_api_builds_what_the_sdk_sees(localcloud: LocalCloud) -> None:
    account, region = localcloud.account_id, localcloud.region_id
    lb_id = localcloud.slb.create_load_balancer(account, region, "from-fleet")
    localcloud.slb.add_backend_servers(account, region, lb_id, [(WEB1, 30), (WEB2, 70)])
    localcloud.slb.set_backend_weights(account, region, lb_id, [(WEB1, 0)])

    assert weights(localcloud, lb_id) == {WEB1: 0, WEB2: 70}
    assert attribute(localcloud, lb_id)["LoadBalancerName"] == "from-fleet"
