"""``LbService``: an RpcService for one server-group load balancer product (``AlbService``: ALB 2020-06-16; NLB's
is ``localcloud.nlb.NlbService``), plus the in-process API the fleet loader, the control API and tests use.

State changes run under the scheduler's lock (as ECS does): job completions are scheduled tasks, and health reads
ECS instances, so one lock order for everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from localcloud.alb import exceptions as exc
from localcloud.alb.models import ALB, Flavor, InstanceView, LbBackend, ServerSpec
from localcloud.alb.responses import ACTIONS, Handler
from localcloud.core import CloudContext
from localcloud.rpc import RpcCall

# (account_id, region_id, instance_id) -> the ECS instance, None when there is none
EcsLookup = Callable[[str, str, str], "InstanceView | None"]


class LbService:
    flavor: Flavor = ALB
    product = "Alb"
    version = "2020-06-16"
    actions: dict[str, Handler] = ACTIONS

    def __init__(self, ctx: CloudContext, ecs: EcsLookup) -> None:
        self.ctx = ctx
        self.ecs = ecs
        self.job_seconds = 5.0
        self._backends: dict[tuple[str, str], LbBackend] = {}

    def reset(self) -> None:
        with self.ctx.scheduler.lock:
            self._backends.clear()
            self.job_seconds = 5.0

    def backend(self, account_id: str, region_id: str | None = None) -> LbBackend:
        key = (account_id, region_id or self.ctx.region_id)
        with self.ctx.scheduler.lock:
            found = self._backends.get(key)
            if found is None:
                account, region = key
                found = LbBackend(
                    self.flavor,
                    account_id=account,
                    region_id=region,
                    ids=self.ctx.ids,
                    schedule=self._schedule,
                    instance=lambda instance_id: self.ecs(account, region, instance_id),
                    now=self.ctx.clock.now,
                )
                self._backends[key] = found
            found.job_seconds = self.job_seconds
            return found

    def _schedule(self, seconds: float, fn: Callable[[], None]) -> None:
        self.ctx.scheduler.call_later(seconds, fn, f"{self.product} job")

    def handle(self, call: RpcCall) -> dict[str, Any]:
        handler = self.actions.get(call.action)
        if handler is None:
            raise exc.unknown_action(call.action)
        with self.ctx.scheduler.lock:
            return handler(self.backend(call.account_id, call.region_id), call.params)

    # -- in-process API ------------------------------------------------------------------------------------------

    def create_load_balancer(self, account_id: str, region_id: str, name: str, **kwargs: Any) -> str:
        with self.ctx.scheduler.lock:
            return self.backend(account_id, region_id).create_load_balancer(name, **kwargs)

    def create_server_group(self, account_id: str, region_id: str, name: str, **kwargs: Any) -> str:
        """``kwargs``: vpc_id, drain_enabled, drain_timeout, health_check, health_interval, healthy_threshold."""
        with self.ctx.scheduler.lock:
            return self.backend(account_id, region_id).create_server_group(name, **kwargs)

    def create_listener(
        self, account_id: str, region_id: str, lb_id: str, port: int, group_ids: list[str], *, protocol: str = ""
    ) -> str:
        with self.ctx.scheduler.lock:
            return self.backend(account_id, region_id).create_listener(lb_id, port, group_ids, protocol)

    def place_servers(
        self, account_id: str, region_id: str, group_id: str, servers: Iterable[tuple[str, int, int]]
    ) -> None:
        """Put ``(instance_id, port, weight)`` ECS members in a group, Available at once (a fleet's start)."""
        specs = [ServerSpec(sid, "Ecs", port, weight) for sid, port, weight in servers]
        with self.ctx.scheduler.lock:
            self.backend(account_id, region_id).place(group_id, specs)

    def members(self, account_id: str, region_id: str, group_id: str) -> dict[tuple[str, int], tuple[int, str]]:
        """``{(server_id, port): (weight, status)}`` of a group."""
        with self.ctx.scheduler.lock:
            group = self.backend(account_id, region_id).get_group(group_id)
            return {key: (m.weight, m.status) for key, m in group.members.items()}

    def set_job_seconds(self, seconds: float) -> None:
        """How long member changes stay Adding/Configuring/Removing (default 5 s of the cloud's clock)."""
        if seconds < 0:
            raise ValueError("job seconds must be >= 0")
        with self.ctx.scheduler.lock:
            self.job_seconds = seconds
            for backend in self._backends.values():
                backend.job_seconds = seconds

    def state(self) -> dict[str, Any]:
        """Everything, for the control API: load balancers, listeners, server groups with members and health."""
        with self.ctx.scheduler.lock:
            out: dict[str, Any] = {"load_balancers": [], "listeners": [], "server_groups": []}
            for (account, region), b in self._backends.items():
                where = {"account_id": account, "region_id": region}
                out["load_balancers"] += [
                    {"id": lb.lb_id, "name": lb.name, "status": lb.status, **where} for lb in b.load_balancers.values()
                ]
                out["listeners"] += [
                    {
                        "id": lsn.listener_id,
                        "load_balancer_id": lsn.lb_id,
                        "port": lsn.port,
                        "server_groups": lsn.group_ids,
                    }
                    for lsn in b.listeners.values()
                ]
                for g in b.groups.values():
                    health = {(h.member.server_id, h.member.port): h.status for h in b.health(g)}
                    out["server_groups"].append(
                        {
                            "id": g.group_id,
                            "name": g.name,
                            "status": g.status,
                            "load_balancers": b.related_lbs(g.group_id),
                            "connection_drain": {"enabled": g.drain_enabled, "timeout": g.drain_timeout},
                            "servers": [
                                {
                                    "server_id": m.server_id,
                                    "port": m.port,
                                    "weight": m.weight,
                                    "status": m.status,
                                    "health": health[key],
                                }
                                for key, m in g.members.items()
                            ],
                            **where,
                        }
                    )
            return out


class AlbService(LbService):
    """ALB 2020-06-16."""
