"""The ALB (2020-06-16) wire: read an action's parameters, call the model, shape the JSON the real API returns.

Field names and types follow alibabacloud_alb20200616 1.3.3's response models. The member actions shared with NLB
(``change_servers``, ``group_servers``) are used by ``localcloud.nlb.responses`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from localcloud.alb import exceptions as exc
from localcloud.alb.models import ASYNC_APIS, Job, LbBackend, Listener, LoadBalancer, Member, ServerGroup
from localcloud.alb.params import Params, boolean, page, repeat_list, required, server_specs

Handler = Callable[[LbBackend, Params], dict[str, Any]]


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def millis(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp() * 1000)


# ---------------------------------------------------------------------------------------------- shared with NLB


def change_servers(backend: LbBackend, p: Params, api: str) -> Job:
    """Add / Remove / UpdateServerGroupServersAttribute: validate, start the job (or answer DryRunOperation)."""
    group_id = required(p, "ServerGroupId")
    backend.get_group(group_id)  # a missing group is 404 before the server list is looked at
    f = backend.flavor
    limit = {ASYNC_APIS[0]: f.max_add, ASYNC_APIS[1]: f.max_remove, ASYNC_APIS[2]: f.max_update}[api]
    specs = server_specs(p, limit)
    dry_run, token = boolean(p, "DryRun"), p.get("ClientToken", "").strip()
    if api == ASYNC_APIS[0]:
        return backend.add_servers(group_id, specs, dry_run, token)
    if api == ASYNC_APIS[1]:
        return backend.remove_servers(group_id, specs, dry_run, token)
    return backend.update_servers(group_id, specs, dry_run, token)


def group_servers(
    backend: LbBackend, p: Params, item: Callable[[ServerGroup, Member], dict[str, Any]]
) -> dict[str, Any]:
    """ListServerGroupServers: ``ServerGroupId`` is optional (documented so for both products), so ``ServerIds``
    alone finds every group a server is in, each entry naming its ``ServerGroupId``."""
    group_id = p.get("ServerGroupId", "").strip()
    groups = [backend.get_group(group_id)] if group_id else list(backend.groups.values())
    server_ids = set(repeat_list(p, "ServerIds", 40))
    server_ips = set(repeat_list(p, "ServerIps", 40))
    window = page(p)
    found = [
        (g, m)
        for g in groups
        for m in g.members.values()
        if (not server_ids or m.server_id in server_ids) and (not server_ips or m.server_ip in server_ips)
    ]
    shown, next_token = window.window(found)
    return {
        "Servers": [item(g, m) for g, m in shown],
        "TotalCount": len(found),
        "MaxResults": window.size,
        "NextToken": next_token,
    }


def select_groups(backend: LbBackend, p: Params, names_limit: int) -> list[ServerGroup]:
    ids = repeat_list(p, "ServerGroupIds", 20)
    names = repeat_list(p, "ServerGroupNames", names_limit)
    kind, vpc = p.get("ServerGroupType", "").strip(), p.get("VpcId", "").strip()
    if kind and kind not in ("Instance", "Ip", "Fc"):
        raise exc.illegal("ServerGroupType", kind, "one of Instance, Ip, Fc")
    return [
        g
        for g in backend.groups.values()
        if (not ids or g.group_id in ids)
        and (not names or g.name in names)
        and (not kind or kind == "Instance")
        and (not vpc or g.vpc_id == vpc)
    ]


def select_lbs(backend: LbBackend, p: Params) -> list[LoadBalancer]:
    ids = repeat_list(p, "LoadBalancerIds", 20)
    names = repeat_list(p, "LoadBalancerNames", 10)
    vpcs = repeat_list(p, "VpcIds", 10)
    status, address_type = p.get("LoadBalancerStatus", "").strip(), p.get("AddressType", "").strip()
    return [
        lb
        for lb in backend.load_balancers.values()
        if (not ids or lb.lb_id in ids)
        and (not names or lb.name in names)
        and (not vpcs or lb.vpc_id in vpcs)
        and (not status or lb.status == status)
        and (not address_type or lb.address_type == address_type)
    ]


def select_listeners(backend: LbBackend, p: Params) -> list[Listener]:
    lb_ids = repeat_list(p, "LoadBalancerIds", 20)
    ids = repeat_list(p, "ListenerIds", 20)
    protocol = p.get("ListenerProtocol", "").strip()
    return [
        lsn
        for lsn in backend.listeners.values()
        if (not lb_ids or lsn.lb_id in lb_ids)
        and (not ids or lsn.listener_id in ids)
        and (not protocol or lsn.protocol == protocol)
    ]


def paged(p: Params, key: str, items: list[Any], shape: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    window = page(p)
    shown, next_token = window.window(items)
    return {
        key: [shape(i) for i in shown],
        "TotalCount": len(items),
        "MaxResults": window.size,
        "NextToken": next_token,
    }


def non_normal(backend: LbBackend, group: ServerGroup) -> list[dict[str, Any]]:
    out = []
    for h in backend.health(group):
        if h.healthy:
            continue
        entry: dict[str, Any] = {
            "ServerId": h.member.server_id,
            "ServerIp": h.member.server_ip,
            "Port": h.member.port,
            "Status": h.status,
        }
        if h.reason:
            entry["Reason"] = {"ReasonCode": h.reason}
        out.append(entry)
    return out


# ---------------------------------------------------------------------------------------------- ALB shapes


def _lb(backend: LbBackend, lb: LoadBalancer) -> dict[str, Any]:
    return {
        "LoadBalancerId": lb.lb_id,
        "LoadBalancerName": lb.name,
        "LoadBalancerStatus": lb.status,
        "LoadBalancerBussinessStatus": "Normal",
        "LoadBalancerEdition": "Standard",
        "AddressType": lb.address_type,
        "AddressIpVersion": "IPv4",
        "AddressAllocatedMode": "Dynamic",
        "DNSName": lb.dns_name,
        "VpcId": lb.vpc_id,
        "CreateTime": iso(lb.create_time),
        "ResourceGroupId": "rg-" + lb.lb_id[-14:],
        "LoadBalancerBillingConfig": {"PayType": "PostPay"},
        "DeletionProtectionConfig": {"Enabled": False},
        "ModificationProtectionConfig": {"Status": "NonProtection"},
        "LoadBalancerOperationLocks": [],
        "Tags": [],
    }


def _listener(lsn: Listener) -> dict[str, Any]:
    return {
        "ListenerId": lsn.listener_id,
        "LoadBalancerId": lsn.lb_id,
        "ListenerPort": lsn.port,
        "ListenerProtocol": lsn.protocol,
        "ListenerStatus": lsn.status,
        "ListenerDescription": lsn.description,
        "IdleTimeout": 15,
        "RequestTimeout": 60,
        "GzipEnabled": True,
        "Http2Enabled": True,
        "DefaultActions": [
            {
                "Type": "ForwardGroup",
                "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": g} for g in lsn.group_ids]},
            }
        ],
        "Tags": [],
    }


def _group(backend: LbBackend, g: ServerGroup) -> dict[str, Any]:
    return {
        "ServerGroupId": g.group_id,
        "ServerGroupName": g.name,
        "ServerGroupStatus": g.status,
        "ServerGroupType": "Instance",
        "Protocol": g.protocol,
        "Scheduler": "Wrr",
        "VpcId": g.vpc_id,
        "ServerCount": len(g.members),
        "RelatedLoadBalancerIds": backend.related_lbs(g.group_id),
        "CreateTime": iso(g.create_time),
        "ResourceGroupId": "rg-" + g.group_id[-14:],
        "HealthCheckConfig": {
            "HealthCheckEnabled": g.health.enabled,
            "HealthCheckProtocol": "HTTP",
            "HealthCheckInterval": g.health.interval,
            "HealthyThreshold": g.health.healthy_threshold,
            "UnhealthyThreshold": g.health.unhealthy_threshold,
            "HealthCheckTimeout": 5,
            "HealthCheckPath": "/",
            "HealthCheckCodes": ["http_2xx", "http_3xx"],
        },
        "StickySessionConfig": {"StickySessionEnabled": False},
        "ConnectionDrainConfig": {"ConnectionDrainEnabled": g.drain_enabled, "ConnectionDrainTimeout": g.drain_timeout},
        "UpstreamKeepaliveEnabled": False,
        "Ipv6Enabled": False,
        "Tags": [],
    }


def _server(g: ServerGroup, m: Member) -> dict[str, Any]:
    return {
        "ServerGroupId": g.group_id,
        "ServerId": m.server_id,
        "ServerIp": m.server_ip,
        "ServerType": m.server_type,
        "Port": m.port,
        "Weight": m.weight,
        "Status": m.status,
        "Description": m.description,
        "RemoteIpEnabled": False,
    }


def _job(job: Job) -> dict[str, Any]:
    return {
        "Id": job.job_id,
        "ApiName": job.api_name,
        "OperateType": {ASYNC_APIS[0]: "Create", ASYNC_APIS[1]: "Delete"}.get(job.api_name, "Update"),
        "ResourceId": job.group_id,
        "ResourceType": "servergroup",
        "Status": job.status,
        "CreateTime": millis(job.create_time),
        "ModifyTime": millis(job.modify_time or job.create_time),
    }


# ---------------------------------------------------------------------------------------------- ALB actions


def list_load_balancers(backend: LbBackend, p: Params) -> dict[str, Any]:
    return paged(p, "LoadBalancers", select_lbs(backend, p), lambda lb: _lb(backend, lb))


def get_load_balancer_attribute(backend: LbBackend, p: Params) -> dict[str, Any]:
    lb = backend.get_lb(required(p, "LoadBalancerId"))
    body = _lb(backend, lb)
    index = list(backend.load_balancers).index(lb.lb_id) + 1
    body["RegionId"] = backend.region_id
    body["SecurityGroupIds"] = []
    body["ZoneMappings"] = [
        {
            "ZoneId": zone,
            "VSwitchId": "vsw-" + lb.lb_id[-14:] + str(n),
            "Status": "Active",
            "LoadBalancerAddresses": [{"Address": f"10.0.{n}.{index}", "IntranetAddress": f"10.0.{n}.{index}"}],
        }
        for n, zone in enumerate(lb.zones)
    ]
    return body


def list_listeners(backend: LbBackend, p: Params) -> dict[str, Any]:
    return paged(p, "Listeners", select_listeners(backend, p), _listener)


def list_server_groups(backend: LbBackend, p: Params) -> dict[str, Any]:
    return paged(p, "ServerGroups", select_groups(backend, p, 10), lambda g: _group(backend, g))


def list_server_group_servers(backend: LbBackend, p: Params) -> dict[str, Any]:
    return group_servers(backend, p, _server)


def _mutation(api: str) -> Handler:
    def handler(backend: LbBackend, p: Params) -> dict[str, Any]:
        return {"JobId": change_servers(backend, p, api).job_id}

    return handler


def get_listener_health_status(backend: LbBackend, p: Params) -> dict[str, Any]:
    lsn = backend.get_listener(required(p, "ListenerId"))
    page(p, default=20, high=30)  # MaxResults 1-30: validated; one listener's groups always fit one page
    infos = []
    for group_id in lsn.group_ids:
        group = backend.get_group(group_id)
        infos.append(
            {
                "ServerGroupId": group_id,
                "ActionType": "ForwardGroup",
                "HealthCheckEnabled": "on" if group.health.enabled else "off",
                "ServerCount": len(group.members),
                "NonNormalServers": non_normal(backend, group),
            }
        )
    status = {
        "ListenerId": lsn.listener_id,
        "ListenerPort": lsn.port,
        "ListenerProtocol": lsn.protocol,
        "ServerGroupInfos": infos,
    }
    return {"ListenerHealthStatus": [status], "RuleHealthStatus": [], "NextToken": ""}


def list_asyn_jobs(backend: LbBackend, p: Params) -> dict[str, Any]:
    job_ids = repeat_list(p, "JobIds", 20)
    resource_ids = repeat_list(p, "ResourceIds", 20)
    api = p.get("ApiName", "").strip()
    jobs = [
        j
        for j in backend.jobs.values()
        if (not job_ids or j.job_id in job_ids)
        and (not resource_ids or j.group_id in resource_ids)
        and (not api or j.api_name == api)
    ]
    return paged(p, "Jobs", jobs, _job)


ACTIONS: dict[str, Handler] = {
    "ListLoadBalancers": list_load_balancers,
    "GetLoadBalancerAttribute": get_load_balancer_attribute,
    "ListListeners": list_listeners,
    "ListServerGroups": list_server_groups,
    "ListServerGroupServers": list_server_group_servers,
    "AddServersToServerGroup": _mutation(ASYNC_APIS[0]),
    "RemoveServersFromServerGroup": _mutation(ASYNC_APIS[1]),
    "UpdateServerGroupServersAttribute": _mutation(ASYNC_APIS[2]),
    "GetListenerHealthStatus": get_listener_health_status,
    "ListAsynJobs": list_asyn_jobs,
}
