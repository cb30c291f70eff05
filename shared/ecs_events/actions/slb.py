"""SLB (classic, 2014-05-15) actions: find a server's memberships, drain (weight 0), restore, remove.

Drain is SetBackendServers / SetVServerGroupAttribute with weight 0, restore is the same call with the weight read
before draining (``Membership.weight``): RemoveBackendServers would lose that weight. At most 20 servers per call.
SLB has no DryRun parameter: in dry-run no mutating call is made, only logged.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ecs_events.actions.rpc import rpc_call
from ecs_events.actions.types import Membership, SlbView, Spent

log = logging.getLogger("ecs_events.actions")

BATCH = 20
PAGE = 100


def _weight(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 100  # the documented default weight


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Slb:
    def __init__(self, client: Any, *, dry_run: bool = False, https: bool = False) -> None:
        self.client = client
        self.dry_run = dry_run
        self.https = https

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _call(self, action: str, **params: Any) -> dict[str, Any]:
        """``action`` with ``params`` (``set_<Param>``), a fresh request object on every attempt."""

        def build() -> Any:
            module = importlib.import_module(f"aliyunsdkslb.request.v20140515.{action}Request")
            request = getattr(module, f"{action}Request")()
            for key, value in params.items():
                getattr(request, f"set_{key}")(value)
            return request

        return rpc_call(self.client, f"Slb.{action}", build, https=self.https)

    # -- reads -------------------------------------------------------------------------------------------------
    def _load_balancers(self, instance_id: str) -> list[str]:
        ids: list[str] = []
        page = 1
        while True:
            body = self._call("DescribeLoadBalancers", ServerId=instance_id, PageSize=PAGE, PageNumber=page)
            items = body.get("LoadBalancers", {}).get("LoadBalancer", [])
            ids.extend(item["LoadBalancerId"] for item in items)
            if not items or len(ids) >= int(body.get("TotalCount", 0)):
                return list(dict.fromkeys(ids))
            page += 1

    def _default_group(self, lb_id: str) -> list[Membership]:
        body = self._call("DescribeLoadBalancerAttribute", LoadBalancerId=lb_id)
        return [
            Membership(lb_id, None, s["ServerId"], None, _weight(s.get("Weight")), s.get("Type") or "ecs")
            for s in body.get("BackendServers", {}).get("BackendServer", [])
        ]

    def _vserver_groups(self, lb_id: str) -> list[Membership]:
        body = self._call("DescribeVServerGroups", LoadBalancerId=lb_id)
        members: list[Membership] = []
        for group in body.get("VServerGroups", {}).get("VServerGroup", []):
            group_id = group["VServerGroupId"]
            attribute = self._call("DescribeVServerGroupAttribute", VServerGroupId=group_id)
            members.extend(
                Membership(
                    lb_id,
                    group_id,
                    s["ServerId"],
                    _port(s.get("Port")),
                    _weight(s.get("Weight")),
                    s.get("Type") or "ecs",
                )
                for s in attribute.get("BackendServers", {}).get("BackendServer", [])
            )
        return members

    def find(self, instance_id: str, spent: Spent | None = None) -> SlbView:
        """Every membership of ``instance_id`` (default groups and VServer groups of every load balancer that has
        it), and each of those load balancers' number of distinct backend servers. ``spent``: see ``Spent``."""
        memberships: list[Membership] = []
        sizes: dict[str, int] = {}
        lb_ids = self._load_balancers(instance_id)
        blocked = spent(lb_ids) if spent is not None and lb_ids else []
        if blocked:
            return SlbView(memberships=[], lb_sizes={}, blocked=blocked)
        for lb_id in lb_ids:
            everyone = self._default_group(lb_id) + self._vserver_groups(lb_id)
            sizes[lb_id] = len({m.server_id for m in everyone})
            memberships.extend(m for m in everyone if m.server_id == instance_id)
        return SlbView(memberships=memberships, lb_sizes=sizes)

    # -- mutations ---------------------------------------------------------------------------------------------
    def set_weights(self, memberships: Iterable[Membership], weight: int | None) -> None:
        """Set every membership's weight to ``weight`` (0 drains), or with None back to its own ``.weight``."""
        for (lb_id, group_id), members in _grouped(memberships).items():
            entries = [_entry(m, m.weight if weight is None else weight) for m in members]
            action = "SetBackendServers" if group_id is None else "SetVServerGroupAttribute"
            self._apply(action, lb_id, group_id, entries)

    def remove(self, memberships: Iterable[Membership]) -> None:
        """Remove the servers from their groups (loses their weights; prefer ``set_weights(..., 0)``)."""
        for (lb_id, group_id), members in _grouped(memberships).items():
            entries = [_entry(m, None) for m in members]
            action = "RemoveBackendServers" if group_id is None else "RemoveVServerGroupBackendServers"
            self._apply(action, lb_id, group_id, entries)

    def _apply(self, action: str, lb_id: str, group_id: str | None, entries: list[dict[str, Any]]) -> None:
        """``action`` on one group, ``BATCH`` servers per call; in dry-run only the log line."""
        if self.dry_run:
            target = group_id or lb_id
            log.info("dry-run: would %s on %s: %s", action, target, json.dumps(entries), extra={"action": action})
            return
        for start in range(0, len(entries), BATCH):
            servers = json.dumps(entries[start : start + BATCH])
            if group_id is None:
                self._call(action, LoadBalancerId=lb_id, BackendServers=servers)
            else:
                self._call(action, VServerGroupId=group_id, BackendServers=servers)


def _grouped(memberships: Iterable[Membership]) -> dict[tuple[str, str | None], list[Membership]]:
    groups: dict[tuple[str, str | None], list[Membership]] = defaultdict(list)
    for m in memberships:
        groups[(m.lb_id, m.group_id)].append(m)
    return dict(groups)


def _entry(m: Membership, weight: int | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"ServerId": m.server_id, "Type": m.type or "ecs"}
    if weight is not None:
        entry["Weight"] = str(weight)
    if m.group_id is not None and m.port is not None:
        entry["Port"] = str(m.port)
    return entry
