"""Every error the local SLB answers: real codes and HTTP statuses, through the real aliyun-python-sdk-slb requests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aliyunsdkslb.request.v20140515.AddBackendServersRequest import AddBackendServersRequest
from aliyunsdkslb.request.v20140515.AddVServerGroupBackendServersRequest import AddVServerGroupBackendServersRequest
from aliyunsdkslb.request.v20140515.CreateLoadBalancerRequest import CreateLoadBalancerRequest
from aliyunsdkslb.request.v20140515.CreateVServerGroupRequest import CreateVServerGroupRequest
from aliyunsdkslb.request.v20140515.DeleteLoadBalancerRequest import DeleteLoadBalancerRequest
from aliyunsdkslb.request.v20140515.DeleteVServerGroupRequest import DeleteVServerGroupRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerAttributeRequest import DescribeLoadBalancerAttributeRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerListenersRequest import DescribeLoadBalancerListenersRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancersRequest import DescribeLoadBalancersRequest
from aliyunsdkslb.request.v20140515.DescribeVServerGroupAttributeRequest import DescribeVServerGroupAttributeRequest
from aliyunsdkslb.request.v20140515.DescribeVServerGroupsRequest import DescribeVServerGroupsRequest
from aliyunsdkslb.request.v20140515.RemoveBackendServersRequest import RemoveBackendServersRequest
from aliyunsdkslb.request.v20140515.RemoveVServerGroupBackendServersRequest import (
    RemoveVServerGroupBackendServersRequest,
)
from aliyunsdkslb.request.v20140515.SetBackendServersRequest import SetBackendServersRequest
from aliyunsdkslb.request.v20140515.SetVServerGroupAttributeRequest import SetVServerGroupAttributeRequest

from localcloud.cloud import LocalCloud
from localcloud.testing import sdk_call as send
from localcloud.testing import sdk_error

WEB1, WEB2 = "i-bp1web00000000000001", "i-bp1web00000000000002"
MISSING_LB = "lb-bp1doesnotexist000000"
MISSING_GROUP = "rsp-doesnotexist"


def error(cloud: LocalCloud, request: Any) -> tuple[str, int]:
    err = sdk_error(cloud, request)
    return err.get_error_code(), err.get_http_status()


def make(cls: Any, **setters: Any) -> Any:
    request = cls()
    for setter, value in setters.items():
        getattr(request, f"set_{setter}")(value)
    return request


def servers(*entries: dict[str, Any]) -> str:
    return json.dumps(list(entries))


def lb_with_backends(cloud: LocalCloud) -> str:
    account, region = cloud.account_id, cloud.region_id
    lb_id = cloud.slb.create_load_balancer(account, region, "web")
    cloud.slb.add_backend_servers(account, region, lb_id, [(WEB1, 100), (WEB2, 100)])
    return lb_id


def lb_with_group(cloud: LocalCloud) -> tuple[str, str]:
    account, region = cloud.account_id, cloud.region_id
    lb_id = cloud.slb.create_load_balancer(account, region, "web")
    return lb_id, cloud.slb.create_vserver_group(account, region, lb_id, "api", [(WEB1, 80, 100)])


ONE = servers({"ServerId": WEB1, "Weight": "50"})
ONE_PORT = servers({"ServerId": WEB1, "Port": "80", "Weight": "50"})


# -- not found ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        make(DescribeLoadBalancerAttributeRequest, LoadBalancerId=MISSING_LB),
        make(DeleteLoadBalancerRequest, LoadBalancerId=MISSING_LB),
        make(AddBackendServersRequest, LoadBalancerId=MISSING_LB, BackendServers=ONE),
        make(RemoveBackendServersRequest, LoadBalancerId=MISSING_LB, BackendServers=ONE),
        make(SetBackendServersRequest, LoadBalancerId=MISSING_LB, BackendServers=ONE),
        make(CreateVServerGroupRequest, LoadBalancerId=MISSING_LB, VServerGroupName="api"),
        make(DescribeVServerGroupsRequest, LoadBalancerId=MISSING_LB),
    ],
    ids=lambda r: r.get_action_name(),
)
def test_unknown_load_balancer_is_invalid_load_balancer_id_not_found(localcloud: LocalCloud, request_: Any) -> None:
    assert error(localcloud, request_) == ("InvalidLoadBalancerId.NotFound", 400)


@pytest.mark.parametrize(
    "request_",
    [
        make(DescribeVServerGroupAttributeRequest, VServerGroupId=MISSING_GROUP),
        make(DeleteVServerGroupRequest, VServerGroupId=MISSING_GROUP),
        make(SetVServerGroupAttributeRequest, VServerGroupId=MISSING_GROUP, BackendServers=ONE_PORT),
        make(AddVServerGroupBackendServersRequest, VServerGroupId=MISSING_GROUP, BackendServers=ONE_PORT),
        make(RemoveVServerGroupBackendServersRequest, VServerGroupId=MISSING_GROUP, BackendServers=ONE_PORT),
    ],
    ids=lambda r: r.get_action_name(),
)
def test_unknown_vserver_group_is_invalid_parameter(localcloud: LocalCloud, request_: Any) -> None:
    # The real API answers a missing group with code InvalidParameter, "The specified VServerGroupId does not exist".
    assert error(localcloud, request_) == ("InvalidParameter", 400)


def test_set_weight_of_a_server_that_is_not_a_backend(localcloud: LocalCloud) -> None:
    lb_id = localcloud.slb.create_load_balancer(localcloud.account_id, localcloud.region_id, "web")
    request = make(SetBackendServersRequest, LoadBalancerId=lb_id, BackendServers=ONE)

    assert error(localcloud, request) == ("InvalidServerId.NotFound", 400)


def test_remove_a_server_that_is_not_a_backend_changes_nothing(localcloud: LocalCloud) -> None:
    lb_id = lb_with_backends(localcloud)
    payload = servers({"ServerId": WEB1}, {"ServerId": "i-bp1notabackend000000"})
    request = make(RemoveBackendServersRequest, LoadBalancerId=lb_id, BackendServers=payload)

    assert error(localcloud, request) == ("InvalidServerId.NotFound", 400)
    assert localcloud.slb.backends(localcloud.account_id, localcloud.region_id, lb_id) == {WEB1: 100, WEB2: 100}


@pytest.mark.parametrize(
    "entry",
    [{"ServerId": "web-1"}, {"ServerId": "i-"}, {"ServerId": WEB1, "Type": "eni"}],
    ids=["not-an-instance-id", "empty-suffix", "ecs-id-as-eni"],
)
def test_add_a_malformed_server_id(localcloud: LocalCloud, entry: dict[str, Any]) -> None:
    lb_id = localcloud.slb.create_load_balancer(localcloud.account_id, localcloud.region_id, "web")
    request = make(AddBackendServersRequest, LoadBalancerId=lb_id, BackendServers=servers(entry))

    assert error(localcloud, request) == ("InvalidServerId.NotFound", 400)


def test_vserver_group_member_is_identified_by_server_and_port(localcloud: LocalCloud) -> None:
    _lb_id, group_id = lb_with_group(localcloud)
    other_port = servers({"ServerId": WEB1, "Port": 8080, "Weight": 0})

    set_request = make(SetVServerGroupAttributeRequest, VServerGroupId=group_id, BackendServers=other_port)
    remove_request = make(RemoveVServerGroupBackendServersRequest, VServerGroupId=group_id, BackendServers=other_port)

    assert error(localcloud, set_request) == ("InvalidServerId.NotFound", 400)
    assert error(localcloud, remove_request) == ("InvalidServerId.NotFound", 400)


def test_add_a_malformed_server_to_a_vserver_group(localcloud: LocalCloud) -> None:
    _lb_id, group_id = lb_with_group(localcloud)
    bad = servers({"ServerId": "server-7", "Port": 80})
    request = make(AddVServerGroupBackendServersRequest, VServerGroupId=group_id, BackendServers=bad)

    assert error(localcloud, request) == ("InvalidServerId.NotFound", 400)


# -- BackendServer.configuring -----------------------------------------------------------------------------------


def test_configuring_answers_409_n_times_then_succeeds(localcloud: LocalCloud) -> None:
    lb_id = lb_with_backends(localcloud)
    localcloud.slb.set_configuring(lb_id, calls=2)
    drain = make(
        SetBackendServersRequest, LoadBalancerId=lb_id, BackendServers=servers({"ServerId": WEB1, "Weight": 0})
    )

    assert error(localcloud, drain) == ("BackendServer.configuring", 409)
    assert error(localcloud, drain) == ("BackendServer.configuring", 409)
    assert localcloud.slb.backends(localcloud.account_id, localcloud.region_id, lb_id)[WEB1] == 100

    send(localcloud, drain)
    assert localcloud.slb.backends(localcloud.account_id, localcloud.region_id, lb_id)[WEB1] == 0
    assert [c.code for c in localcloud.call_log.calls("SetBackendServers", "Slb")] == [
        "BackendServer.configuring",
        "BackendServer.configuring",
        "OK",
    ]


def test_configuring_does_not_block_reads(localcloud: LocalCloud) -> None:
    lb_id = lb_with_backends(localcloud)
    localcloud.slb.set_configuring(lb_id, calls=1)

    body = send(localcloud, make(DescribeLoadBalancerAttributeRequest, LoadBalancerId=lb_id))

    assert len(body["BackendServers"]["BackendServer"]) == 2
    request = make(RemoveBackendServersRequest, LoadBalancerId=lb_id, BackendServers=ONE)
    assert error(localcloud, request) == ("BackendServer.configuring", 409)


def test_configuring_applies_to_vserver_group_changes(localcloud: LocalCloud) -> None:
    lb_id, group_id = lb_with_group(localcloud)
    localcloud.slb.set_configuring(lb_id, calls=1)
    drain = make(SetVServerGroupAttributeRequest, VServerGroupId=group_id, BackendServers=ONE_PORT)

    assert error(localcloud, drain) == ("BackendServer.configuring", 409)
    assert send(localcloud, drain)["BackendServers"]["BackendServer"][0]["Weight"] == 50


# -- InvalidParameter / MissingParameter, never a 500 ------------------------------------------------------------


@pytest.mark.parametrize(
    "backend_servers",
    [
        servers({"ServerId": WEB1, "Weight": 101}),
        servers({"ServerId": WEB1, "Weight": "-1"}),
        servers({"ServerId": WEB1, "Weight": "heavy"}),
        servers({"ServerId": WEB1, "Weight": True}),
        servers({"ServerId": WEB1, "Type": "vm"}),
        servers({"Weight": 10}),
        servers({"ServerId": 42}),
        servers({"ServerId": WEB1, "Description": "x" * 81}),
        '[{"ServerId": "i-bp1web00000000000001", "Weight": ',
        '{"ServerId": "i-bp1web00000000000001"}',
        '["i-bp1web00000000000001"]',
        servers(*({"ServerId": f"i-bp1web{n:014d}"} for n in range(21))),
    ],
    ids=[
        "weight-101",
        "weight-negative",
        "weight-not-a-number",
        "weight-boolean",
        "unknown-type",
        "no-server-id",
        "server-id-not-string",
        "description-too-long",
        "truncated-json",
        "object-not-array",
        "array-of-strings",
        "21-servers",
    ],
)
def test_malformed_backend_servers_is_invalid_parameter(localcloud: LocalCloud, backend_servers: str) -> None:
    lb_id = lb_with_backends(localcloud)
    request = make(SetBackendServersRequest, LoadBalancerId=lb_id, BackendServers=backend_servers)

    assert error(localcloud, request) == ("InvalidParameter", 400)


def test_adding_an_existing_backend_is_invalid_parameter(localcloud: LocalCloud) -> None:
    lb_id = lb_with_backends(localcloud)
    request = make(AddBackendServersRequest, LoadBalancerId=lb_id, BackendServers=ONE)

    assert error(localcloud, request) == ("InvalidParameter", 400)


@pytest.mark.parametrize(
    "request_",
    [
        make(CreateLoadBalancerRequest, AddressType="public"),
        make(CreateLoadBalancerRequest, LoadBalancerSpec="large"),
        make(DescribeLoadBalancersRequest, PageSize=101),
        make(DescribeLoadBalancersRequest, PageNumber="first"),
        make(DescribeLoadBalancersRequest, Tags="team=web"),
    ],
    ids=["address-type", "spec", "page-size", "page-number", "tags-not-json"],
)
def test_invalid_scalar_parameters(localcloud: LocalCloud, request_: Any) -> None:
    assert error(localcloud, request_) == ("InvalidParameter", 400)


@pytest.mark.parametrize(
    "request_",
    [
        make(DescribeLoadBalancerAttributeRequest),
        make(DeleteLoadBalancerRequest),
        make(AddBackendServersRequest, BackendServers=ONE),
        make(RemoveBackendServersRequest, BackendServers=ONE),
        make(SetBackendServersRequest, BackendServers=ONE),
        make(CreateVServerGroupRequest, VServerGroupName="api"),
        make(DescribeVServerGroupsRequest),
        make(DescribeVServerGroupAttributeRequest),
        make(DeleteVServerGroupRequest),
        make(SetVServerGroupAttributeRequest, BackendServers=ONE_PORT),
        make(AddVServerGroupBackendServersRequest, BackendServers=ONE_PORT),
        make(RemoveVServerGroupBackendServersRequest, BackendServers=ONE_PORT),
    ],
    ids=lambda r: r.get_action_name(),
)
def test_missing_id_is_missing_parameter(localcloud: LocalCloud, request_: Any) -> None:
    assert error(localcloud, request_) == ("MissingParameter", 400)


def test_missing_backend_servers_is_missing_parameter(localcloud: LocalCloud) -> None:
    lb_id = lb_with_backends(localcloud)

    assert error(localcloud, make(SetBackendServersRequest, LoadBalancerId=lb_id)) == ("MissingParameter", 400)


def test_vserver_group_member_without_port_is_missing_parameter(localcloud: LocalCloud) -> None:
    _lb_id, group_id = lb_with_group(localcloud)
    request = make(AddVServerGroupBackendServersRequest, VServerGroupId=group_id, BackendServers=ONE)

    assert error(localcloud, request) == ("MissingParameter", 400)


def test_vserver_group_port_out_of_range_is_invalid_parameter(localcloud: LocalCloud) -> None:
    lb_id, _group_id = lb_with_group(localcloud)
    bad = servers({"ServerId": WEB2, "Port": 70000})
    request = make(CreateVServerGroupRequest, LoadBalancerId=lb_id, BackendServers=bad)

    assert error(localcloud, request) == ("InvalidParameter", 400)


# -- faults and unknown actions ----------------------------------------------------------------------------------


def test_injected_throttling_is_not_retried_by_the_sdk(localcloud: LocalCloud) -> None:
    lb_id = lb_with_backends(localcloud)
    localcloud.faults.set("Slb", "SetBackendServers", throttling_rate=1.0)
    request = make(SetBackendServersRequest, LoadBalancerId=lb_id, BackendServers=ONE)

    assert error(localcloud, request) == ("Throttling", 400)
    assert len(localcloud.call_log.calls("SetBackendServers", "Slb")) == 1
    assert localcloud.slb.backends(localcloud.account_id, localcloud.region_id, lb_id)[WEB1] == 100


def test_unimplemented_action_is_invalid_action_not_found(localcloud: LocalCloud) -> None:
    request = make(DescribeLoadBalancerListenersRequest)

    assert error(localcloud, request) == ("InvalidAction.NotFound", 404)
