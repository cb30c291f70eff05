"""Classic SLB state and transitions: load balancers, their default backend servers and their VServer groups.

One ``SlbBackend`` per (account, region). Every transition lives here and validates what it is given; the wire
layer (``responses``) only reads parameters and shapes output.

Backend servers are not checked against ECS: any well-formed id of the declared type is accepted (``i-...`` for
``ecs``, ``eni-...`` for ``eni``, ``eci-...`` for ``eci``), so SLB never reaches into ECS internals. A malformed id
answers ``InvalidServerId.NotFound`` as the real API does for an instance it cannot find.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from localcloud.core import IdFactory
from localcloud.slb import exceptions as exc

K = TypeVar("K")
MAX_BACKENDS_PER_CALL = 20
SERVER_TYPES = ("ecs", "eni", "eci")
_ID_SHAPES = {t: re.compile(rf"^{t if t != 'ecs' else 'i'}-[a-z0-9]{{6,40}}$") for t in SERVER_TYPES}


@dataclass(frozen=True)
class BackendSpec:
    """One entry of a ``BackendServers`` JSON list, already typed. ``weight``/``port`` are None when absent."""

    server_id: str
    weight: int | None = None
    type: str = "ecs"
    description: str = ""
    port: int | None = None
    server_ip: str = ""

    def validate(self) -> None:
        if self.type not in SERVER_TYPES:
            raise exc.invalid_parameter("BackendServers.Type", self.type, f"must be one of {', '.join(SERVER_TYPES)}")
        if self.weight is not None and not 0 <= self.weight <= 100:
            raise exc.invalid_parameter("BackendServers.Weight", self.weight, "must be between 0 and 100")
        if self.port is not None and not 1 <= self.port <= 65535:
            raise exc.invalid_parameter("BackendServers.Port", self.port, "must be between 1 and 65535")
        if len(self.description) > 80:
            raise exc.invalid_parameter("BackendServers.Description", self.description, "at most 80 characters")


@dataclass
class BackendServer:
    server_id: str
    weight: int
    type: str = "ecs"
    description: str = ""
    port: int | None = None  # set for VServer group members only
    server_ip: str = ""


@dataclass
class VServerGroup:
    group_id: str
    name: str
    lb_id: str
    create_time: datetime
    members: dict[tuple[str, int], BackendServer] = field(default_factory=dict)


@dataclass
class LoadBalancer:
    lb_id: str
    name: str
    region_id: str
    address: str
    address_type: str
    network_type: str
    vpc_id: str
    vswitch_id: str
    spec: str
    bandwidth: int
    internet_charge_type: str
    pay_type: str
    create_time: datetime
    master_zone_id: str
    slave_zone_id: str
    resource_group_id: str
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "active"
    backends: dict[str, BackendServer] = field(default_factory=dict)
    group_ids: list[str] = field(default_factory=list)
    configuring_calls: int = 0  # injected: the next N mutating calls answer BackendServer.configuring


def check_batch(specs: list[BackendSpec], *, need_port: bool) -> list[BackendSpec]:
    """Validate a request's list; keep the first of identical servers (as the real API does)."""
    if len(specs) > MAX_BACKENDS_PER_CALL:
        raise exc.invalid_parameter("BackendServers", len(specs), f"at most {MAX_BACKENDS_PER_CALL} servers per call")
    seen: set[tuple[str, int | None]] = set()
    kept: list[BackendSpec] = []
    for spec in specs:
        spec.validate()
        if need_port and spec.port is None:
            raise exc.missing_parameter("BackendServers.Port")
        key = (spec.server_id, spec.port if need_port else None)
        if key not in seen:
            seen.add(key)
            kept.append(spec)
    return kept


def check_server_shape(spec: BackendSpec) -> None:
    if not _ID_SHAPES[spec.type].match(spec.server_id):
        raise exc.invalid_server_id(spec.server_id)


class SlbBackend:
    """The load balancers and VServer groups of one account in one region."""

    def __init__(self, account_id: str, region_id: str, ids: IdFactory) -> None:
        self.account_id = account_id
        self.region_id = region_id
        self.ids = ids
        self.load_balancers: dict[str, LoadBalancer] = {}
        self.groups: dict[str, VServerGroup] = {}
        self._addresses = 0

    # -- load balancers -------------------------------------------------------------------------------------------

    def create_load_balancer(
        self,
        now: datetime,
        *,
        name: str = "",
        address_type: str = "internet",
        vswitch_id: str = "",
        vpc_id: str = "",
        spec: str = "",
        bandwidth: int = 5120,
        internet_charge_type: str = "paybytraffic",
        pay_type: str = "PayOnDemand",
        master_zone_id: str = "",
        slave_zone_id: str = "",
        resource_group_id: str = "",
        address: str = "",
        tags: dict[str, str] | None = None,
    ) -> LoadBalancer:
        if address_type not in ("internet", "intranet"):
            raise exc.invalid_parameter("AddressType", address_type, "must be internet or intranet")
        if len(name) > 80:
            raise exc.invalid_parameter("LoadBalancerName", name, "at most 80 characters")
        if spec and not spec.startswith("slb."):
            raise exc.invalid_parameter("LoadBalancerSpec", spec)
        lb_id = self.ids.new("lb")
        network_type = "vpc" if vswitch_id else "classic"
        if vswitch_id and not vpc_id:
            vpc_id = self.ids.new("vpc")
        lb = LoadBalancer(
            lb_id=lb_id,
            name=name or f"auto_named_slb_{lb_id[-6:]}",
            region_id=self.region_id,
            address=address or self._next_address(address_type),
            address_type=address_type,
            network_type=network_type,
            vpc_id=vpc_id,
            vswitch_id=vswitch_id,
            spec=spec,
            bandwidth=bandwidth,
            internet_charge_type=internet_charge_type,
            pay_type=pay_type,
            create_time=now,
            master_zone_id=master_zone_id or f"{self.region_id}-b",
            slave_zone_id=slave_zone_id or f"{self.region_id}-d",
            resource_group_id=resource_group_id or "rg-acfm" + lb_id[-10:],
            tags=dict(tags or {}),
        )
        self.load_balancers[lb_id] = lb
        return lb

    def _next_address(self, address_type: str) -> str:
        self._addresses += 1
        n = self._addresses
        if address_type == "intranet":
            return f"172.16.{n // 250}.{n % 250 + 1}"
        return f"47.96.{n // 250}.{n % 250 + 1}"

    def get(self, lb_id: str) -> LoadBalancer:
        lb = self.load_balancers.get(lb_id)
        if lb is None:
            raise exc.load_balancer_not_found(lb_id)
        return lb

    def delete_load_balancer(self, lb_id: str) -> None:
        lb = self._begin_change(lb_id)
        for group_id in lb.group_ids:
            self.groups.pop(group_id, None)
        del self.load_balancers[lb_id]

    def describe(
        self,
        lb_ids: list[str] | None = None,
        server_id: str = "",
        tags: dict[str, str] | None = None,
        **equals: str,
    ) -> list[LoadBalancer]:
        """Load balancers matching every filter given, in creation order. ``equals`` maps attribute names to exact
        values. ``server_id`` matches a default backend or a member of any of the load balancer's VServer groups:
        the reference only says "the backend server added to the CLB instance", and drain tools in the wild list
        load balancers by ServerId and then look for the server in their VServer groups, so both count."""
        found = []
        for lb in self.load_balancers.values():
            if lb_ids is not None and lb.lb_id not in lb_ids:
                continue
            if server_id and not self._has_server(lb, server_id):
                continue
            if tags and any(lb.tags.get(k) != v for k, v in tags.items()):
                continue
            if any(value and getattr(lb, attr) != value for attr, value in equals.items()):
                continue
            found.append(lb)
        return found

    def _has_server(self, lb: LoadBalancer, server_id: str) -> bool:
        if server_id in lb.backends:
            return True
        return any(sid == server_id for gid in lb.group_ids for sid, _ in self.groups[gid].members)

    def set_configuring(self, lb_id: str, calls: int) -> None:
        self.get(lb_id).configuring_calls = max(0, calls)

    def _begin_change(self, lb_id: str) -> LoadBalancer:
        lb = self.get(lb_id)
        if lb.configuring_calls > 0:
            lb.configuring_calls -= 1
            raise exc.backend_configuring()
        return lb

    # -- default server group --------------------------------------------------------------------------------------

    def add_backend_servers(self, lb_id: str, specs: list[BackendSpec]) -> LoadBalancer:
        lb = self._begin_change(lb_id)
        specs = check_batch(specs, need_port=False)
        for spec in specs:
            check_server_shape(spec)
            if spec.server_id in lb.backends:
                raise exc.backend_already_exists(spec.server_id)
        for spec in specs:
            lb.backends[spec.server_id] = _server(spec)
        return lb

    def remove_backend_servers(self, lb_id: str, specs: list[BackendSpec]) -> LoadBalancer:
        lb = self._begin_change(lb_id)
        specs = check_batch(specs, need_port=False)
        _require(lb.backends, [s.server_id for s in specs])
        for spec in specs:
            del lb.backends[spec.server_id]
        return lb

    def set_backend_servers(self, lb_id: str, specs: list[BackendSpec]) -> LoadBalancer:
        """Change weights (and descriptions) of existing backends; an absent Weight means 100, as documented."""
        lb = self._begin_change(lb_id)
        specs = check_batch(specs, need_port=False)
        _require(lb.backends, [s.server_id for s in specs])
        for spec in specs:
            _reweigh(lb.backends[spec.server_id], spec)
        return lb

    # -- VServer groups --------------------------------------------------------------------------------------------

    def create_vserver_group(self, now: datetime, lb_id: str, name: str, specs: list[BackendSpec]) -> VServerGroup:
        lb = self._begin_change(lb_id)
        specs = check_batch(specs, need_port=True)
        _check_name(name)
        for spec in specs:
            check_server_shape(spec)
        group_id = self.ids.new("rsp", length=10, infix="")
        group = VServerGroup(group_id, name or group_id, lb_id, now)
        for spec in specs:
            group.members[(spec.server_id, _port(spec))] = _server(spec)
        self.groups[group_id] = group
        lb.group_ids.append(group_id)
        return group

    def get_group(self, group_id: str) -> VServerGroup:
        group = self.groups.get(group_id)
        if group is None:
            raise exc.vserver_group_not_found(group_id)
        return group

    def groups_of(self, lb_id: str) -> list[VServerGroup]:
        return [self.groups[g] for g in self.get(lb_id).group_ids]

    def delete_vserver_group(self, group_id: str) -> None:
        group = self.get_group(group_id)
        lb = self._begin_change(group.lb_id)
        lb.group_ids.remove(group_id)
        del self.groups[group_id]

    def add_group_servers(self, group_id: str, specs: list[BackendSpec]) -> VServerGroup:
        group = self.get_group(group_id)
        self._begin_change(group.lb_id)
        specs = check_batch(specs, need_port=True)
        for spec in specs:
            check_server_shape(spec)
            if (spec.server_id, _port(spec)) in group.members:
                raise exc.backend_already_exists(f"{spec.server_id}:{spec.port}")
        for spec in specs:
            group.members[(spec.server_id, _port(spec))] = _server(spec)
        return group

    def remove_group_servers(self, group_id: str, specs: list[BackendSpec]) -> VServerGroup:
        group = self.get_group(group_id)
        self._begin_change(group.lb_id)
        specs = check_batch(specs, need_port=True)
        _require(group.members, [(s.server_id, _port(s)) for s in specs])
        for spec in specs:
            del group.members[(spec.server_id, _port(spec))]
        return group

    def set_group_attribute(self, group_id: str, name: str | None, specs: list[BackendSpec]) -> VServerGroup:
        """Rename the group and/or change weights of existing members (identified by ServerId and Port)."""
        group = self.get_group(group_id)
        self._begin_change(group.lb_id)
        specs = check_batch(specs, need_port=True)
        if name is not None:
            _check_name(name)
        _require(group.members, [(s.server_id, _port(s)) for s in specs])
        if name:
            group.name = name
        for spec in specs:
            _reweigh(group.members[(spec.server_id, _port(spec))], spec)
        return group


def _server(spec: BackendSpec) -> BackendServer:
    weight = 100 if spec.weight is None else spec.weight
    return BackendServer(spec.server_id, weight, spec.type, spec.description, spec.port, spec.server_ip)


def _port(spec: BackendSpec) -> int:
    assert spec.port is not None  # check_batch(need_port=True) guarantees it
    return spec.port


def _reweigh(server: BackendServer, spec: BackendSpec) -> None:
    server.weight = 100 if spec.weight is None else spec.weight
    if spec.description:
        server.description = spec.description


def _require(members: Mapping[K, BackendServer], keys: list[K]) -> None:
    for key in keys:
        if key not in members:
            server_id = key[0] if isinstance(key, tuple) else key
            raise exc.invalid_server_id(str(server_id))


def _check_name(name: str) -> None:
    if len(name) > 80:
        raise exc.invalid_parameter("VServerGroupName", name, "at most 80 characters")
