"""ECS wire: each handler reads the RPC parameters, calls the backend and shapes the response body.

Handlers are registered in ``HANDLERS`` by action name; ``EcsService`` (service.py) dispatches to them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

from localcloud.ecs import errors, shapes
from localcloud.ecs import tags as tagging
from localcloud.ecs.assistant import decode_content
from localcloud.ecs.events import EVENT_TYPES
from localcloud.ecs.models import EcsBackend
from localcloud.ecs.params import (
    json_list,
    one_of,
    opt_bool,
    opt_int,
    opt_time,
    page,
    parse_time,
    repeat_fields,
    repeat_list,
    required,
    tags,
)
from localcloud.emit import iso
from localcloud.errors import CloudError, invalid_parameter, missing_parameter

Params = dict[str, str]
Handler = Callable[[EcsBackend, Params], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
T = TypeVar("T")

INSTANCE_STATUSES = ("Pending", "Starting", "Running", "Stopping", "Stopped")
SPOT_STRATEGIES = ("NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo")
DISK_CATEGORIES = ("cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd", "cloud_auto", "cloud_essd_entry")


def action(fn: Handler) -> Handler:
    HANDLERS[fn.__name__] = fn
    return fn


def paged(items: list[T], params: Params) -> tuple[list[T], dict[str, Any]]:
    number, size = page(params)
    start = (number - 1) * size
    return items[start : start + size], {"TotalCount": len(items), "PageNumber": number, "PageSize": size}


def token_paged(items: list[T], params: Params) -> tuple[list[T], dict[str, Any]]:
    """``MaxResults`` (10..100: below is read as 10, above as 100) and ``NextToken`` paging; no ``NextToken`` in
    the answer means the last page (wire facts round 3, 5.4)."""
    size = max(10, min(100, opt_int(params, "MaxResults", 10, 1, 10**6)))
    token = params.get("NextToken") or "0"
    if not token.isdigit() or int(token) > len(items):
        raise invalid_parameter("NextToken", token, "the token is invalid or expired")
    start = int(token)
    meta: dict[str, Any] = {"TotalCount": len(items)}
    if start + size < len(items):
        meta["NextToken"] = str(start + size)
    return items[start : start + size], meta


def tag_filter(params: Params) -> Callable[[dict[str, str]], bool]:
    wanted = tags(params)
    return lambda have: all(k in have and (v is None or have[k] == v) for k, v in wanted)


# -- instances ---------------------------------------------------------------------------------------------------
@action
def RunInstances(b: EcsBackend, p: Params) -> dict[str, Any]:
    amount = opt_int(p, "Amount", 1, 1, 100)
    disks: list[tuple[str, int, bool]] = []
    for n, d in enumerate(repeat_fields(p, "DataDisk"), start=1):
        size = opt_int(d, "Size", 40, 20, 32768)
        category = one_of(d, "Category", DISK_CATEGORIES, "cloud_efficiency") or "cloud_efficiency"
        if n > 16:
            raise invalid_parameter("DataDisk", n, "at most 16 data disks")
        disks.append((category, size, opt_bool(d, "DeleteWithInstance", True)))
    system_category = one_of(p, "SystemDisk.Category", DISK_CATEGORIES, "cloud_essd") or "cloud_essd"
    ids = b.run_instances(
        amount,
        name=p.get("InstanceName") or None,
        instance_type=p.get("InstanceType") or "ecs.g6.large",
        image_id=p.get("ImageId") or "aliyun_3_x64_20G_alibase_20240819.vhd",
        spot_strategy=one_of(p, "SpotStrategy", SPOT_STRATEGIES, "NoSpot") or "NoSpot",
        tags={k: v or "" for k, v in tags(p)},
        system_disk=(system_category, opt_int(p, "SystemDisk.Size", 40, 20, 2048)),
        data_disks=disks,
    )
    return {"InstanceIdSets": {"InstanceIdSet": ids}, "OrderId": "", "TradePrice": 0.0}


@action
def DeleteInstance(b: EcsBackend, p: Params) -> dict[str, Any]:
    b.delete_instance(required(p, "InstanceId"), force=opt_bool(p, "Force"), dry=opt_bool(p, "DryRun"))
    return {}


@action
def StartInstance(b: EcsBackend, p: Params) -> dict[str, Any]:
    b.start_instance(required(p, "InstanceId"), dry=opt_bool(p, "DryRun"))
    return {}


@action
def StopInstance(b: EcsBackend, p: Params) -> dict[str, Any]:
    b.stop_instance(required(p, "InstanceId"), force=opt_bool(p, "ForceStop"), dry=opt_bool(p, "DryRun"))
    return {}


@action
def RebootInstance(b: EcsBackend, p: Params) -> dict[str, Any]:
    b.reboot_instance(required(p, "InstanceId"), force=opt_bool(p, "ForceStop"), dry=opt_bool(p, "DryRun"))
    return {}


@action
def DescribeInstances(b: EcsBackend, p: Params) -> dict[str, Any]:
    ids = json_list(p, "InstanceIds")
    status = one_of(p, "Status", INSTANCE_STATUSES)
    name = p.get("InstanceName")
    spot = one_of(p, "SpotStrategy", SPOT_STRATEGIES)
    match_tags = tag_filter(p)
    found = [
        i
        for i in b.instances.values()
        if (ids is None or i.instance_id in ids)
        and (status is None or i.status == status)
        and (not name or i.instance_name == name)
        and (spot is None or i.spot_strategy == spot)
        and match_tags(i.tags)
    ]
    items, meta = paged(found, p)
    return {"Instances": {"Instance": [shapes.instance(i, b.region_id) for i in items]}, "NextToken": "", **meta}


@action
def GetInstanceConsoleOutput(b: EcsBackend, p: Params) -> dict[str, Any]:
    inst = b.instance(required(p, "InstanceId"))
    text = inst.console_output
    if text is None:
        text = (
            f"[    0.000000] Linux version 5.10.134-16.al8.x86_64 ({inst.instance_id})\n"
            f"[    1.204211] systemd[1]: Reached target Multi-User System.\n"
            f"{inst.instance_name} login:\n"
        )
    return {
        "InstanceId": inst.instance_id,
        "ConsoleOutput": base64.b64encode(text.encode()).decode(),
        "LastUpdateTime": iso(b.now()),
    }


# -- disks and snapshots -----------------------------------------------------------------------------------------
@action
def DescribeDisks(b: EcsBackend, p: Params) -> dict[str, Any]:
    ids = json_list(p, "DiskIds")
    instance_id = p.get("InstanceId")
    disk_type = one_of(p, "DiskType", ("all", "system", "data"), "all")
    category = p.get("Category") or None
    status = p.get("Status") or None
    match_tags = tag_filter(p)
    found = [
        d
        for d in b.disks.values()
        if (ids is None or d.disk_id in ids)
        and (not instance_id or d.instance_id == instance_id)
        and (disk_type in ("all", d.disk_type))
        and (category is None or category in ("all", d.category))
        and (status is None or status in ("All", d.status))
        and match_tags(d.tags)
    ]
    items, meta = paged(found, p)
    return {"Disks": {"Disk": [shapes.disk(d, b.region_id) for d in items]}, "NextToken": "", **meta}


@action
def AttachDisk(b: EcsBackend, p: Params) -> dict[str, Any]:
    b.attach_disk(required(p, "InstanceId"), required(p, "DiskId"))
    return {}


@action
def DetachDisk(b: EcsBackend, p: Params) -> dict[str, Any]:
    b.detach_disk(required(p, "InstanceId"), required(p, "DiskId"))
    return {}


@action
def CreateSnapshot(b: EcsBackend, p: Params) -> dict[str, Any]:
    description = p.get("Description", "")
    if len(description) > 256:
        raise invalid_parameter("Description", description[:20] + "...", "at most 256 characters")
    snapshot_id = b.create_snapshot(
        required(p, "DiskId"),
        name=p.get("SnapshotName") or None,
        description=description,
        retention_days=opt_int(p, "RetentionDays", 0, 1, 65536) or None,
        client_token=p.get("ClientToken") or None,
        tags={k: v or "" for k, v in tags(p)},
    )
    return {"SnapshotId": snapshot_id}


@action
def DescribeSnapshots(b: EcsBackend, p: Params) -> dict[str, Any]:
    ids = json_list(p, "SnapshotIds")
    disk_id = p.get("DiskId")
    instance_id = p.get("InstanceId")
    status = one_of(p, "Status", ("progressing", "accomplished", "failed", "all"), "all")
    name = p.get("SnapshotName")
    match_tags = tag_filter(p)
    found = [
        s
        for s in b.snapshots.values()
        if (ids is None or s.snapshot_id in ids)
        and (not disk_id or s.disk.disk_id == disk_id)
        and (not instance_id or s.disk.instance_id == instance_id)
        and (status in ("all", s.status))
        and (not name or s.snapshot_name == name)
        and match_tags(s.tags)
    ]
    items, meta = paged(found, p)
    return {"Snapshots": {"Snapshot": [shapes.snapshot(s) for s in items]}, "NextToken": "", **meta}


# -- system events -----------------------------------------------------------------------------------------------
@action
def CreateSimulatedSystemEvents(b: EcsBackend, p: Params) -> dict[str, Any]:
    instance_ids = repeat_list(p, "InstanceId")
    if not instance_ids:
        raise missing_parameter("InstanceId.1")
    event_type = required(p, "EventType")
    if event_type not in EVENT_TYPES:
        raise invalid_parameter("EventType", event_type, "not a system event type that can be simulated")
    not_before = parse_time("NotBefore", required(p, "NotBefore"))
    for instance_id in instance_ids:
        b.instance(instance_id)
    event_ids = [b.events.create(i, event_type, not_before) for i in instance_ids]
    return {"EventIdSet": {"EventId": event_ids}}


@action
def AcceptInquiredSystemEvent(b: EcsBackend, p: Params) -> dict[str, Any]:
    b.events.accept(required(p, "EventId"))
    return {}


def _single(p: Params, name: str) -> list[str] | None:
    return [p[name]] if p.get(name) else None


HISTORY_DEFAULT = ("Avoided", "Executed", "Canceled", "Failed")


@action
def DescribeInstanceHistoryEvents(b: EcsBackend, p: Params) -> dict[str, Any]:
    instance_id = p.get("InstanceId")
    event_ids = repeat_list(p, "EventId") or None
    statuses = repeat_list(p, "InstanceEventCycleStatus") or (
        [p["EventCycleStatus"]] if p.get("EventCycleStatus") else None
    )
    types = repeat_list(p, "InstanceEventType") or ([p["EventType"]] if p.get("EventType") else None)
    nb_start, nb_end = opt_time(p, "NotBefore.Start"), opt_time(p, "NotBefore.End")
    pub_start, pub_end = opt_time(p, "EventPublishTime.Start"), opt_time(p, "EventPublishTime.End")
    tagged = tag_filter(p)
    found = [
        e
        for e in b.events.events.values()
        if (not instance_id or e.instance_id == instance_id)
        and (e.instance_id not in b.instances or tagged(b.instances[e.instance_id].tags))
        and (event_ids is None or e.event_id in event_ids)
        and e.status in (statuses or HISTORY_DEFAULT)
        and (types is None or e.event_type in types)
        and (nb_start is None or e.not_before >= nb_start)
        and (nb_end is None or e.not_before <= nb_end)
        and (pub_start is None or e.publish_time >= pub_start)
        and (pub_end is None or e.publish_time <= pub_end)
    ]
    if p.get("MaxResults") or p.get("NextToken"):  # token paging (PageNumber / PageSize are being deprecated)
        items, meta = token_paged(found, p)
    else:
        items, meta = paged(found, p)
    return {"InstanceSystemEventSet": {"InstanceSystemEventType": [shapes.system_event(e) for e in items]}, **meta}


@action
def DescribeInstancesFullStatus(b: EcsBackend, p: Params) -> dict[str, Any]:
    ids = repeat_list(p, "InstanceId") or None
    if ids is not None and len(ids) > 100:
        raise invalid_parameter("InstanceId.N", len(ids), "at most 100 instances")
    status = one_of(p, "Status", INSTANCE_STATUSES)
    health = p.get("HealthStatus") or None
    found = [
        i
        for i in b.instances.values()
        if (ids is None or i.instance_id in ids)
        and (status is None or i.status == status)
        and (health is None or b.health(i) == health)
    ]
    items, meta = paged(found, p)
    return {"InstanceFullStatusSet": {"InstanceFullStatusType": [shapes.full_status(b, i) for i in items]}, **meta}


# -- Cloud Assistant ---------------------------------------------------------------------------------------------
@action
def CreateCommand(b: EcsBackend, p: Params) -> dict[str, Any]:
    content = decode_content(required(p, "CommandContent"), p.get("ContentEncoding", "Base64"))
    command_id = b.assistant.create_command(
        required(p, "Name"), required(p, "Type"), content, opt_int(p, "Timeout", 60, 10, 86400)
    )
    return {"CommandId": command_id}


@action
def InvokeCommand(b: EcsBackend, p: Params) -> dict[str, Any]:
    instance_ids = repeat_list(p, "InstanceId")
    if not instance_ids:
        raise missing_parameter("InstanceId.1")
    return {"InvokeId": b.assistant.invoke(required(p, "CommandId"), instance_ids)}


@action
def RunCommand(b: EcsBackend, p: Params) -> dict[str, Any]:
    command_type = required(p, "Type")
    # RunCommand's default is PlainText (CreateCommand's is Base64); any value but Base64 (any case) is PlainText
    encoding = "Base64" if p.get("ContentEncoding", "").lower() == "base64" else "PlainText"
    content = decode_content(required(p, "CommandContent"), encoding)
    instance_ids = repeat_list(p, "InstanceId")
    if not instance_ids:
        raise missing_parameter("InstanceId.1")
    for instance_id in instance_ids:
        b.instance(instance_id)
    name = p.get("Name") or "localcloud-run-command"
    command_id = b.assistant.create_command(name, command_type, content, opt_int(p, "Timeout", 60, 10, 86400))
    return {"CommandId": command_id, "InvokeId": b.assistant.invoke(command_id, instance_ids)}


@action
def DescribeInvocationResults(b: EcsBackend, p: Params) -> dict[str, Any]:
    plain = one_of(p, "ContentEncoding", ("PlainText", "Base64"), "Base64") == "PlainText"
    status = one_of(p, "InvokeRecordStatus", ("Running", "Finished", "Failed", "Stopped"))
    found = b.assistant.find(p.get("InvokeId") or None, p.get("InstanceId") or None, p.get("CommandId") or None, status)
    items, meta = paged(found, p)
    return {
        "Invocation": {
            "InvocationResults": {"InvocationResult": [shapes.invocation_result(r, plain) for r in items]},
            **meta,
        }
    }


# -- tags --------------------------------------------------------------------------------------------------------
def _tag_pairs(p: Params, *, legacy: bool) -> list[tuple[str, str | None]]:
    """``Tag.N.Key`` / ``Tag.N.Value`` (AddTags / RemoveTags also take ``Tag.N.key`` / ``Tag.N.value``); a value
    without its key is InvalidTag.Mismatch, an empty key InvalidTagKey.Malformed."""
    out: list[tuple[str, str | None]] = []
    for group in repeat_fields(p, "Tag"):
        key = group.get("Key", group.get("key") if legacy else None)
        value = group.get("Value", group.get("value") if legacy else None)
        if key is None:
            raise errors.tag_mismatch()
        if not key:
            raise errors.invalid_tag_key()
        out.append((key, value))
    return out


def _resource_type(p: Params) -> str:
    value = p.get("ResourceType", "")
    if not value:
        raise errors.missing_tag_parameter("ResourceType")
    return value


def _resource_ids(p: Params) -> list[str]:
    ids = repeat_list(p, "ResourceId")
    if not ids:
        raise missing_parameter("ResourceId.1")
    return ids


@action
def TagResources(b: EcsBackend, p: Params) -> dict[str, Any]:
    resource_type, resource_ids = _resource_type(p), _resource_ids(p)
    pairs = [(k, v or "") for k, v in _tag_pairs(p, legacy=False)]
    if not pairs:
        raise errors.missing_tag_parameter("Tags")
    tagging.tag(b, resource_type, resource_ids, pairs)
    return {}


@action
def UntagResources(b: EcsBackend, p: Params) -> dict[str, Any]:
    resource_type, resource_ids = _resource_type(p), _resource_ids(p)
    tagging.untag(b, resource_type, resource_ids, repeat_list(p, "TagKey"), remove_all=opt_bool(p, "All"))
    return {}


@action
def ListTagResources(b: EcsBackend, p: Params) -> dict[str, Any]:
    resource_type = _resource_type(p)
    if repeat_fields(p, "TagFilter"):
        raise invalid_parameter("TagFilter.N", "...", "fuzzy TagFilter search is not served by localcloud")
    wanted: list[tuple[str, str | None]] = []
    for group in repeat_fields(p, "Tag"):
        if not group.get("Key"):
            raise CloudError("InvalidParameter.TagValue", "The specified Tag.n.Value requires its Tag.n.Key.", 400)
        wanted.append((group["Key"], group.get("Value")))
    resource_ids = repeat_list(p, "ResourceId")
    if not resource_ids and not wanted:
        raise missing_parameter("ResourceId.N or Tag.N")
    found = tagging.rows(b, resource_type, resource_ids, wanted)
    token = p.get("NextToken") or ""
    start = _token_offset(token) if token else 0
    page_rows, end = found[start : start + tagging.LIST_PAGE], start + tagging.LIST_PAGE
    return {
        "TagResources": {"TagResource": [shapes.tag_row(r) for r in page_rows]},
        "NextToken": _token(end) if end < len(found) else "",
    }


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"lc-tags:{offset}".encode()).decode()


def _token_offset(token: str) -> int:
    try:
        prefix, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if prefix == "lc-tags" and int(offset) >= 0:
            return int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    raise invalid_parameter("NextToken", token, "not a token this API returned")


@action
def AddTags(b: EcsBackend, p: Params) -> dict[str, Any]:
    resource_type, resource_id = _resource_type(p), required(p, "ResourceId")
    pairs = [(k, v or "") for k, v in _tag_pairs(p, legacy=True)]
    tagging.tag(b, resource_type, [resource_id], pairs, legacy=True)
    return {}


@action
def RemoveTags(b: EcsBackend, p: Params) -> dict[str, Any]:
    resource_type, resource_id = _resource_type(p), required(p, "ResourceId")
    tagging.remove_matching(b, resource_type, resource_id, _tag_pairs(p, legacy=True))
    return {}
