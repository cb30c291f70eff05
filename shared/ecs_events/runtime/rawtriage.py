"""``ecs_events.runtime.triage`` on the decoded JSON, before any model is built (FC cold start: no pydantic).

The no-op classes ``triage.no_op`` answers (a ``Snapshot:CreateSnapshotCompleted`` of a snapshot that is not ours,
an ``Instance:StateChange`` other than ``Stopped`` of an instance with no saga, a name no playbook handles), answered
from the notification dict as it came. ``no_op`` answers only when the dict is certainly what the model accepts
(every field the model reads of the exact type and form it accepts, no snake_case alias, times in the plain forms
``parse_time`` reads) and the account guard certainly passes (no ARN mismatch, the one configured account). Anything
else, any doubt, is None: the full path (pydantic model, engine) decides, with its one-line errors and dead letters.
``tests/unit/test_rawtriage.py`` holds it to the full path on the sample corpus and generated mutations.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from ecs_events.kinds import EventKind, kind_of
from ecs_events.store.base import Store

log = logging.getLogger("ecs_events.engine")  # the engine's logger: the same line the engine would write

# Top-level fields of ``models.base.Notification`` by wire name, and the content fields of the families answered.
_TOP = frozenset({"ver", "id", "product", "resourceId", "level", "name", "userId", "eventTime", "regionId", "content"})
_LEVELS = frozenset({"INFO", "WARN", "CRITICAL"})
_STATES = frozenset({"Pending", "Starting", "Running", "Stopping", "Stopped", "Deleted"})
_RESULTS = frozenset({"accomplished", "failed"})
# Keys that could name a model attribute (a field by its Python name, a property, pydantic's own): never an extra.
_RESERVED = frozenset(
    {
        "resource_id", "user_id", "event_time", "region_id", "kind", "event_type", "status", "instance_id", "disk_id",
        "snapshot_id", "not_before", "account", "region", "mismatches", "summary", "state", "failed", "resource_type",
        "snapshot_name", "start_time", "end_time", "result", "operation",
    }
)  # fmt: skip
_SNAPSHOT_CONTENT = frozenset({"result", "diskId", "snapshotId", "snapshotName", "startTime", "endTime"})
_STATE_CONTENT = frozenset({"resourceId", "resourceType", "state"})
_ID_KEYS = {"instance": "instanceId", "disk": "diskId", "snapshot": "snapshotId"}  # models.unknown's claims

# The plain wire times, both forms, seconds and at most 6 fraction digits: ``parse_time`` reads every one of these
# whose fields make a date and time in 1971..9997 (kept strictly inside its 1970..9998: no UTC conversion question).
_TIME = re.compile(
    r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})T([0-9]{2}):?([0-9]{2}):?([0-9]{2})(?:\.[0-9]{1,6})?"
    r"(Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?"
)
_COMPACT = re.compile(r"[0-9]{8}T[0-9]{6}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:?[0-9]{2})?")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})")


class Answer(NamedTuple):
    """What the full path would have said: the engine's outcome and reason, and what the handler logs and reports."""

    outcome: str
    reason: str
    kind: EventKind
    name: str
    event_id: str | None
    instance_id: str | None


def _certain_time(value: Any) -> bool:
    """``value`` is a time ``parse_time`` (and the native ``WireTime`` reading) certainly accepts."""
    if value.__class__ is not str or not (_COMPACT.fullmatch(value) or _ISO.fullmatch(value)):
        return False
    match = _TIME.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    if not 1971 <= year <= 9997:
        return False
    try:
        datetime(year, month, day, hour, minute, second, tzinfo=timezone(timedelta(0)))
    except ValueError:
        return False
    return True


def _one_of(value: Any, allowed: frozenset[str]) -> bool:
    return value.__class__ is str and value in allowed


def _optional_str(obj: dict[str, Any], key: str) -> bool:
    value = obj.get(key)
    return value is None or value.__class__ is str


def _plain_extras(obj: dict[str, Any], known: frozenset[str]) -> bool:
    """Every key not a known wire name is a plain extra (kept by the model, read by nothing)."""
    return all(
        key in known or not (key in _RESERVED or key.startswith(("_", "model_")) or key.isidentifier() is False)
        for key in obj
    )


def _arn(value: Any) -> tuple[str, str, str, str] | None:
    """(region, account, resource type, resource id) of an ARN ``ResourceArn.parse`` accepts; None otherwise."""
    if value.__class__ is not str:
        return None
    parts = value.split(":", 4)
    if len(parts) != 5 or parts[0] != "acs" or not parts[1]:
        return None
    resource_type, slash, resource_id = parts[4].partition("/")
    if not slash or not resource_type or not resource_id:
        return None
    return parts[2], parts[3], resource_type, resource_id


def _content(kind: EventKind, content: Any) -> bool:
    """The family's content model accepts ``content`` for certain."""
    if content.__class__ is not dict:
        return False
    if kind is EventKind.UNKNOWN:
        return True  # ``dict[str, Any]``: any JSON object
    if kind is EventKind.SNAPSHOT_COMPLETED:
        return (
            _plain_extras(content, _SNAPSHOT_CONTENT)
            and _one_of(content.get("result"), _RESULTS)
            and content.get("snapshotId").__class__ is str
            and _optional_str(content, "diskId")
            and _optional_str(content, "snapshotName")
            and all(content.get(key) is None or _certain_time(content[key]) for key in ("startTime", "endTime"))
        )
    return (  # STATE_CHANGE
        _plain_extras(content, _STATE_CONTENT)
        and content.get("resourceId").__class__ is str
        and _optional_str(content, "resourceType")
        and _one_of(content.get("state"), _STATES)
    )


def _claim(kind: EventKind, content: dict[str, Any], resource_type: str) -> str | None:
    """The resource id the content names for the ARN's resource type (``Notification._claimed_id``)."""
    if kind is EventKind.SNAPSHOT_COMPLETED:
        key = {"snapshot": "snapshotId", "disk": "diskId"}.get(resource_type)
    elif kind is EventKind.STATE_CHANGE:
        key = "resourceId" if resource_type == "instance" else None
    else:
        key = _ID_KEYS.get(resource_type)
    value = content.get(key) if key else None
    return value if isinstance(value, str) else None


def _instance_id(kind: EventKind, content: dict[str, Any], arn: tuple[str, str, str, str]) -> str | None:
    """The event's ``instance_id`` as its model says it."""
    if kind is EventKind.SNAPSHOT_COMPLETED:
        return None
    if kind is EventKind.STATE_CHANGE:
        return str(content["resourceId"])
    for key in ("instanceId", "ecsInstanceId"):
        value = content.get(key)
        if isinstance(value, str):
            return value
    return arn[3] if arn[2] == "instance" else None


def no_op(obj: dict[str, Any], store: Store, account_id: str) -> Answer | None:
    """``ignored`` and the engine's reason when ``obj`` (a notification as decoded) is certainly a no-op event the
    full path would answer the same; None: the full path decides."""
    name = obj.get("name")
    if name.__class__ is not str:
        return None
    kind = kind_of(name)
    if kind not in (EventKind.SNAPSHOT_COMPLETED, EventKind.STATE_CHANGE, EventKind.UNKNOWN):
        return None
    arn = _arn(obj.get("resourceId"))
    region, user, content = obj.get("regionId"), obj.get("userId"), obj.get("content")
    if (
        arn is None
        or region.__class__ is not str
        or not _plain_extras(obj, _TOP)
        or not all(_optional_str(obj, key) for key in ("ver", "id", "product", "userId"))
        or not (obj.get("level") is None or _one_of(obj["level"], _LEVELS))
        or not (obj.get("eventTime") is None or _certain_time(obj["eventTime"]))
        or not _content(kind, content)
    ):
        return None
    assert isinstance(content, dict)
    arn_region, arn_account, resource_type, resource_id = arn
    claim = _claim(kind, content, resource_type)
    if (user and arn_account and arn_account != user) or (arn_region and arn_region != region):
        return None  # the engine's guard refuses it (an inconsistent event), with its reason
    if (claim and claim != resource_id) or {a for a in (user, arn_account) if a} != {account_id}:
        return None
    event_id = obj.get("id")
    instance_id = _instance_id(kind, content, arn)
    if kind is EventKind.SNAPSHOT_COMPLETED:
        snapshot_id = content["snapshotId"]
        if store.get(f"index/snapshot/{snapshot_id}") is not None:
            return None
        return Answer("ignored", f"snapshot {snapshot_id} is not one of ours", kind, name, event_id, instance_id)
    if kind is EventKind.STATE_CHANGE:
        state = content["state"]
        if state == "Stopped" or store.scan(f"saga/{instance_id or ''}/"):
            return None  # a saga to advance, or a stop nothing of ours explains (a notice)
        return Answer("ignored", f"state {state}: nothing to advance", kind, name, event_id, instance_id)
    log.info("no playbook for %s: kept in the log, no action", name, extra={"event_id": event_id})
    return Answer("ignored", f"no playbook for {name}", kind, name, event_id, instance_id)
