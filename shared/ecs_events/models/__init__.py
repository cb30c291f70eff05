"""Typed CloudMonitor ECS notifications: one discriminated union over every event family.

``parse_notification(dict)`` is the entry point; every event has the plain attributes ``kind``, ``event_type``,
``status``, ``instance_id``, ``disk_id``, ``snapshot_id``, ``not_before``, ``account`` and ``region``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, get_args

from pydantic import Discriminator, Tag, ValidationError

from ecs_events.errors import EventValidationError, quote
from ecs_events.kinds import kind_of
from ecs_events.models.arn import ResourceArn
from ecs_events.models.base import (
    NAME_STATUS_ERROR,
    EventKind,
    Level,
    Notification,
    SystemEventStatus,
    name_status_problem,
)
from ecs_events.models.disk import DISK_EVENT_TYPES, DiskSystemEvent, DiskSystemEventContent
from ecs_events.models.instance import (
    BILLING_TYPES,
    FAILURE_TYPES,
    INSTANCE_EVENT_TYPES,
    MAINTENANCE_TYPES,
    InstanceSystemEvent,
    InstanceSystemEventContent,
)
from ecs_events.models.status import (
    DiskOperationCompleted,
    InstanceState,
    InstanceStateChange,
    OperationResult,
    PreemptibleInstanceInterruption,
    SnapshotCompleted,
)
from ecs_events.models.times import WIRE_TIME_ERROR, iso_utc, parse_time
from ecs_events.models.unknown import UnknownEvent


def _discriminate(value: Any) -> str:
    name = value.get("name") if isinstance(value, dict) else getattr(value, "name", None)
    # A missing or non-string name falls to the unknown model, whose own validation names the field.
    return kind_of(name).value if isinstance(name, str) else EventKind.UNKNOWN.value


# The one dispatch table: each family tagged with its own ``kind``. ``parse_notification`` dispatches through
# ``_MODELS``, derived from it below (the union's callable tag is slower than a dict lookup).
EcsEvent = Annotated[
    Annotated[InstanceSystemEvent, Tag(InstanceSystemEvent.kind.value)]
    | Annotated[DiskSystemEvent, Tag(DiskSystemEvent.kind.value)]
    | Annotated[InstanceStateChange, Tag(InstanceStateChange.kind.value)]
    | Annotated[PreemptibleInstanceInterruption, Tag(PreemptibleInstanceInterruption.kind.value)]
    | Annotated[DiskOperationCompleted, Tag(DiskOperationCompleted.kind.value)]
    | Annotated[SnapshotCompleted, Tag(SnapshotCompleted.kind.value)]
    | Annotated[UnknownEvent, Tag(UnknownEvent.kind.value)],
    Discriminator(_discriminate),
]

_MODELS: dict[EventKind, type[Notification]] = {
    model.kind: model for model in (get_args(member)[0] for member in get_args(get_args(EcsEvent)[0]))
}
assert set(_MODELS) == set(EventKind), "every EventKind has one model in EcsEvent"
_TAGS = frozenset(kind.value for kind in _MODELS)
_VALIDATE: dict[EventKind, Callable[[Any], EcsEvent]] = {}  # filled on first use of each kind
# The validator per name seen (a few dozen names arrive; bounded against made-up ones)
_BY_NAME: dict[Any, Callable[[Any], EcsEvent]] = {}
_NAMES_CACHED = 512


def _validator(kind: EventKind) -> Callable[[Any], EcsEvent]:
    """The kind's model validator, built on first use (defer_build): one model per kind, not all."""
    validate = _VALIDATE.get(kind)
    if validate is None:
        validate = _VALIDATE[kind] = _MODELS[kind].__pydantic_validator__.validate_python
    return validate


def describe_validation_error(exc: ValidationError) -> tuple[str, str]:
    """(field path, reason) of the first problem, with a count of the others."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    # The union's tag is the first loc element; it is not a field of the payload.
    loc = [str(part) for part in first["loc"] if part not in _TAGS]
    field = ".".join(loc) or "(notification)"
    if first["type"] == WIRE_TIME_ERROR:  # a time both readings refused: parse_time says why, as it always did
        try:
            parse_time(first["input"])
            reason = first["msg"]
        except ValueError as refused:
            reason = str(refused)
    elif first["type"] == NAME_STATUS_ERROR:
        reason = name_status_problem(first["input"]) or first["msg"]
    elif first["type"] == "value_error":  # our own validators already say what they got
        reason = str(first.get("ctx", {}).get("error", first["msg"]))
    else:
        reason = first["msg"]
        if first["type"] != "missing" and not isinstance(first.get("input"), dict | list):
            reason = f"{reason} (got {quote(first.get('input'))})"
    if len(errors) > 1:
        reason = f"{reason} (+{len(errors) - 1} more)"
    return field, reason


def parse_notification(payload: Any, *, source: str = "cloudmonitor") -> EcsEvent:
    """Validate one CloudMonitor notification (a dict) into its typed event.

    Raises EventValidationError naming ``source`` and the field."""
    if payload.__class__ is not dict and not isinstance(payload, dict):
        raise EventValidationError(f"expected a JSON object, got {type(payload).__name__}", source=source)
    name = payload.get("name")
    try:
        validate = _BY_NAME[name]  # a str seen before (a str key: EventKind's hash is Python)
    except (KeyError, TypeError):  # TypeError: an unhashable name (a list, an object)
        validate = _validator_for(name)
    try:
        return validate(payload)  # direct dispatch: cheaper than the union's callable tag
    except ValidationError as exc:
        field, reason = describe_validation_error(exc)
        raise EventValidationError(reason, source=source, field=field) from None


def _validator_for(name: Any) -> Callable[[Any], EcsEvent]:
    """The validator of the family ``name`` belongs to (UNKNOWN for a missing or non-string name, whose own
    validation names the field), remembered for a string name."""
    if name.__class__ is not str:  # a str subclass (or anything else) is never a cache key: dispatched each time
        return _validator(kind_of(name) if isinstance(name, str) else EventKind.UNKNOWN)
    validate = _validator(kind_of(name))
    if len(_BY_NAME) < _NAMES_CACHED:
        _BY_NAME[name] = validate
    return validate


__all__ = [
    "BILLING_TYPES",
    "DISK_EVENT_TYPES",
    "FAILURE_TYPES",
    "INSTANCE_EVENT_TYPES",
    "MAINTENANCE_TYPES",
    "DiskOperationCompleted",
    "DiskSystemEvent",
    "DiskSystemEventContent",
    "EcsEvent",
    "EventKind",
    "InstanceState",
    "InstanceStateChange",
    "InstanceSystemEvent",
    "InstanceSystemEventContent",
    "Level",
    "Notification",
    "OperationResult",
    "PreemptibleInstanceInterruption",
    "ResourceArn",
    "SnapshotCompleted",
    "SystemEventStatus",
    "UnknownEvent",
    "iso_utc",
    "kind_of",
    "parse_notification",
    "parse_time",
]
