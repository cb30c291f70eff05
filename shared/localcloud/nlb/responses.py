"""The NLB (2022-04-30) wire: NLB's response shapes over the shared server-group model.

Field names and types follow alibabacloud_nlb20220430 4.1.3's response models: flat ``ConnectionDrainEnabled`` /
``ConnectionDrainTimeout`` and a ``HealthCheck`` object on server groups, one ``ServerGroupId`` per listener,
``HeathCheckEnabled`` (sic) in GetListenerHealthStatus, ``ServerGroupId`` echoed by member changes, and
``GetJobStatus`` for the async jobs.
"""

from __future__ import annotations

from typing import Any

from localcloud.alb import exceptions as exc
from localcloud.alb.models import ASYNC_APIS, LbBackend, Listener, LoadBalancer, Member, ServerGroup
from localcloud.alb.params import Params, required
from localcloud.alb.responses import (
    Handler,
    change_servers,
    group_servers,
    iso,
    non_normal,
    paged,
    select_groups,
    select_lbs,
    select_listeners,
)


def _lb(backend: LbBackend, lb: LoadBalancer) -> dict[str, Any]:
    index = list(backend.load_balancers).index(lb.lb_id) + 1
    return {
        "LoadBalancerId": lb.lb_id,
        "LoadBalancerName": lb.name,
        "LoadBalancerStatus": lb.status,
        "LoadBalancerBusinessStatus": "Normal",
        "LoadBalancerType": "Network",
        "AddressType": lb.address_type,
        "AddressIpVersion": "ipv4",
        "DNSName": lb.dns_name,
        "VpcId": lb.vpc_id,
        "RegionId": backend.region_id,
        "CreateTime": iso(lb.create_time),
        "CrossZoneEnabled": True,
        "ResourceGroupId": "rg-" + lb.lb_id[-14:],
        "LoadBalancerBillingConfig": {"PayType": "PostPay"},
        "DeletionProtectionConfig": {"Enabled": False},
        "ModificationProtectionConfig": {"Status": "NonProtection"},
        "OperationLocks": [],
        "SecurityGroupIds": [],
        "Tags": [],
        "ZoneMappings": [
            {
                "ZoneId": zone,
                "VSwitchId": "vsw-" + lb.lb_id[-14:] + str(n),
                "Status": "Active",
                "LoadBalancerAddresses": [
                    {"PrivateIPv4Address": f"10.1.{n}.{index}", "PrivateIPv4HcStatus": "Healthy"}
                ],
            }
            for n, zone in enumerate(lb.zones)
        ],
    }


def _listener(backend: LbBackend, lsn: Listener) -> dict[str, Any]:
    return {
        "ListenerId": lsn.listener_id,
        "LoadBalancerId": lsn.lb_id,
        "ListenerPort": lsn.port,
        "ListenerProtocol": lsn.protocol,
        "ListenerStatus": lsn.status,
        "ListenerDescription": lsn.description,
        "ServerGroupId": lsn.group_ids[0],
        "RegionId": backend.region_id,
        "IdleTimeout": 900,
        "ProxyProtocolEnabled": False,
        "SecSensorEnabled": False,
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
        "RegionId": backend.region_id,
        "AliUid": int(backend.account_id) if backend.account_id.isdigit() else None,
        "ServerCount": len(g.members),
        "RelatedLoadBalancerIds": backend.related_lbs(g.group_id),
        "AddressIPVersion": "ipv4",
        "AnyPortEnabled": False,
        "PreserveClientIpEnabled": True,
        "ConnectionDrainEnabled": g.drain_enabled,
        "ConnectionDrainTimeout": g.drain_timeout,
        "ResourceGroupId": "rg-" + g.group_id[-14:],
        "HealthCheck": {
            "HealthCheckEnabled": g.health.enabled,
            "HealthCheckType": "TCP",
            "HealthCheckInterval": g.health.interval,
            "HealthyThreshold": g.health.healthy_threshold,
            "UnhealthyThreshold": g.health.unhealthy_threshold,
            "HealthCheckConnectTimeout": 5,
            "HealthCheckConnectPort": 0,
        },
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
        "ZoneId": "",
    }


def list_load_balancers(backend: LbBackend, p: Params) -> dict[str, Any]:
    return paged(p, "LoadBalancers", select_lbs(backend, p), lambda lb: _lb(backend, lb))


def get_load_balancer_attribute(backend: LbBackend, p: Params) -> dict[str, Any]:
    return _lb(backend, backend.get_lb(required(p, "LoadBalancerId")))


def list_listeners(backend: LbBackend, p: Params) -> dict[str, Any]:
    return paged(p, "Listeners", select_listeners(backend, p), lambda lsn: _listener(backend, lsn))


def list_server_groups(backend: LbBackend, p: Params) -> dict[str, Any]:
    return paged(p, "ServerGroups", select_groups(backend, p, 20), lambda g: _group(backend, g))


def list_server_group_servers(backend: LbBackend, p: Params) -> dict[str, Any]:
    return group_servers(backend, p, _server)


def _mutation(api: str) -> Handler:
    def handler(backend: LbBackend, p: Params) -> dict[str, Any]:
        job = change_servers(backend, p, api)
        return {"JobId": job.job_id, "ServerGroupId": job.group_id}

    return handler


def get_listener_health_status(backend: LbBackend, p: Params) -> dict[str, Any]:
    lsn = backend.get_listener(required(p, "ListenerId"))
    infos = []
    for group_id in lsn.group_ids:
        group = backend.get_group(group_id)
        infos.append(
            {
                "ServerGroupId": group_id,
                "HeathCheckEnabled": group.health.enabled,
                "NonNormalServers": non_normal(backend, group),
            }
        )
    status = {
        "ListenerId": lsn.listener_id,
        "ListenerPort": lsn.port,
        "ListenerProtocol": lsn.protocol,
        "ServerGroupInfos": infos,
    }
    return {"ListenerHealthStatus": [status], "TotalCount": 1, "MaxResults": 20, "NextToken": ""}


def get_job_status(backend: LbBackend, p: Params) -> dict[str, Any]:
    job_id = required(p, "JobId")
    job = backend.jobs.get(job_id)
    if job is None:
        raise exc.not_found("job", job_id)
    return {"Status": job.status}


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
    "GetJobStatus": get_job_status,
}
