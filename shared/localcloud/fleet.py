"""Fleet files: instances and load balancers declared in YAML, built through the APIs.

    instances:
      - name: web                      # group name; InstanceName of each instance is web-1, web-2, ...
        count: 3
        type: ecs.g6.large             # optional
        tags: {app: web, "ecs-events:managed": "true"}
        disks: [{size: 100, category: cloud_essd}]   # data disks (system disk is always there)
        preemptible: false             # true -> SpotStrategy SpotAsPriceGo
    load_balancers:
      - name: web-lb
        backends: [{instances: web, weight: 100}]    # every instance of group "web"
        vserver_groups:
          - name: web-8080
            backends: [{instances: web, port: 8080, weight: 100}]
    albs:                              # ALB 2020-06-16; nlbs: the same for NLB 2022-04-30
      - name: web-alb
        server_groups:
          - name: web-80
            backends: [{instances: web, port: 80, weight: 100}]
            connection_drain: {enabled: true, timeout: 300}    # optional; timeout 0-900 s
            health_check: {enabled: true, interval: 2, healthy_threshold: 3}   # optional
        listeners:
          - {port: 80, server_groups: [web-80]}  # NLB: server_group: NAME (one per listener)

A listener names server groups declared under any load balancer of the same kind, so one group can serve several
listeners and (NLB) several load balancers.

Instances are created with the real SDK's RunInstancesRequest against the running LocalCloud (so they show in the
call log like any client's); load balancers through the SLB / ALB / NLB services' public methods (fleet members are
Available at once, no job). Bad input raises ``FleetError`` naming the file and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcloud.facade import Cloud


class FleetError(ValueError):
    """A fleet file that cannot be built: ``<file>: <field>: <why>``."""


@dataclass
class FleetSummary:
    instances: dict[str, list[str]] = field(default_factory=dict)  # group name -> instance ids
    load_balancers: dict[str, str] = field(default_factory=dict)  # lb name -> lb id
    vserver_groups: dict[str, str] = field(default_factory=dict)  # "lb/group" -> group id
    albs: dict[str, str] = field(default_factory=dict)  # ALB name -> id
    nlbs: dict[str, str] = field(default_factory=dict)  # NLB name -> id
    server_groups: dict[str, str] = field(default_factory=dict)  # "alb/NAME" or "nlb/NAME" -> ALB/NLB group id

    @property
    def instance_ids(self) -> list[str]:
        return [i for ids in self.instances.values() for i in ids]

    def describe(self) -> str:
        groups = ", ".join(f"{name}: {len(ids)}" for name, ids in self.instances.items())
        lbs = len(self.load_balancers) + len(self.albs) + len(self.nlbs)
        return f"{len(self.instance_ids)} instances ({groups}), {lbs} load balancers"


class _Reader:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, why: str) -> FleetError:
        return FleetError(f"{self.origin}: {where}: {why}")

    def items(self, doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = doc.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be a list of mappings")
        return value

    def name(self, item: dict[str, Any], where: str) -> str:
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise self.fail(f"{where}.name", "required, a non-empty string")
        return name

    def integer(self, item: dict[str, Any], key: str, where: str, *, default: int, lo: int, hi: int) -> int:
        value = item.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise self.fail(f"{where}.{key}", f"must be an integer from {lo} to {hi}")
        return value


def _read(source: str | Path | dict[str, Any]) -> tuple[dict[str, Any], str]:
    if isinstance(source, dict):
        return source, "<fleet>"
    try:
        import yaml
    except ImportError:  # the deployed package leaves it out: it is the localcloud extra
        raise FleetError(f"{source}: reading a fleet file needs PyYAML: pip install 'ecs-events[localcloud]'") from None

    path = Path(source)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FleetError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise FleetError(f"{path}: {_yaml_problem(exc)}") from None
    if not isinstance(doc, dict):
        raise FleetError(f"{path}: top level must be a mapping with instances / load_balancers")
    return doc, str(path)


def _yaml_problem(exc: Exception) -> str:
    """One line: where (1-based line and column) and what, from PyYAML's several-line message."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"not valid YAML{where}: {' '.join(str(problem).split())}"


def load_fleet(cloud: Cloud, source: str | Path | dict[str, Any], running: bool = True) -> FleetSummary:
    """Build the fleet; with ``running`` and a manual clock, advance it until the instances are Running."""
    doc, origin = _read(source)
    reader = _Reader(origin)
    summary = FleetSummary()
    client = cloud.acs_client()
    for n, item in enumerate(reader.items(doc, "instances")):
        where = f"instances[{n}]"
        name = reader.name(item, where)
        if name in summary.instances:
            raise reader.fail(f"{where}.name", f"duplicate group {name!r}")
        summary.instances[name] = _run_group(client, reader, item, name, where)
    for n, item in enumerate(reader.items(doc, "load_balancers")):
        _build_lb(cloud, reader, summary, item, f"load_balancers[{n}]")
    for kind in ("albs", "nlbs"):
        _build_server_group_lbs(cloud, reader, summary, doc, kind)
    if running and cloud.ctx.clock.manual:
        cloud.advance(cloud.ecs.delays.create + cloud.ecs.delays.start)
    return summary


def _run_group(client: Any, reader: _Reader, item: dict[str, Any], name: str, where: str) -> list[str]:
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkecs.request.v20140526.RunInstancesRequest import RunInstancesRequest

    count = reader.integer(item, "count", where, default=1, lo=1, hi=100)
    tags = item.get("tags") or {}
    if not isinstance(tags, dict):
        raise reader.fail(f"{where}.tags", "must be a mapping of key: value")
    disks = item.get("disks") or []
    if not isinstance(disks, list) or not all(isinstance(d, dict) for d in disks):
        raise reader.fail(f"{where}.disks", "must be a list of {size, category} mappings")
    ids: list[str] = []
    for i in range(count):
        request = RunInstancesRequest()
        request.set_Amount(1)
        request.set_InstanceName(f"{name}-{i + 1}" if count > 1 else name)
        request.set_InstanceType(str(item.get("type", "ecs.g6.large")))
        request.set_ImageId(str(item.get("image", "aliyun_3_x64_20G_alibase_20240819.vhd")))
        if tags:
            request.set_Tags([{"Key": str(k), "Value": str(v)} for k, v in tags.items()])
        if disks:
            request.set_DataDisks(
                [{"Size": d.get("size", 40), "Category": d.get("category", "cloud_essd")} for d in disks]
            )
        if item.get("preemptible"):
            request.set_SpotStrategy("SpotAsPriceGo")
        try:
            body = json.loads(client.do_action_with_exception(request))
        except ServerException as exc:  # a value the API refused (disk size, category...)
            raise reader.fail(where, f"{exc.get_error_code()}: {exc.get_error_msg()}") from None
        ids.extend(body["InstanceIdSets"]["InstanceIdSet"])
    return ids


def _members(
    reader: _Reader, summary: FleetSummary, backends: Any, where: str, ports: bool
) -> list[tuple[str, int, int]]:
    if not isinstance(backends, list):
        raise reader.fail(where, "must be a list of {instances, weight} mappings")
    out: list[tuple[str, int, int]] = []
    for n, spec in enumerate(backends):
        at = f"{where}[{n}]"
        if not isinstance(spec, dict):
            raise reader.fail(at, "must be a mapping")
        group = spec.get("instances")
        if group not in summary.instances:
            raise reader.fail(f"{at}.instances", f"no instance group named {group!r}")
        weight = reader.integer(spec, "weight", at, default=100, lo=0, hi=100)
        port = reader.integer(spec, "port", at, default=80, lo=1, hi=65535) if ports else 0
        out.extend((instance_id, port, weight) for instance_id in summary.instances[str(group)])
    return out


def _build_lb(cloud: Cloud, reader: _Reader, summary: FleetSummary, item: dict[str, Any], where: str) -> None:
    name = reader.name(item, where)
    account, region = cloud.account_id, cloud.region_id
    lb_id = cloud.slb.create_load_balancer(account, region, name=name)
    summary.load_balancers[name] = lb_id
    members = _members(reader, summary, item.get("backends") or [], f"{where}.backends", ports=False)
    for start in range(0, len(members), 20):  # AddBackendServers takes at most 20 at a time
        chunk = members[start : start + 20]
        cloud.slb.add_backend_servers(account, region, lb_id, [(sid, weight) for sid, _, weight in chunk])
    for n, group in enumerate(reader.items(item, "vserver_groups")):
        at = f"{where}.vserver_groups[{n}]"
        group_name = reader.name(group, at)
        servers = _members(reader, summary, group.get("backends") or [], f"{at}.backends", ports=True)
        group_id = cloud.slb.create_vserver_group(account, region, lb_id, group_name, servers)
        summary.vserver_groups[f"{name}/{group_name}"] = group_id


def _build_server_group_lbs(
    cloud: Cloud, reader: _Reader, summary: FleetSummary, doc: dict[str, Any], kind: str
) -> None:
    """``albs:`` / ``nlbs:``: every load balancer and server group first, then the listeners, which may name a
    group declared under another load balancer of the same kind."""
    service = cloud.alb if kind == "albs" else cloud.nlb
    prefix = kind[:-1]
    account, region = cloud.account_id, cloud.region_id
    names = summary.albs if kind == "albs" else summary.nlbs
    items = reader.items(doc, kind)
    for n, item in enumerate(items):
        where = f"{kind}[{n}]"
        name = reader.name(item, where)
        if name in names:
            raise reader.fail(f"{where}.name", f"duplicate load balancer {name!r}")
        names[name] = service.create_load_balancer(account, region, name)
        for m, group in enumerate(reader.items(item, "server_groups")):
            at = f"{where}.server_groups[{m}]"
            group_name = reader.name(group, at)
            key = f"{prefix}/{group_name}"
            if key in summary.server_groups:
                raise reader.fail(f"{at}.name", f"duplicate server group {group_name!r}")
            drain = _mapping(reader, group, "connection_drain", at)
            health = _mapping(reader, group, "health_check", at)
            group_id = service.create_server_group(
                account,
                region,
                group_name,
                drain_enabled=_flag(reader, drain, "enabled", f"{at}.connection_drain"),
                drain_timeout=reader.integer(drain, "timeout", f"{at}.connection_drain", default=300, lo=0, hi=900),
                health_check=_flag(reader, health, "enabled", f"{at}.health_check", default=True),
                health_interval=reader.integer(health, "interval", f"{at}.health_check", default=2, lo=1, hi=50)
                if "interval" in health
                else None,
                healthy_threshold=reader.integer(
                    health, "healthy_threshold", f"{at}.health_check", default=3, lo=2, hi=10
                )
                if "healthy_threshold" in health
                else None,
            )
            summary.server_groups[key] = group_id
            members = _members(reader, summary, group.get("backends") or [], f"{at}.backends", ports=True)
            service.place_servers(account, region, group_id, members)
    for n, item in enumerate(items):
        where = f"{kind}[{n}]"
        lb_id = names[str(item["name"])]
        for m, listener in enumerate(reader.items(item, "listeners")):
            at = f"{where}.listeners[{m}]"
            port = reader.integer(listener, "port", at, default=0, lo=1, hi=65535)
            refs = listener.get("server_groups") if kind == "albs" else [listener.get("server_group")]
            if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
                field_name = "server_groups" if kind == "albs" else "server_group"
                raise reader.fail(f"{at}.{field_name}", "required: the name(s) of server groups declared in " + kind)
            group_ids = []
            for ref in refs:
                if f"{prefix}/{ref}" not in summary.server_groups:
                    raise reader.fail(at, f"no {prefix.upper()} server group named {ref!r}")
                group_ids.append(summary.server_groups[f"{prefix}/{ref}"])
            service.create_listener(account, region, lb_id, port, group_ids)


def _mapping(reader: _Reader, item: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = item.get(key) or {}
    if not isinstance(value, dict):
        raise reader.fail(f"{where}.{key}", "must be a mapping")
    return value


def _flag(reader: _Reader, item: dict[str, Any], key: str, where: str, default: bool = False) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise reader.fail(f"{where}.{key}", "must be true or false")
    return value
