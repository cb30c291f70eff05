"""``CmsService``: CloudMonitor's event-rule API (2019-01-01) as an RpcService, plus what the rest of localcloud asks
of it: the (rule, target) pairs a notification is delivered to (``localcloud.emit.rules_router``) and the log of
those deliveries.

Targets are checked when they are put (``usable``): an MNS target must name a queue or a topic that exists in the
account (in the cloud's region); an unusable one is listed in ``Failed*Parameters`` with HTTP 200 and
``Success: false`` (see ``localcloud.cms.exceptions``). Fc, Webhook, Contact, Sls and OpenApi targets are stored and
listed; only MNS targets are delivered to (localcloud has no Function Compute), every delivery is in ``deliveries``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localcloud.cms import exceptions as exc
from localcloud.cms.models import CmsBackend, EventRule, Target
from localcloud.cms.responses import HANDLERS
from localcloud.core import CloudContext
from localcloud.rpc import RpcCall

# (account, "queue" | "topic", name) -> exists
Exists = Callable[[str, str, str], bool]


@dataclass(frozen=True)
class Delivery:
    """One notification handed to one target of one rule."""

    rule: str
    target_id: str
    kind: str
    destination: str  # "queue:NAME" / "topic:NAME", or the target's kind (Fc, Webhook...: not delivered to)
    notification_id: str
    name: str


class CmsService:
    product = "Cms"
    version = "2019-01-01"

    def __init__(self, ctx: CloudContext, mns_exists: Exists | None = None) -> None:
        self.ctx = ctx
        self.mns_exists = mns_exists
        self._lock = threading.RLock()
        self._backends: dict[tuple[str, str], CmsBackend] = {}
        self.deliveries: list[Delivery] = []

    def reset(self) -> None:
        with self._lock:
            self._backends.clear()
            self.deliveries.clear()

    def backend(self, account_id: str, region_id: str) -> CmsBackend:
        with self._lock:
            key = (account_id, region_id)
            if key not in self._backends:
                self._backends[key] = CmsBackend(account_id, region_id)
            return self._backends[key]

    def handle(self, call: RpcCall) -> dict[str, Any]:
        handler = HANDLERS.get(call.action)
        if handler is None:
            raise exc.unknown_action(call.action)
        try:
            with self._lock:
                return handler(self.backend(call.account_id, call.region_id), call.params, self._usable)
        except exc.BusinessFailure as failure:
            return {"Code": failure.code, "Message": failure.message, "Success": False, **failure.extra}

    def _usable(self, b: CmsBackend, target: Target) -> str | None:
        """Why a target cannot be used, or None."""
        if target.kind != "Mns" or self.mns_exists is None:
            return None
        if not target.queue and not target.topic:
            return f"MnsParameters {target.id}: give Queue or Topic"
        if target.fields.get("Region") != self.ctx.region_id:
            return f"MnsParameters {target.id}: no MNS in region {target.fields.get('Region')}"
        for kind, name in (("queue", target.queue), ("topic", target.topic)):
            if name and not self.mns_exists(b.account_id, kind, name):
                return f"MnsParameters {target.id}: {kind} {name} does not exist"
        return None

    # -- in-process API ----------------------------------------------------------------------------------------------
    def rules(self, account_id: str, region_id: str) -> dict[str, EventRule]:
        with self._lock:
            return dict(self.backend(account_id, region_id).rules)

    def route(self, notification: dict[str, Any]) -> list[tuple[EventRule, Target]]:
        """The (rule, target) pairs of the notification's account and region that it matches; recorded as
        deliveries. Only reads state under the lock: the caller delivers outside it."""
        account, region = str(notification.get("userId", "")), str(notification.get("regionId", ""))
        with self._lock:
            if (account, region) not in self._backends:
                return []
            pairs = self._backends[(account, region)].matching(notification)
            for rule, target in pairs:
                self.deliveries.append(
                    Delivery(
                        rule=rule.name,
                        target_id=target.id,
                        kind=target.kind,
                        destination=_destination(target),
                        notification_id=str(notification.get("id", "")),
                        name=str(notification.get("name", "")),
                    )
                )
            return pairs


def _destination(target: Target) -> str:
    """``queue:NAME``, ``topic:NAME`` (both, comma-separated, when the target names both), or the target's kind."""
    if target.kind == "Mns":
        return ",".join(f"{kind}:{name}" for kind, name in (("queue", target.queue), ("topic", target.topic)) if name)
    return target.kind
