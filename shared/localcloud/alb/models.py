"""Server-group load balancers (ALB 2020-06-16, NLB 2022-04-30): state and transitions.

Both products share one model, told apart by a ``Flavor`` (id prefixes, error spelling, per-call limits, health
statuses): load balancers, listeners that forward to server groups, server groups of members (server id + port),
and the asynchronous jobs every member change starts. One ``LbBackend`` per product, account and region.

Async jobs, as the real APIs document them: Add/Remove/UpdateServerGroupServersAttribute return a ``JobId`` at once;
the members pass through ``Adding`` / ``Removing`` / ``Configuring`` and the group is ``Configuring`` until the job
ends ``job_seconds`` later on the cloud's clock; then members are ``Available`` (removed ones are gone), the group is
``Available`` and the job ``Succeeded``. Another member change on a configuring group is refused with
``IncorrectStatus.ServerGroup`` (NLB ``IncorrectStatus.serverGroup``). A repeated ``ClientToken`` answers the first
call's job again. Weights show their new value from the call on.

Health (GetListenerHealthStatus) follows ECS: a member is healthy once it is ``Available``, its instance is Running
and ``interval * healthy_threshold`` seconds have passed since both; before that it is ``Initial``. A member whose
instance is not Running (stopped, released) is ``Unhealthy``; with health checks off every member is
``Unavailable``; on ALB a member of weight 0 is ``Unused``. Connection drain settings are stored and reported only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from localcloud.alb import exceptions as exc
from localcloud.core import IdFactory

ASYNC_APIS = ("AddServersToServerGroup", "RemoveServersFromServerGroup", "UpdateServerGroupServersAttribute")


@dataclass(frozen=True)
class Flavor:
    product: str  # "Alb" / "Nlb": the call log's product
    lb_prefix: str
    spelling: exc.Spelling
    server_types: tuple[str, ...]
    max_add: int
    max_update: int
    max_remove: int
    port_required: bool  # ALB: Port is required for Ecs/Eni/Eci/Ip; NLB: absent means 0 (all-port groups)
    unused_when_weight_zero: bool  # ALB reports weight-0 members as Unused; NLB has no such status
    protocol: str
    health_interval: int
    healthy_threshold: int
    unhealthy_threshold: int


ALB = Flavor(
    product="Alb",
    lb_prefix="alb",
    spelling=exc.ALB_SPELLING,
    server_types=("Ecs", "Eni", "Eci", "Ip", "Fc"),
    max_add=200,
    max_update=40,
    max_remove=200,
    port_required=True,
    unused_when_weight_zero=True,
    protocol="HTTP",
    health_interval=2,
    healthy_threshold=3,
    unhealthy_threshold=3,
)
NLB = Flavor(
    product="Nlb",
    lb_prefix="nlb",
    spelling=exc.NLB_SPELLING,
    server_types=("Ecs", "Eni", "Eci", "Ip"),
    max_add=200,
    max_update=200,
    max_remove=200,
    port_required=False,
    unused_when_weight_zero=False,
    protocol="TCP",
    health_interval=10,
    healthy_threshold=2,
    unhealthy_threshold=2,
)


class InstanceView(Protocol):
    """What the load balancer sees of an ECS instance."""

    status: str
    start_time: datetime | None
    private_ip: str


InstanceLookup = Callable[[str], "InstanceView | None"]


@dataclass(frozen=True)
class ServerSpec:
    """One ``Servers.N`` entry of a request, typed; ``weight``/``port`` None when absent."""

    server_id: str
    server_type: str
    port: int | None = None
    weight: int | None = None
    description: str | None = None
    server_ip: str = ""


@dataclass
class Member:
    server_id: str
    server_type: str
    port: int
    weight: int
    description: str
    server_ip: str
    status: str = "Available"  # Adding | Available | Configuring | Removing
    available_at: datetime | None = None


@dataclass
class HealthCheck:
    enabled: bool = True
    interval: int = 2
    healthy_threshold: int = 3
    unhealthy_threshold: int = 3


@dataclass
class ServerGroup:
    group_id: str
    name: str
    vpc_id: str
    protocol: str
    create_time: datetime
    health: HealthCheck
    drain_enabled: bool = False
    drain_timeout: int = 300
    status: str = "Available"  # Available | Configuring
    members: dict[tuple[str, int], Member] = field(default_factory=dict)


@dataclass
class Listener:
    listener_id: str
    lb_id: str
    port: int
    protocol: str
    group_ids: list[str]
    description: str = ""
    status: str = "Running"


@dataclass
class LoadBalancer:
    lb_id: str
    name: str
    vpc_id: str
    address_type: str
    create_time: datetime
    zones: list[str]
    dns_name: str
    status: str = "Active"


@dataclass
class Job:
    job_id: str
    api_name: str
    group_id: str
    create_time: datetime
    status: str = "Processing"  # Processing | Succeeded
    modify_time: datetime | None = None
    keys: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Health:
    """One member's health as GetListenerHealthStatus reports it; ``healthy`` members are left out of it."""

    member: Member
    status: str  # Healthy | Initial | Unhealthy | Unused | Unavailable
    reason: str = ""

    @property
    def healthy(self) -> bool:
        return self.status == "Healthy"


class LbBackend:
    """The load balancers, listeners, server groups and jobs of one product in one account and region.
    ``schedule(seconds, fn)`` runs ``fn`` on the cloud's clock; ``instance(id)`` reads ECS."""

    def __init__(
        self,
        flavor: Flavor,
        *,
        account_id: str,
        region_id: str,
        ids: IdFactory,
        schedule: Callable[[float, Callable[[], None]], None],
        instance: InstanceLookup,
        now: Callable[[], datetime],
    ) -> None:
        self.flavor = flavor
        self.account_id = account_id
        self.region_id = region_id
        self.ids = ids
        self.schedule = schedule
        self.instance = instance
        self.now = now
        self.job_seconds = 5.0
        self.load_balancers: dict[str, LoadBalancer] = {}
        self.listeners: dict[str, Listener] = {}
        self.groups: dict[str, ServerGroup] = {}
        self.jobs: dict[str, Job] = {}
        self._tokens: dict[tuple[str, str], Job] = {}

    # -- building (in-process: fleets, tests) -------------------------------------------------------------------

    def create_load_balancer(self, name: str, vpc_id: str = "", address_type: str = "Intranet") -> str:
        if address_type not in ("Internet", "Intranet"):
            raise exc.illegal("AddressType", address_type, "must be Internet or Intranet")
        lb_id = self.ids.new(self.flavor.lb_prefix, length=18, infix="")
        zones = [f"{self.region_id}-h", f"{self.region_id}-i"]
        dns = f"{lb_id}.{self.region_id}.{self.flavor.lb_prefix}.aliyuncsslbintl.com"
        self.load_balancers[lb_id] = LoadBalancer(
            lb_id, name or lb_id, vpc_id or self._vpc(), address_type, self.now(), zones, dns
        )
        return lb_id

    def _vpc(self) -> str:
        return self.ids.new("vpc", length=18, infix="")

    def create_server_group(
        self,
        name: str,
        *,
        vpc_id: str = "",
        drain_enabled: bool = False,
        drain_timeout: int = 300,
        health_check: bool = True,
        health_interval: int | None = None,
        healthy_threshold: int | None = None,
    ) -> str:
        if not 0 <= drain_timeout <= 900:
            raise exc.illegal("ConnectionDrainTimeout", drain_timeout, "must be from 0 to 900")
        f = self.flavor
        health = HealthCheck(
            enabled=health_check,
            interval=health_interval if health_interval is not None else f.health_interval,
            healthy_threshold=healthy_threshold if healthy_threshold is not None else f.healthy_threshold,
            unhealthy_threshold=f.unhealthy_threshold,
        )
        if not 1 <= health.interval <= 50 or not 2 <= health.healthy_threshold <= 10:
            raise exc.illegal("HealthCheckConfig", (health.interval, health.healthy_threshold))
        group_id = self.ids.new("sgp", length=18, infix="")
        if not vpc_id:
            first = next(iter(self.load_balancers.values()), None)
            vpc_id = first.vpc_id if first is not None else self._vpc()
        self.groups[group_id] = ServerGroup(
            group_id, name, vpc_id, f.protocol, self.now(), health, drain_enabled, drain_timeout
        )
        return group_id

    def create_listener(self, lb_id: str, port: int, group_ids: list[str], protocol: str = "") -> str:
        self.get_lb(lb_id)
        for group_id in group_ids:
            self.get_group(group_id)
        if not 1 <= port <= 65535:
            raise exc.illegal("ListenerPort", port, "must be from 1 to 65535")
        if any(lsn.lb_id == lb_id and lsn.port == port for lsn in self.listeners.values()):
            raise exc.listener_exists(port)
        if not group_ids:
            raise exc.missing("ServerGroupId")
        listener_id = self.ids.new("lsn", length=18, infix="")
        self.listeners[listener_id] = Listener(listener_id, lb_id, port, protocol or self.flavor.protocol, group_ids)
        return listener_id

    def place(self, group_id: str, specs: list[ServerSpec]) -> None:
        """Members that are there already (a fleet's starting state): Available at once, no job."""
        group = self.get_group(group_id)
        for spec in self._check(group, specs, self.flavor.max_add, adding=True):
            group.members[(spec.server_id, _port(spec))] = self._member(spec, "Available", self.now())

    # -- lookups -----------------------------------------------------------------------------------------------

    def get_lb(self, lb_id: str) -> LoadBalancer:
        lb = self.load_balancers.get(lb_id)
        if lb is None:
            raise exc.not_found(self.flavor.spelling.load_balancer, lb_id)
        return lb

    def get_listener(self, listener_id: str) -> Listener:
        listener = self.listeners.get(listener_id)
        if listener is None:
            raise exc.not_found(self.flavor.spelling.listener, listener_id)
        return listener

    def get_group(self, group_id: str) -> ServerGroup:
        group = self.groups.get(group_id)
        if group is None:
            raise exc.not_found(self.flavor.spelling.server_group, group_id)
        return group

    def related_lbs(self, group_id: str) -> list[str]:
        """Load balancers with a listener forwarding to the group, in listener order, once each."""
        found = [lsn.lb_id for lsn in self.listeners.values() if group_id in lsn.group_ids]
        return list(dict.fromkeys(found))

    # -- member changes (async) --------------------------------------------------------------------------------

    def add_servers(self, group_id: str, specs: list[ServerSpec], dry_run: bool, token: str) -> Job:
        return self._change("AddServersToServerGroup", group_id, specs, dry_run, token)

    def remove_servers(self, group_id: str, specs: list[ServerSpec], dry_run: bool, token: str) -> Job:
        return self._change("RemoveServersFromServerGroup", group_id, specs, dry_run, token)

    def update_servers(self, group_id: str, specs: list[ServerSpec], dry_run: bool, token: str) -> Job:
        return self._change("UpdateServerGroupServersAttribute", group_id, specs, dry_run, token)

    def _change(self, api: str, group_id: str, specs: list[ServerSpec], dry_run: bool, token: str) -> Job:
        group = self.get_group(group_id)
        if token and (api, token) in self._tokens:
            return self._tokens[(api, token)]
        f = self.flavor
        limit = {ASYNC_APIS[0]: f.max_add, ASYNC_APIS[1]: f.max_remove, ASYNC_APIS[2]: f.max_update}[api]
        specs = self._check(group, specs, limit, adding=api == ASYNC_APIS[0])
        if group.status != "Available":
            raise exc.group_configuring(f.spelling, group_id)
        if dry_run:
            raise exc.dry_run()
        keys = [(s.server_id, _port(s)) for s in specs]
        for spec, key in zip(specs, keys, strict=True):
            if api == ASYNC_APIS[0]:
                group.members[key] = self._member(spec, "Adding", None)
            elif api == ASYNC_APIS[1]:
                group.members[key].status = "Removing"
            else:
                member = group.members[key]
                member.status = "Configuring"
                if spec.weight is not None:
                    member.weight = spec.weight
                if spec.description is not None:
                    member.description = spec.description
        group.status = "Configuring"
        job = Job(self.ids.uuid().lower(), api, group_id, self.now(), keys=keys)
        self.jobs[job.job_id] = job
        if token:
            self._tokens[(api, token)] = job
        self.schedule(self.job_seconds, lambda: self._finish(job))
        return job

    def _finish(self, job: Job) -> None:
        group = self.groups.get(job.group_id)
        job.status, job.modify_time = "Succeeded", self.now()
        if group is None:
            return
        for key in job.keys:
            member = group.members.get(key)
            if member is None:
                continue
            if member.status == "Removing":
                del group.members[key]
            else:
                if member.status == "Adding":
                    member.available_at = job.modify_time
                member.status = "Available"
        group.status = "Available"

    def _check(self, group: ServerGroup, specs: list[ServerSpec], limit: int, *, adding: bool) -> list[ServerSpec]:
        f = self.flavor
        if not specs:
            raise exc.missing("Servers")
        if len(specs) > limit:
            raise exc.illegal("Servers", len(specs), f"at most {limit} servers per call")
        seen: set[tuple[str, int]] = set()
        for n, spec in enumerate(specs, start=1):
            if spec.server_type not in f.server_types:
                raise exc.illegal(f"Servers.{n}.ServerType", spec.server_type, f"one of {', '.join(f.server_types)}")
            if spec.port is None and f.port_required and spec.server_type != "Fc":
                raise exc.missing(f"Servers.{n}.Port")
            if spec.port is not None and not (0 if not f.port_required else 1) <= spec.port <= 65535:
                raise exc.illegal(f"Servers.{n}.Port", spec.port, "must be from 1 to 65535")
            if spec.weight is not None and not 0 <= spec.weight <= 100:
                raise exc.illegal(f"Servers.{n}.Weight", spec.weight, "must be from 0 to 100")
            if spec.description is not None and not 2 <= len(spec.description) <= 256:
                raise exc.illegal(f"Servers.{n}.Description", spec.description, "2 to 256 characters")
            key = (spec.server_id, _port(spec))
            if key in seen:
                raise exc.duplicated_server(f"{spec.server_id}:{key[1]}")
            seen.add(key)
            if adding:
                if key in group.members:
                    raise exc.server_exists(f"{spec.server_id}:{key[1]}")
                if spec.server_type == "Ecs" and self.instance(spec.server_id) is None:
                    raise exc.ecs_not_found(spec.server_id)
            else:
                member = group.members.get(key)
                if member is None or member.status == "Removing":
                    raise exc.backend_not_found(f"{spec.server_id}:{key[1]}")
        return specs

    def _member(self, spec: ServerSpec, status: str, now: datetime | None) -> Member:
        ip = spec.server_ip
        if not ip and spec.server_type == "Ecs":
            inst = self.instance(spec.server_id)
            ip = inst.private_ip if inst is not None else ""
        weight = 100 if spec.weight is None else spec.weight
        return Member(spec.server_id, spec.server_type, _port(spec), weight, spec.description or "", ip, status, now)

    # -- health ------------------------------------------------------------------------------------------------

    def health(self, group: ServerGroup) -> list[Health]:
        now = self.now()
        return [self._member_health(group, m, now) for m in group.members.values()]

    def _member_health(self, group: ServerGroup, member: Member, now: datetime) -> Health:
        if not group.health.enabled:
            return Health(member, "Unavailable")
        if member.weight == 0 and self.flavor.unused_when_weight_zero:
            return Health(member, "Unused")
        if member.status == "Adding" or member.available_at is None:
            return Health(member, "Initial")
        ready = member.available_at
        if member.server_type == "Ecs":
            inst = self.instance(member.server_id)
            if inst is None or inst.status != "Running" or inst.start_time is None:
                return Health(member, "Unhealthy", "CONNECT_FAILED")
            ready = max(ready, inst.start_time)
        warmup = timedelta(seconds=group.health.interval * group.health.healthy_threshold)
        if now < ready + warmup:
            return Health(member, "Initial")
        return Health(member, "Healthy")


def _port(spec: ServerSpec) -> int:
    return 0 if spec.port is None else spec.port
