"""The SLB wire: read an action's parameters, call the model, shape the JSON body the real API returns.

Nothing here changes state by itself; every transition is a ``SlbBackend`` method.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from localcloud.slb import exceptions as exc
from localcloud.slb.models import BackendServer, BackendSpec, LoadBalancer, SlbBackend, VServerGroup

Params = dict[str, str]
Handler = Callable[[SlbBackend, Params, datetime], dict[str, Any]]

# --------------------------------------------------------------------------------------------------- parameters


def required(params: Params, name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise exc.missing_parameter(name)
    return value


def integer(params: Params, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise exc.invalid_parameter(name, raw, "not an integer") from None
    if not low <= value <= high:
        raise exc.invalid_parameter(name, value, f"must be between {low} and {high}")
    return value


def _json_int(name: str, value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise exc.invalid_parameter(name, value, "not an integer")
    try:
        return int(value)
    except ValueError:
        raise exc.invalid_parameter(name, value, "not an integer") from None


def _json_str(name: str, value: object, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise exc.invalid_parameter(name, value, "not a string")
    return value


def backend_specs(params: Params, name: str = "BackendServers", *, required_: bool = True) -> list[BackendSpec]:
    """``BackendServers``: a JSON array string of ``{ServerId, Weight, Type, Description, Port, ServerIp}``.
    Weight and Port may be strings or integers, as the SDK examples send them."""
    raw = params.get(name, "").strip()
    if not raw:
        if required_:
            raise exc.missing_parameter(name)
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        raise exc.invalid_parameter(name, raw, "not a JSON array") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise exc.invalid_parameter(name, raw, "must be a JSON array of objects")
    specs = []
    for item in items:
        server_id = item.get("ServerId")
        if not isinstance(server_id, str) or not server_id.strip():
            raise exc.invalid_parameter(f"{name}.ServerId", server_id, "required string")
        specs.append(
            BackendSpec(
                server_id=server_id.strip(),
                weight=_json_int(f"{name}.Weight", item.get("Weight")),
                type=_json_str(f"{name}.Type", item.get("Type"), "ecs") or "ecs",
                description=_json_str(f"{name}.Description", item.get("Description")),
                port=_json_int(f"{name}.Port", item.get("Port")),
                server_ip=_json_str(f"{name}.ServerIp", item.get("ServerIp")),
            )
        )
    return specs


def tag_params(params: Params) -> dict[str, str]:
    """``Tag.N.Key`` / ``Tag.N.Value`` (N = 1..20)."""
    tags = {}
    for n in range(1, 21):
        key = params.get(f"Tag.{n}.Key")
        if key:
            tags[key] = params.get(f"Tag.{n}.Value", "")
    return tags


def tags_json(params: Params) -> dict[str, str]:
    """DescribeLoadBalancers ``Tags``: JSON ``[{"TagKey": "k", "TagValue": "v"}]`` (a single object is accepted)."""
    raw = params.get("Tags", "").strip()
    if not raw:
        return {}
    try:
        items = json.loads(raw)
    except ValueError:
        raise exc.invalid_parameter("Tags", raw, "not JSON") from None
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("TagKey"), str) for i in items):
        raise exc.invalid_parameter("Tags", raw, 'expected [{"TagKey": .., "TagValue": ..}]')
    return {i["TagKey"]: str(i.get("TagValue", "")) for i in items}


# --------------------------------------------------------------------------------------------------- shapes


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _tags(lb: LoadBalancer) -> dict[str, Any]:
    return {"Tag": [{"TagKey": k, "TagValue": v} for k, v in lb.tags.items()]}


def lb_summary(lb: LoadBalancer) -> dict[str, Any]:
    return {
        "LoadBalancerId": lb.lb_id,
        "LoadBalancerName": lb.name,
        "LoadBalancerStatus": lb.status,
        "Address": lb.address,
        "AddressType": lb.address_type,
        "AddressIPVersion": "ipv4",
        "RegionId": lb.region_id,
        "RegionIdAlias": lb.region_id,
        "NetworkType": lb.network_type,
        "VpcId": lb.vpc_id,
        "VSwitchId": lb.vswitch_id,
        "MasterZoneId": lb.master_zone_id,
        "SlaveZoneId": lb.slave_zone_id,
        "LoadBalancerSpec": lb.spec,
        "Bandwidth": lb.bandwidth,
        "InternetChargeType": lb.internet_charge_type,
        "PayType": lb.pay_type,
        "ResourceGroupId": lb.resource_group_id,
        "CreateTime": _time(lb.create_time),
        "CreateTimeStamp": _millis(lb.create_time),
        "DeleteProtection": "off",
        "ModificationProtectionStatus": "NonProtection",
        "Tags": _tags(lb),
    }


def backend_item(server: BackendServer, *, weight_as_str: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ServerId": server.server_id,
        "Weight": str(server.weight) if weight_as_str else server.weight,
        "Type": server.type,
        "Description": server.description,
    }
    if server.port is not None:
        item["Port"] = server.port
    if server.server_ip:
        item["ServerIp"] = server.server_ip
    return item


def lb_attribute(lb: LoadBalancer) -> dict[str, Any]:
    body = lb_summary(lb)
    body.update(
        {
            "BackendServers": {"BackendServer": [backend_item(s) for s in lb.backends.values()]},
            "ListenerPorts": {"ListenerPort": []},
            "ListenerPortsAndProtocal": {"ListenerPortAndProtocal": []},
            "ListenerPortsAndProtocol": {"ListenerPortAndProtocol": []},
            "EndTime": "2999-09-08T16:00:00Z",
            "EndTimeStamp": 32493801600000,
        }
    )
    return body


def group_body(group: VServerGroup) -> dict[str, Any]:
    return {
        "VServerGroupId": group.group_id,
        "VServerGroupName": group.name,
        "BackendServers": {"BackendServer": [backend_item(s) for s in group.members.values()]},
    }


def lb_backends_body(lb: LoadBalancer, *, weight_as_str: bool = True) -> dict[str, Any]:
    """Add/Remove/SetBackendServers echo the load balancer's backend list: Weight a string for Add and Set, an
    integer for Remove (as the SDK models type it: alibabacloud_slb20140515 3.3.31)."""
    servers = [backend_item(s, weight_as_str=weight_as_str) for s in lb.backends.values()]
    return {"LoadBalancerId": lb.lb_id, "BackendServers": {"BackendServer": servers}}


# --------------------------------------------------------------------------------------------------- actions


def create_load_balancer(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    lb = backend.create_load_balancer(
        now,
        name=p.get("LoadBalancerName", ""),
        address_type=p.get("AddressType") or "internet",
        vswitch_id=p.get("VSwitchId", ""),
        vpc_id=p.get("VpcId", ""),
        spec=p.get("LoadBalancerSpec", ""),
        bandwidth=integer(p, "Bandwidth", 5120, 1, 5120),
        internet_charge_type=p.get("InternetChargeType") or "paybytraffic",
        pay_type=p.get("PayType") or "PayOnDemand",
        master_zone_id=p.get("MasterZoneId", ""),
        slave_zone_id=p.get("SlaveZoneId", ""),
        resource_group_id=p.get("ResourceGroupId", ""),
        address=p.get("Address", ""),
        tags=tag_params(p),
    )
    return {
        "LoadBalancerId": lb.lb_id,
        "LoadBalancerName": lb.name,
        "Address": lb.address,
        "AddressIPVersion": "ipv4",
        "NetworkType": lb.network_type,
        "VpcId": lb.vpc_id,
        "VSwitchId": lb.vswitch_id,
        "ResourceGroupId": lb.resource_group_id,
    }


def delete_load_balancer(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    backend.delete_load_balancer(required(p, "LoadBalancerId"))
    return {}


def describe_load_balancers(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    """Filters: LoadBalancerId (comma-separated), ServerId, Tag.N / Tags, and exact-match attributes.
    Paging as the real API: PageNumber (default 1), PageSize (default 10, at most 100)."""
    page = integer(p, "PageNumber", 1, 1, 1_000_000)
    size = integer(p, "PageSize", 10, 1, 100)
    raw_ids = p.get("LoadBalancerId", "").strip()
    lb_ids = [i.strip() for i in raw_ids.split(",") if i.strip()] if raw_ids else None
    found = backend.describe(
        lb_ids=lb_ids,
        server_id=p.get("ServerId", "").strip(),
        tags={**tags_json(p), **tag_params(p)},
        name=p.get("LoadBalancerName", ""),
        address=p.get("Address", ""),
        address_type=p.get("AddressType", ""),
        network_type=p.get("NetworkType", ""),
        vpc_id=p.get("VpcId", ""),
        vswitch_id=p.get("VSwitchId", ""),
        status=p.get("LoadBalancerStatus", ""),
        internet_charge_type=p.get("InternetChargeType", ""),
        pay_type=p.get("PayType", ""),
        master_zone_id=p.get("MasterZoneId", ""),
        slave_zone_id=p.get("SlaveZoneId", ""),
        resource_group_id=p.get("ResourceGroupId", ""),
    )
    window = found[(page - 1) * size : page * size]
    return {
        "LoadBalancers": {"LoadBalancer": [lb_summary(lb) for lb in window]},
        "TotalCount": len(found),
        "PageNumber": page,
        "PageSize": size,
    }


def describe_load_balancer_attribute(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    return lb_attribute(backend.get(required(p, "LoadBalancerId")))


def add_backend_servers(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    lb_id, specs = required(p, "LoadBalancerId"), backend_specs(p)
    return lb_backends_body(backend.add_backend_servers(lb_id, specs))


def remove_backend_servers(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    lb_id, specs = required(p, "LoadBalancerId"), backend_specs(p)
    return lb_backends_body(backend.remove_backend_servers(lb_id, specs), weight_as_str=False)


def set_backend_servers(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    lb_id, specs = required(p, "LoadBalancerId"), backend_specs(p)
    return lb_backends_body(backend.set_backend_servers(lb_id, specs))


def create_vserver_group(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    lb_id, specs = required(p, "LoadBalancerId"), backend_specs(p, required_=False)
    group = backend.create_vserver_group(now, lb_id, p.get("VServerGroupName", ""), specs)
    return group_body(group)


def delete_vserver_group(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    backend.delete_vserver_group(required(p, "VServerGroupId"))
    return {}


def describe_vserver_groups(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    groups = backend.groups_of(required(p, "LoadBalancerId"))
    items = [
        {
            "VServerGroupId": g.group_id,
            "VServerGroupName": g.name,
            "ServerCount": len(g.members),
            "CreateTime": _time(g.create_time),
        }
        for g in groups
    ]
    return {"VServerGroups": {"VServerGroup": items}}


def describe_vserver_group_attribute(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    group = backend.get_group(required(p, "VServerGroupId"))
    body = group_body(group)
    body.update({"LoadBalancerId": group.lb_id, "CreateTime": _time(group.create_time)})
    return body


def set_vserver_group_attribute(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    group_id, specs = required(p, "VServerGroupId"), backend_specs(p, required_=False)
    name = p.get("VServerGroupName")
    return group_body(backend.set_group_attribute(group_id, name, specs))


def add_vserver_group_backend_servers(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    group_id, specs = required(p, "VServerGroupId"), backend_specs(p)
    return group_body(backend.add_group_servers(group_id, specs))


def remove_vserver_group_backend_servers(backend: SlbBackend, p: Params, now: datetime) -> dict[str, Any]:
    group_id, specs = required(p, "VServerGroupId"), backend_specs(p)
    return group_body(backend.remove_group_servers(group_id, specs))


ACTIONS: dict[str, Handler] = {
    "CreateLoadBalancer": create_load_balancer,
    "DeleteLoadBalancer": delete_load_balancer,
    "DescribeLoadBalancers": describe_load_balancers,
    "DescribeLoadBalancerAttribute": describe_load_balancer_attribute,
    "AddBackendServers": add_backend_servers,
    "RemoveBackendServers": remove_backend_servers,
    "SetBackendServers": set_backend_servers,
    "CreateVServerGroup": create_vserver_group,
    "DeleteVServerGroup": delete_vserver_group,
    "DescribeVServerGroups": describe_vserver_groups,
    "DescribeVServerGroupAttribute": describe_vserver_group_attribute,
    "SetVServerGroupAttribute": set_vserver_group_attribute,
    "AddVServerGroupBackendServers": add_vserver_group_backend_servers,
    "RemoveVServerGroupBackendServers": remove_vserver_group_backend_servers,
}
