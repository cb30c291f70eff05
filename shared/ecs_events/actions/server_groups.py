"""Server-group load balancers (ALB 2020-06-16, NLB 2022-04-30): what ``Alb`` and ``Nlb`` share.

The same interface as ``Slb`` (``find``, ``set_weights``, ``remove``) plus ``settled``, over the legacy
``aliyun-python-sdk-alb`` / ``-nlb`` request classes (on aliyunsdkcore, through ``rpc_call``). The products differ in
spelling (NLB's request setters for lists end in ``ss``), per-call limits and where the drain settings sit; each
module gives a ``Product`` with those.

- **Budget unit.** A membership's ``lb_id`` is its server group id, as is ``group_id``: the servers of a server group
  are one pool whatever forwards to it, so a group behind several listeners or load balancers (an NLB group may serve
  several NLBs) is one budget unit and counts once, and its size is the group's own number of distinct servers.
- **find.** ``ListServerGroupServers`` without ``ServerGroupId`` and with ``ServerIds=[instance]`` lists every group
  holding the instance in one call (pages of 100, ``NextToken``); only ``ServerType`` ``Ecs`` entries, any port. Then
  per group found ``ListServerGroupServers(ServerGroupId)`` (pages of 100) counts its distinct servers, and
  ``ListServerGroups(ServerGroupIds)`` (20 ids a call) reads the connection drain settings. Nothing is listed per
  server group of the account: the cost grows with the groups holding the instance, not with the account.
- **Asynchronous changes.** ``UpdateServerGroupServersAttribute`` / ``RemoveServersFromServerGroup`` answer a
  ``JobId`` at once; the servers are ``Configuring`` until the job ends. The functions return after the call (never
  sleep for a job); ``settled`` says whether the servers are ``Available`` with the weight asked, for a later poll.
  A change on a group that is still configuring is refused (``IncorrectStatus.ServerGroup`` / ``.serverGroup``):
  ``ecs_events.retry`` retries it with backoff, like CLB's ``BackendServer.configuring``. One ``ClientToken`` per
  batch, the same on every retry of it, so a retried call whose answer was lost does not start a second job.
- **Gone.** ``ResourceNotFound.*`` is a ``NotFoundError``. When some of a batch's servers are no longer in the group
  (a person removed them), the rest are still changed, then ``NotFoundError`` names the missing ones.
- **Dry-run.** Mutations are sent with ``DryRun=true`` (the cloud validates them and answers ``DryRunOperation``).
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ecs_events.actions.errors import ActionError, NotFoundError
from ecs_events.actions.rpc import rpc_call
from ecs_events.actions.types import Membership, SlbView, Spent

log = logging.getLogger("ecs_events.actions")

PAGE = 100  # ListServerGroupServers / ListServerGroups MaxResults: 1-100
IDS_PER_LIST = 20  # ListServerGroups ServerGroupIds.N
SERVER_TYPE = "Ecs"
AVAILABLE = "Available"
_DRY_RUN_OK = "DryRunOperation"
_GONE_SERVER = "ResourceNotFound.BackendServer"


@dataclass(frozen=True)
class Product:
    """What tells ALB and NLB apart for these actions."""

    name: str  # "Alb" / "Nlb": the SDK product and the call names' prefix
    kind: str  # "alb" / "nlb": ``Membership.kind``
    module: str  # the legacy SDK's request package, e.g. "aliyunsdkalb.request.v20200616"
    update_batch: int  # servers per UpdateServerGroupServersAttribute
    remove_batch: int  # servers per RemoveServersFromServerGroup
    drain_timeout: Callable[[dict[str, Any]], int | None]  # a ListServerGroups entry -> seconds, None when off
    setters: dict[str, str] = field(default_factory=dict)  # parameter -> setter name where it is not set_<Param>
    port_optional: bool = False  # NLB all-port groups: members on port 0 are sent without Port


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def grouped(memberships: Iterable[Membership]) -> dict[str, list[Membership]]:
    """Memberships per server group, in first-seen order."""
    groups: dict[str, list[Membership]] = defaultdict(list)
    for m in memberships:
        groups[m.group_id or m.lb_id].append(m)
    return dict(groups)


class ServerGroups:
    """The actions of one server-group product (``Alb`` / ``Nlb`` set ``product``)."""

    product: Product

    def __init__(self, client: Any, *, dry_run: bool = False, https: bool = False) -> None:
        self.client = client
        self.dry_run = dry_run
        self.https = https

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _call(self, action: str, **params: Any) -> dict[str, Any]:
        """``action`` with ``params`` through the legacy SDK's request class, a fresh request on every attempt."""
        p = self.product

        def build() -> Any:
            module = importlib.import_module(f"{p.module}.{action}Request")
            request = getattr(module, f"{action}Request")()
            for key, value in params.items():
                getattr(request, p.setters.get(key, f"set_{key}"))(value)
            return request

        return rpc_call(self.client, f"{p.name}.{action}", build, https=self.https)

    def _servers(self, **params: Any) -> Iterator[dict[str, Any]]:
        """Every ``Servers`` entry of ListServerGroupServers with ``params``, page after page."""
        token = ""
        while True:
            page = {**params, "MaxResults": PAGE, **({"NextToken": token} if token else {})}
            body = self._call("ListServerGroupServers", **page)
            yield from body.get("Servers") or []
            token = body.get("NextToken") or ""
            if not token:
                return

    # -- reads -------------------------------------------------------------------------------------------------
    def find(self, instance_id: str, spent: Spent | None = None) -> SlbView:
        """Every ECS membership of ``instance_id`` (any group, any port); per group its number of distinct servers
        and, when connection draining is on, its drain timeout. ``spent``: see ``Spent``."""
        kind = self.product.kind
        memberships: list[Membership] = []
        seen: set[tuple[str, int]] = set()
        for s in self._servers(ServerIds=[instance_id]):
            group_id, port = s.get("ServerGroupId"), _int(s.get("Port"), 0)
            if s.get("ServerType") != SERVER_TYPE or s.get("ServerId") != instance_id or not group_id:
                continue
            if (group_id, port) in seen:
                continue
            seen.add((group_id, port))
            weight = _int(s.get("Weight"), 100)
            memberships.append(Membership(group_id, group_id, instance_id, port, weight, SERVER_TYPE, kind))
        groups = list(dict.fromkeys(m.lb_id for m in memberships))
        blocked = spent(groups) if spent is not None and groups else []
        if blocked:
            return SlbView(memberships=[], lb_sizes={}, blocked=blocked)
        sizes = {g: len({s.get("ServerId") for s in self._servers(ServerGroupId=g)}) for g in groups}
        return SlbView(memberships=memberships, lb_sizes=sizes, drain_seconds=self._drain_seconds(groups))

    def _drain_seconds(self, group_ids: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for ids in chunks(group_ids, IDS_PER_LIST):
            body = self._call("ListServerGroups", ServerGroupIds=ids, MaxResults=PAGE)
            for group in body.get("ServerGroups") or []:
                timeout = self.product.drain_timeout(group)
                if timeout is not None and group.get("ServerGroupId") in ids:
                    out[group["ServerGroupId"]] = timeout
        return out

    def settled(self, memberships: Iterable[Membership], weight: int | None) -> bool:
        """Whether every membership is ``Available`` with ``weight`` (None: its own saved ``.weight``): the
        asynchronous change has taken effect. A server or group that is gone has nothing left to wait for."""
        for group_id, members in grouped(memberships).items():
            ids = list(dict.fromkeys(m.server_id for m in members))
            try:
                listed = list(self._servers(ServerGroupId=group_id, ServerIds=ids))
            except NotFoundError:
                continue
            found = {(s.get("ServerId"), _int(s.get("Port"), 0)): s for s in listed}
            for m in members:
                s = found.get((m.server_id, m.port or 0))
                want = m.weight if weight is None else weight
                if s is not None and (s.get("Status") != AVAILABLE or _int(s.get("Weight"), -1) != want):
                    return False
        return True

    # -- mutations ---------------------------------------------------------------------------------------------
    def set_weights(self, memberships: Iterable[Membership], weight: int | None) -> None:
        """UpdateServerGroupServersAttribute: ``weight`` (0 drains) on every membership, or with None each one's
        own ``.weight``; at most ``update_batch`` servers per call. Returns once the jobs are started."""
        for group_id, members in grouped(memberships).items():
            entries = [self._entry(m, m.weight if weight is None else weight) for m in members]
            self._apply("UpdateServerGroupServersAttribute", group_id, entries, self.product.update_batch)

    def remove(self, memberships: Iterable[Membership]) -> None:
        """RemoveServersFromServerGroup (the weights are lost; prefer ``set_weights(..., 0)``)."""
        for group_id, members in grouped(memberships).items():
            entries = [self._entry(m, None) for m in members]
            self._apply("RemoveServersFromServerGroup", group_id, entries, self.product.remove_batch)

    def _entry(self, m: Membership, weight: int | None) -> dict[str, Any]:
        entry: dict[str, Any] = {"ServerId": m.server_id, "ServerType": m.type or SERVER_TYPE}
        if m.port is not None and not (m.port == 0 and self.product.port_optional):
            entry["Port"] = m.port
        if weight is not None:
            entry["Weight"] = weight
        return entry

    def _apply(self, action: str, group_id: str, entries: list[dict[str, Any]], batch: int) -> None:
        missing: list[str] = []
        for servers in chunks(entries, batch):
            try:
                self._send(action, group_id, servers)
            except NotFoundError as err:
                if err.code != _GONE_SERVER or len(servers) == 1:
                    raise
                present = self._present(group_id, servers)
                missing += [_label(s) for s in servers if s not in present]
                if present:
                    self._send(action, group_id, present)
                if not missing:
                    raise
        if missing:
            raise NotFoundError(
                self.product.name, action, _GONE_SERVER, f"not in server group {group_id}: {', '.join(missing)}"
            )

    def _present(self, group_id: str, servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries of ``servers`` still in the group."""
        ids = list(dict.fromkeys(s["ServerId"] for s in servers))
        listed = self._servers(ServerGroupId=group_id, ServerIds=ids)
        there = {(s.get("ServerId"), _int(s.get("Port"), 0)) for s in listed}
        return [s for s in servers if (s["ServerId"], _int(s.get("Port"), 0)) in there]

    def _send(self, action: str, group_id: str, servers: list[dict[str, Any]]) -> None:
        token = uuid.uuid4().hex  # one per batch: every retry of this batch repeats it
        params: dict[str, Any] = {"ServerGroupId": group_id, "Servers": servers, "ClientToken": token}
        if not self.dry_run:
            body = self._call(action, **params)
            log.info("%s %s on %s: job %s", self.product.name, action, group_id, body.get("JobId"))
            return
        try:
            self._call(action, **params, DryRun="true")
        except ActionError as err:
            if err.code != _DRY_RUN_OK:
                raise
        log.info("dry-run: would %s on %s: %s", action, group_id, servers, extra={"action": action})


def _label(server: dict[str, Any]) -> str:
    return f"{server['ServerId']}:{server.get('Port', 0)}"
