"""Classic SLB VServer groups (backend server + port + weight), through the real aliyun-python-sdk-slb requests."""

from __future__ import annotations

import json
from typing import Any

from aliyunsdkslb.request.v20140515.AddVServerGroupBackendServersRequest import AddVServerGroupBackendServersRequest
from aliyunsdkslb.request.v20140515.CreateLoadBalancerRequest import CreateLoadBalancerRequest
from aliyunsdkslb.request.v20140515.CreateVServerGroupRequest import CreateVServerGroupRequest
from aliyunsdkslb.request.v20140515.DeleteLoadBalancerRequest import DeleteLoadBalancerRequest
from aliyunsdkslb.request.v20140515.DeleteVServerGroupRequest import DeleteVServerGroupRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancersRequest import DescribeLoadBalancersRequest
from aliyunsdkslb.request.v20140515.DescribeVServerGroupAttributeRequest import DescribeVServerGroupAttributeRequest
from aliyunsdkslb.request.v20140515.DescribeVServerGroupsRequest import DescribeVServerGroupsRequest
from aliyunsdkslb.request.v20140515.RemoveVServerGroupBackendServersRequest import (
    RemoveVServerGroupBackendServersRequest,
)
from aliyunsdkslb.request.v20140515.SetVServerGroupAttributeRequest import SetVServerGroupAttributeRequest

from localcloud.cloud import LocalCloud
from localcloud.testing import sdk_call as send
from localcloud.testing import sdk_error as fails

WEB1, WEB2 = "i-bp1web00000000000001", "i-bp1web00000000000002"


def members(*entries: tuple[str, Any, Any]) -> str:
    return json.dumps([{"ServerId": s, "Port": port, "Weight": w, "Type": "ecs"} for s, port, w in entries])


def create_lb(cloud: LocalCloud) -> str:
    lb_id: str = send(cloud, CreateLoadBalancerRequest())["LoadBalancerId"]
    return lb_id


def create_group(cloud: LocalCloud, lb_id: str, name: str = "api", backend_servers: str | None = None) -> str:
    request = CreateVServerGroupRequest()
    request.set_LoadBalancerId(lb_id)
    request.set_VServerGroupName(name)
    if backend_servers is not None:
        request.set_BackendServers(backend_servers)
    group_id: str = send(cloud, request)["VServerGroupId"]
    return group_id


def group_request(cls: Any, group_id: str, backend_servers: str | None = None) -> Any:
    request = cls()
    request.set_VServerGroupId(group_id)
    if backend_servers is not None:
        request.set_BackendServers(backend_servers)
    return request


def group_weights(cloud: LocalCloud, group_id: str) -> dict[tuple[str, int], int]:
    body = send(cloud, group_request(DescribeVServerGroupAttributeRequest, group_id))
    return {(s["ServerId"], s["Port"]): s["Weight"] for s in body["BackendServers"]["BackendServer"]}


def test_create_vserver_group_returns_id_name_and_members(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    request = CreateVServerGroupRequest()
    request.set_LoadBalancerId(lb_id)
    request.set_VServerGroupName("api")
    request.set_BackendServers(members((WEB1, "8080", "100"), (WEB2, 8080, 40)))

    body = send(localcloud, request)

    assert body["VServerGroupId"].startswith("rsp-")
    assert body["VServerGroupName"] == "api"
    assert body["BackendServers"]["BackendServer"] == [
        {"ServerId": WEB1, "Port": 8080, "Weight": 100, "Type": "ecs", "Description": ""},
        {"ServerId": WEB2, "Port": 8080, "Weight": 40, "Type": "ecs", "Description": ""},
    ]


def test_describe_vserver_groups_lists_ids_and_names(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    api = create_group(localcloud, lb_id, "api", members((WEB1, 8080, 100)))
    admin = create_group(localcloud, lb_id, "admin")
    request = DescribeVServerGroupsRequest()
    request.set_LoadBalancerId(lb_id)

    groups = send(localcloud, request)["VServerGroups"]["VServerGroup"]

    assert [(g["VServerGroupId"], g["VServerGroupName"]) for g in groups] == [(api, "api"), (admin, "admin")]


def test_describe_vserver_group_attribute_names_load_balancer(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    group_id = create_group(localcloud, lb_id, "api", members((WEB1, 80, 10)))

    body = send(localcloud, group_request(DescribeVServerGroupAttributeRequest, group_id))

    assert (body["VServerGroupId"], body["VServerGroupName"], body["LoadBalancerId"]) == (group_id, "api", lb_id)
    assert body["BackendServers"]["BackendServer"][0]["Port"] == 80


def test_set_vserver_group_attribute_drains_and_restores_one_port(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    group_id = create_group(localcloud, lb_id, "api", members((WEB1, 80, 100), (WEB1, 8080, 100), (WEB2, 80, 50)))

    send(localcloud, group_request(SetVServerGroupAttributeRequest, group_id, members((WEB1, 80, 0))))
    assert group_weights(localcloud, group_id) == {(WEB1, 80): 0, (WEB1, 8080): 100, (WEB2, 80): 50}

    send(localcloud, group_request(SetVServerGroupAttributeRequest, group_id, members((WEB1, 80, "100"))))
    assert group_weights(localcloud, group_id) == {(WEB1, 80): 100, (WEB1, 8080): 100, (WEB2, 80): 50}


def test_set_vserver_group_attribute_renames(localcloud: LocalCloud) -> None:
    group_id = create_group(localcloud, create_lb(localcloud), "old")
    request = group_request(SetVServerGroupAttributeRequest, group_id)
    request.set_VServerGroupName("new")

    assert send(localcloud, request)["VServerGroupName"] == "new"


def test_add_and_remove_vserver_group_backend_servers(localcloud: LocalCloud) -> None:
    group_id = create_group(localcloud, create_lb(localcloud), "api", members((WEB1, 80, 100)))

    added = send(localcloud, group_request(AddVServerGroupBackendServersRequest, group_id, members((WEB2, 80, 30))))
    assert added["VServerGroupId"] == group_id
    assert group_weights(localcloud, group_id) == {(WEB1, 80): 100, (WEB2, 80): 30}

    removed = send(
        localcloud, group_request(RemoveVServerGroupBackendServersRequest, group_id, members((WEB1, 80, 100)))
    )
    assert [s["ServerId"] for s in removed["BackendServers"]["BackendServer"]] == [WEB2]
    assert group_weights(localcloud, group_id) == {(WEB2, 80): 30}


def test_server_id_filter_finds_vserver_group_members(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    create_lb(localcloud)
    create_group(localcloud, lb_id, "api", members((WEB2, 8080, 100)))
    request = DescribeLoadBalancersRequest()
    request.set_ServerId(WEB2)

    body = send(localcloud, request)

    assert [lb["LoadBalancerId"] for lb in body["LoadBalancers"]["LoadBalancer"]] == [lb_id]


def test_delete_vserver_group(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    group_id = create_group(localcloud, lb_id)

    send(localcloud, group_request(DeleteVServerGroupRequest, group_id))

    err = fails(localcloud, group_request(DescribeVServerGroupAttributeRequest, group_id))
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidParameter", 400)
    assert "VServerGroupId does not exist" in err.get_error_msg()
    assert localcloud.slb.vserver_groups(localcloud.account_id, localcloud.region_id, lb_id) == {}


def test_deleting_the_load_balancer_deletes_its_groups(localcloud: LocalCloud) -> None:
    lb_id = create_lb(localcloud)
    group_id = create_group(localcloud, lb_id)
    request = DeleteLoadBalancerRequest()
    request.set_LoadBalancerId(lb_id)
    send(localcloud, request)

    err = fails(localcloud, group_request(DescribeVServerGroupAttributeRequest, group_id))

    assert err.get_error_code() == "InvalidParameter"


def test_service_api_creates_groups_the_sdk_sees(localcloud: LocalCloud) -> None:
    account, region = localcloud.account_id, localcloud.region_id
    lb_id = localcloud.slb.create_load_balancer(account, region, "fleet")
    group_id = localcloud.slb.create_vserver_group(account, region, lb_id, "api", [(WEB1, 8080, 70)])

    assert group_weights(localcloud, group_id) == {(WEB1, 8080): 70}
    assert localcloud.slb.group_backends(account, region, group_id) == {(WEB1, 8080): 70}
    assert localcloud.slb.vserver_groups(account, region, lb_id) == {group_id: "api"}
