"""``SlbService``: the classic SLB (2014-05-15) RpcService, plus a small in-process API for the rest of localcloud
(the fleet loader builds load balancers with it; tests read weights and inject ``BackendServer.configuring``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from localcloud.core import CloudContext
from localcloud.errors import CloudError
from localcloud.rpc import RpcCall
from localcloud.slb import exceptions as exc
from localcloud.slb.models import BackendSpec, SlbBackend
from localcloud.slb.responses import ACTIONS


class SlbService:
    product = "Slb"
    version = "2014-05-15"

    def __init__(self, ctx: CloudContext) -> None:
        self.ctx = ctx
        self._lock = threading.RLock()
        self._backends: dict[tuple[str, str], SlbBackend] = {}

    def reset(self) -> None:
        with self._lock:
            self._backends.clear()

    def backend(self, account_id: str, region_id: str) -> SlbBackend:
        with self._lock:
            key = (account_id, region_id)
            if key not in self._backends:
                self._backends[key] = SlbBackend(account_id, region_id, self.ctx.ids)
            return self._backends[key]

    def handle(self, call: RpcCall) -> dict[str, Any]:
        handler = ACTIONS.get(call.action)
        if handler is None:
            raise CloudError(
                "InvalidAction.NotFound", f"Specified api {call.action} is not found, please check your url.", 404
            )
        with self._lock:
            return handler(self.backend(call.account_id, call.region_id), call.params, self.ctx.clock.now())

    # -- in-process API --------------------------------------------------------------------------------------------

    def create_load_balancer(
        self, account_id: str, region_id: str, name: str = "", address_type: str = "internet", **kwargs: Any
    ) -> str:
        """Create a load balancer; returns its id. ``kwargs`` as ``SlbBackend.create_load_balancer``."""
        with self._lock:
            backend = self.backend(account_id, region_id)
            lb = backend.create_load_balancer(self.ctx.clock.now(), name=name, address_type=address_type, **kwargs)
            return lb.lb_id

    def add_backend_servers(
        self, account_id: str, region_id: str, lb_id: str, servers: Iterable[tuple[str, int]]
    ) -> None:
        """Attach ``(server_id, weight)`` pairs to the default server group (ECS type)."""
        specs = [BackendSpec(server_id, weight) for server_id, weight in servers]
        with self._lock:
            self.backend(account_id, region_id).add_backend_servers(lb_id, specs)

    def set_backend_weights(
        self, account_id: str, region_id: str, lb_id: str, weights: Iterable[tuple[str, int]]
    ) -> None:
        specs = [BackendSpec(server_id, weight) for server_id, weight in weights]
        with self._lock:
            self.backend(account_id, region_id).set_backend_servers(lb_id, specs)

    def create_vserver_group(
        self, account_id: str, region_id: str, lb_id: str, name: str, servers: Iterable[tuple[str, int, int]]
    ) -> str:
        """Create a VServer group of ``(server_id, port, weight)`` members; returns its id."""
        specs = [BackendSpec(server_id, weight, port=port) for server_id, port, weight in servers]
        with self._lock:
            backend = self.backend(account_id, region_id)
            return backend.create_vserver_group(self.ctx.clock.now(), lb_id, name, specs).group_id

    def backends(self, account_id: str, region_id: str, lb_id: str) -> dict[str, int]:
        """Default server group of a load balancer: ``{server_id: weight}``."""
        with self._lock:
            lb = self.backend(account_id, region_id).get(lb_id)
            return {s.server_id: s.weight for s in lb.backends.values()}

    def vserver_groups(self, account_id: str, region_id: str, lb_id: str) -> dict[str, str]:
        """``{group_id: name}`` of a load balancer's VServer groups."""
        with self._lock:
            return {g.group_id: g.name for g in self.backend(account_id, region_id).groups_of(lb_id)}

    def group_backends(self, account_id: str, region_id: str, group_id: str) -> dict[tuple[str, int], int]:
        """Members of a VServer group: ``{(server_id, port): weight}``."""
        with self._lock:
            group = self.backend(account_id, region_id).get_group(group_id)
            return {key: s.weight for key, s in group.members.items()}

    def load_balancer_ids(self, account_id: str, region_id: str) -> list[str]:
        with self._lock:
            return list(self.backend(account_id, region_id).load_balancers)

    def set_configuring(
        self, lb_id: str, calls: int = 1, account_id: str | None = None, region_id: str | None = None
    ) -> None:
        """Make the next ``calls`` mutating calls on ``lb_id`` (backend servers, VServer groups, deletion) answer
        409 ``BackendServer.configuring``, as the real SLB does while a previous change is still being applied.
        Without account/region, the load balancer is looked up in every account and region."""
        with self._lock:
            for (account, region), backend in self._backends.items():
                if account_id not in (None, account) or region_id not in (None, region):
                    continue
                if lb_id in backend.load_balancers:
                    backend.set_configuring(lb_id, calls)
                    return
            raise exc.load_balancer_not_found(lb_id)
