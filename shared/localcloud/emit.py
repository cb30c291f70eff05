"""CloudMonitor notifications for what ECS changes, in the exact shape of seed chapter 4.2, and their targets.

``Emitter`` builds a notification (``ver, id, product, resourceId, level, name, userId, eventTime, regionId,
content``) and hands it to ``ctx.events``, which never raises. Targets: an MNS queue (the body is base64 of the
notification JSON, as CloudMonitor delivers to a queue), an MNS topic, or a Python callback.

Two kinds of routes, both taken for every notification:
- direct routes (``queue_target``/``topic_target``/callbacks, added by ``LocalCloud.route_events_to_*``): every
  notification of the account, no filter; a test convenience, dropped by ``reset()``;
- CloudMonitor event rules (``RoutedEventBus`` + ``rules_router``): only the ENABLED rules of the notification's
  account and region that match it, once per MNS target of each matching rule (two rules to the same queue deliver
  it twice, as CMS does: each rule notifies on its own). Rules are API state (PutEventRule...), reset with the CMS
  service; the router itself stays across ``EventBus.clear_targets``.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from localcloud.core import CloudContext, EventBus, EventTarget

if TYPE_CHECKING:
    from localcloud.cms import CmsService
    from localcloud.mns import MnsService

log = logging.getLogger("localcloud")
CST = timezone(timedelta(hours=8))

# Levels as the seed shows them; maintenance/failure/security notices are CRITICAL, billing ones WARN.
_WARN_PREFIXES = ("InstanceExpiration.", "AccountUnbalanced.")


def event_time(when: datetime) -> str:
    """``20190409T121826.922+0800``: CloudMonitor's top-level eventTime, in UTC+8."""
    local = when.astimezone(CST)
    return local.strftime("%Y%m%dT%H%M%S.") + f"{local.microsecond // 1000:03d}+0800"


def iso(when: datetime) -> str:
    """``2019-04-09T04:18:26Z``: the content times, UTC."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def arn(region_id: str, account_id: str, kind: str, resource_id: str) -> str:
    return f"acs:ecs:{region_id}:{account_id}:{kind}/{resource_id}"


def system_event_level(event_type: str) -> str:
    return "WARN" if event_type.startswith(_WARN_PREFIXES) else "CRITICAL"


class Emitter:
    """Builds ECS notifications and emits them on the context's event bus."""

    def __init__(self, ctx: CloudContext) -> None:
        self.ctx = ctx

    def notify(
        self,
        *,
        account_id: str,
        region_id: str,
        kind: str,
        resource_id: str,
        name: str,
        level: str,
        content: dict[str, Any],
    ) -> dict[str, Any]:
        notification = {
            "ver": "1.0",
            "id": self.ctx.ids.uuid(),
            "product": "ECS",
            "resourceId": arn(region_id, account_id, kind, resource_id),
            "level": level,
            "name": name,
            "userId": account_id,
            "eventTime": event_time(self.ctx.clock.now()),
            "regionId": region_id,
            "content": content,
        }
        self.ctx.events.emit(notification)
        return notification

    def state_change(self, account_id: str, region_id: str, instance_id: str, state: str) -> None:
        content = {"resourceId": instance_id, "resourceType": "ALIYUN::ECS::Instance", "state": state}
        self.notify(
            account_id=account_id,
            region_id=region_id,
            kind="instance",
            resource_id=instance_id,
            name="Instance:StateChange",
            level="INFO",
            content=content,
        )

    def system_event(self, account_id: str, region_id: str, instance_id: str, content: dict[str, Any]) -> None:
        """``content`` carries eventId, publishTime, notBefore, instanceId, eventType, eventStatus, execute*Time."""
        event_type, status = content["eventType"], content["eventStatus"]
        self.notify(
            account_id=account_id,
            region_id=region_id,
            kind="instance",
            resource_id=instance_id,
            name=f"Instance:{event_type}:{status}",
            level=system_event_level(event_type),
            content=content,
        )

    def preemptible_interruption(self, account_id: str, region_id: str, instance_id: str) -> None:
        self.notify(
            account_id=account_id,
            region_id=region_id,
            kind="instance",
            resource_id=instance_id,
            name="Instance:PreemptibleInstanceInterruption",
            level="INFO",
            content={"instanceId": instance_id, "action": "delete"},
        )

    def snapshot_completed(self, account_id: str, region_id: str, content: dict[str, Any]) -> None:
        """``content``: result, snapshotId, snapshotName, diskId, startTime, endTime."""
        self.notify(
            account_id=account_id,
            region_id=region_id,
            kind="snapshot",
            resource_id=content["snapshotId"],
            name="Snapshot:CreateSnapshotCompleted",
            level="INFO" if content["result"] == "accomplished" else "WARN",
            content=content,
        )

    def disk_operation(self, account_id: str, region_id: str, disk_id: str, operation: str, ok: bool = True) -> None:
        self.notify(
            account_id=account_id,
            region_id=region_id,
            kind="disk",
            resource_id=disk_id,
            name="Disk:DiskOperationCompleted",
            level="INFO" if ok else "WARN",
            content={"diskId": disk_id, "operation": operation, "result": "accomplished" if ok else "failed"},
        )

    def disk_event(self, account_id: str, region_id: str, disk_id: str, content: dict[str, Any]) -> None:
        """``content``: eventId, diskId, device, eventType, executeStartTime[, executeFinishTime], ecsInstance*."""
        self.notify(
            account_id=account_id,
            region_id=region_id,
            kind="disk",
            resource_id=disk_id,
            name=f"Disk:{content['eventType']}:Executing",
            level="CRITICAL",
            content=content,
        )


def encode_for_queue(notification: dict[str, Any]) -> str:
    """CloudMonitor's MNS queue body: base64 of the notification JSON."""
    raw = json.dumps(notification, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def _for_account(notification: dict[str, Any], account_id: str | None) -> bool:
    return account_id is None or notification.get("userId") == account_id


def queue_target(mns: MnsService, account_id: str, queue_name: str) -> Callable[[dict[str, Any]], None]:
    """Deliver the account's notifications to an MNS queue, base64 encoded."""

    def deliver(notification: dict[str, Any]) -> None:
        if _for_account(notification, account_id):
            mns.send_message(account_id, queue_name, encode_for_queue(notification))

    return deliver


def topic_target(mns: MnsService, account_id: str, topic_name: str) -> Callable[[dict[str, Any]], None]:
    """Publish the account's notifications to an MNS topic (base64 body, fanned out to its subscriptions)."""

    def deliver(notification: dict[str, Any]) -> None:
        if _for_account(notification, account_id):
            mns.publish_message(account_id, topic_name, encode_for_queue(notification))

    return deliver


class RoutedEventBus(EventBus):
    """An ``EventBus`` that also hands every notification to its ``routers`` (CloudMonitor event rules). Routers are
    wiring, not test routes: ``clear_targets`` keeps them and ``target_names`` does not list them."""

    def __init__(self) -> None:
        super().__init__()
        self.routers: list[EventTarget] = []

    def emit(self, notification: dict[str, Any]) -> None:
        super().emit(notification)
        for router in list(self.routers):
            try:
                router(notification)
            except Exception:
                log.exception("event router failed for %s", notification.get("name"))


def rules_router(cms: CmsService, mns: MnsService) -> EventTarget:
    """Deliver a notification to the MNS queue / topic of every target of every ENABLED CMS rule that matches it
    (base64 JSON body, as for the direct routes). A target whose queue is gone is logged and skipped: the others
    still get the notification."""

    def deliver(notification: dict[str, Any]) -> None:
        pairs = cms.route(notification)
        if not pairs:
            return
        body = encode_for_queue(notification)
        account = str(notification.get("userId", ""))
        for rule, target in pairs:
            try:
                if target.queue:
                    mns.send_message(account, target.queue, body)
                if target.topic:
                    mns.publish_message(account, target.topic, body)
            except Exception:
                log.exception("event rule %s: target %s failed for %s", rule.name, target.id, notification.get("name"))

    return deliver


def mns_exists(mns: MnsService) -> Callable[[str, str, str], bool]:
    """``exists(account, "queue" | "topic", name)`` over the MNS service's state (CMS checks its targets with it)."""

    def exists(account_id: str, kind: str, name: str) -> bool:
        with mns.cond:
            found = mns.model.accounts.get(account_id)
            return found is not None and name in (found.queues if kind == "queue" else found.topics)

    return exists
