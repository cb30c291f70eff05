"""ECS actions: thin wrappers over aliyun-python-sdk-ecs (2014-05-26). Read facts, act when told; never decide.

Every call builds a NEW request object (a reused one keeps its parameters and grows its URL on every send) and
runs under ``ecs_events.retry.call``. In dry-run, a mutating call is sent with ``DryRun=True`` where the API has
it (RebootInstance: the cloud checks it and answers ``DryRunOperation``) and skipped otherwise, with a log line
saying what would have been done.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ecs_events.actions.errors import ActionError, NotFoundError
from ecs_events.actions.rpc import rpc_call
from ecs_events.actions.types import CommandFacts, DiskFacts, InstanceFacts, SnapshotFacts

log = logging.getLogger("ecs_events.actions")

PAGE = 100
DRY_RUN_RESULT = "dry-run"
_DRY_RUN_OK = "DryRunOperation"


def chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_token(token: str) -> str:
    """ClientToken: 1-64 printable ASCII characters (the API's limit). Refused before sending, as the cloud would:
    an ``ActionError`` with code ``InvalidParameter`` and no status (nothing was sent)."""
    if not 0 < len(token) <= 64 or not all(" " < c <= "~" for c in token):
        raise ActionError(
            "Ecs",
            "CreateSnapshot",
            "InvalidParameter",
            f"ClientToken must be 1-64 printable ASCII characters, got {len(token)} characters (not sent)",
        )
    return token


def _decode(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "replace")
    except ValueError:
        return text


def _instance(item: dict[str, Any]) -> InstanceFacts:
    tags = {t.get("TagKey", ""): t.get("TagValue", "") for t in item.get("Tags", {}).get("Tag", [])}
    locks = item.get("OperationLocks", {}).get("LockReason", [])
    return InstanceFacts(
        instance_id=item["InstanceId"],
        status=item.get("Status", ""),
        name=item.get("InstanceName", ""),
        tags=tags,
        lock_reasons=tuple(lock.get("LockReason", "") for lock in locks),
        preemptible=item.get("SpotStrategy", "NoSpot") not in ("NoSpot", ""),
    )


def _disk(item: dict[str, Any]) -> DiskFacts:
    return DiskFacts(
        disk_id=item["DiskId"],
        type="system" if item.get("Type") == "system" else "data",
        category=item.get("Category", ""),
        status=item.get("Status", ""),
        device=item.get("Device", ""),
    )


def _snapshot(item: dict[str, Any]) -> SnapshotFacts:
    status = item.get("Status", "progressing")
    return SnapshotFacts(
        snapshot_id=item["SnapshotId"],
        disk_id=item.get("SourceDiskId", ""),
        status=status if status in ("accomplished", "failed") else "progressing",
        progress=item.get("Progress", ""),
    )


def normalise_health(name: str) -> str:
    """ "OK" / "Ok" / "ok" -> "Ok" (the docs disagree on the case); other names as the API spells them."""
    return "Ok" if name.lower() == "ok" else name


class Ecs:
    def __init__(self, client: Any, *, dry_run: bool = False, https: bool = False) -> None:
        self.client = client
        self.dry_run = dry_run
        self.https = https

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _call(self, action: str, build: Callable[[], Any]) -> dict[str, Any]:
        """Send a fresh request from ``build()`` on each attempt; the decoded JSON body."""
        return rpc_call(self.client, f"Ecs.{action}", build, https=self.https)

    @staticmethod
    def _request(name: str, **params: Any) -> Callable[[], Any]:
        """A builder of ``aliyunsdkecs`` request ``name`` with ``set_<Param>(value)`` for each of ``params``."""

        def build() -> Any:
            module = importlib.import_module(f"aliyunsdkecs.request.v20140526.{name}Request")
            request = getattr(module, f"{name}Request")()
            for key, value in params.items():
                if value is not None:
                    getattr(request, f"set_{key}")(value)
            return request

        return build

    def _plan(self, what: str, **extra: Any) -> None:
        log.info("dry-run: would %s", what, extra={**extra, "action": what.split(" ", 1)[0]})

    # -- reads -------------------------------------------------------------------------------------------------
    def describe_instance(self, instance_id: str) -> InstanceFacts | None:
        return self.describe_instances([instance_id]).get(instance_id)

    def describe_instances(self, ids: Iterable[str]) -> dict[str, InstanceFacts]:
        """Facts of the instances that exist, keyed by id (missing ids are absent, not an error)."""
        found: dict[str, InstanceFacts] = {}
        for batch in chunks(dict.fromkeys(ids), PAGE):
            body = self._call(
                "DescribeInstances",
                self._request("DescribeInstances", InstanceIds=json.dumps(batch), PageSize=PAGE),
            )
            for item in body.get("Instances", {}).get("Instance", []):
                found[item["InstanceId"]] = _instance(item)
        return found

    def describe_disks(self, instance_id: str) -> list[DiskFacts]:
        disks: list[DiskFacts] = []
        page = 1
        while True:
            body = self._call(
                "DescribeDisks",
                self._request("DescribeDisks", InstanceId=instance_id, PageSize=PAGE, PageNumber=page),
            )
            items = body.get("Disks", {}).get("Disk", [])
            disks.extend(_disk(item) for item in items)
            if not items or len(disks) >= int(body.get("TotalCount", 0)):
                return disks
            page += 1

    def describe_snapshots(self, ids: Iterable[str]) -> dict[str, SnapshotFacts]:
        found: dict[str, SnapshotFacts] = {}
        for batch in chunks(dict.fromkeys(ids), PAGE):
            body = self._call(
                "DescribeSnapshots",
                self._request("DescribeSnapshots", SnapshotIds=json.dumps(batch), PageSize=PAGE),
            )
            for item in body.get("Snapshots", {}).get("Snapshot", []):
                found[item["SnapshotId"]] = _snapshot(item)
        return found

    def event_status(self, instance_id: str, event_id: str) -> str | None:
        """The cycle status (Scheduled, Avoided, Executed...) of one system event as the cloud records it, or None."""
        body = self._call(
            "DescribeInstanceHistoryEvents",
            self._request("DescribeInstanceHistoryEvents", InstanceId=instance_id, EventIds=[event_id]),
        )
        for item in body.get("InstanceSystemEventSet", {}).get("InstanceSystemEventType", []):
            if item.get("EventId") == event_id:
                return str(item.get("EventCycleStatus", {}).get("Name") or "") or None
        return None

    def open_events(self, tag: tuple[str, str], *, page_size: int = 100) -> list[dict[str, Any]]:
        """Every system event of the tagged instances that is Scheduled, Inquiring or Executing, as the cloud records
        it (DescribeInstanceHistoryEvents, ``NextToken`` paging: one call per ``page_size`` events)."""
        out: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(1000):  # bounded: 100,000 open events
            body = self._call(
                "DescribeInstanceHistoryEvents",
                self._request(
                    "DescribeInstanceHistoryEvents",
                    InstanceEventCycleStatuss=["Scheduled", "Inquiring", "Executing"],
                    Tags=[{"Key": tag[0], "Value": tag[1]}],
                    MaxResults=page_size,
                    NextToken=token,
                ),
            )
            out.extend(body.get("InstanceSystemEventSet", {}).get("InstanceSystemEventType", []))
            token = body.get("NextToken") or None
            if token is None:
                break
        return out

    def full_status(self, instance_id: str) -> tuple[str, str] | None:
        """(status name, health name) with health "OK"/"Ok"/"ok" as "Ok"; None if the instance does not exist."""
        body = self._call(
            "DescribeInstancesFullStatus", self._request("DescribeInstancesFullStatus", InstanceIds=[instance_id])
        )
        for item in body.get("InstanceFullStatusSet", {}).get("InstanceFullStatusType", []):
            if item.get("InstanceId") == instance_id:
                status = item.get("Status", {}).get("Name", "")
                health = item.get("HealthStatus", {}).get("Name", "")
                return status, normalise_health(health)
        return None

    def console_output(self, instance_id: str) -> str:
        body = self._call("GetInstanceConsoleOutput", self._request("GetInstanceConsoleOutput", InstanceId=instance_id))
        return _decode(body.get("ConsoleOutput", ""))

    def invocation_result(self, invoke_id: str, instance_id: str) -> CommandFacts:
        body = self._call(
            "DescribeInvocationResults",
            self._request("DescribeInvocationResults", InvokeId=invoke_id, InstanceId=instance_id),
        )
        results = body.get("Invocation", {}).get("InvocationResults", {}).get("InvocationResult", [])
        for item in results:
            if item.get("InstanceId") == instance_id:
                status = item.get("InvokeRecordStatus") or item.get("InvocationStatus", "")
                done = status not in ("Running", "Pending")
                exit_code = item.get("ExitCode")
                return CommandFacts(
                    invoke_id=invoke_id,
                    status=status,
                    exit_code=int(exit_code) if done and exit_code is not None else None,
                    output=_decode(item.get("Output", "")),
                )
        raise NotFoundError(
            "Ecs",
            "DescribeInvocationResults",
            "InvalidInvokeId.NotFound",
            f"no result of invocation {invoke_id} on {instance_id}",
            request_id=body.get("RequestId"),
        )

    # -- mutations ---------------------------------------------------------------------------------------------
    def reboot(self, instance_id: str) -> None:
        """RebootInstance (not forced). In dry-run the cloud validates the call (DryRun=True) and nothing reboots."""
        if not self.dry_run:
            self._call("RebootInstance", self._request("RebootInstance", InstanceId=instance_id))
            return
        try:
            self._call("RebootInstance", self._request("RebootInstance", InstanceId=instance_id, DryRun=True))
        except ActionError as err:
            if err.code != _DRY_RUN_OK:
                raise
        self._plan(f"RebootInstance {instance_id}", instance_id=instance_id)

    def create_snapshot(self, disk_id: str, *, token: str, name: str, description: str = "") -> str:
        """CreateSnapshot with ``token`` as ClientToken, so a retry (ours or a re-run step) returns the same
        snapshot instead of a second one. Dry-run: no call, returns ``"dry-run"``."""
        check_token(token)
        if self.dry_run:
            self._plan(f"CreateSnapshot of {disk_id} named {name!r}", disk_id=disk_id)
            return DRY_RUN_RESULT
        body = self._call(
            "CreateSnapshot",
            self._request(
                "CreateSnapshot", DiskId=disk_id, SnapshotName=name, Description=description, ClientToken=token
            ),
        )
        return str(body["SnapshotId"])

    def accept_inquired(self, event_id: str) -> None:
        """AcceptInquiredSystemEvent: consent to an Inquiring event. Dry-run: no call."""
        if self.dry_run:
            self._plan(f"AcceptInquiredSystemEvent {event_id}")
            return
        self._call("AcceptInquiredSystemEvent", self._request("AcceptInquiredSystemEvent", EventId=event_id))

    def run_command(self, instance_id: str, content: str, *, type: str = "RunShellScript", timeout: int = 60) -> str:
        """RunCommand on one instance (content sent base64); the invoke id. One ClientToken per call, so a retry
        after a lost answer does not run the command twice. Dry-run: no call, ``"dry-run"``."""
        if self.dry_run:
            self._plan(f"RunCommand {type} on {instance_id}", instance_id=instance_id)
            return DRY_RUN_RESULT
        body = self._call(
            "RunCommand",
            self._request(
                "RunCommand",
                InstanceIds=[instance_id],
                Type=type,
                CommandContent=base64.b64encode(content.encode()).decode(),
                ContentEncoding="Base64",
                Timeout=timeout,
                ClientToken=uuid.uuid4().hex,
            ),
        )
        return str(body["InvokeId"])
