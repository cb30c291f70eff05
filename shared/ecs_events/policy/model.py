"""The policy file's model (pydantic, strict, unknown keys refused) and what it resolves to for one event.

``Policy`` is the file; ``Policy.resolve(event_type, tags)`` layers, in order, the file's defaults, every matching
``events:`` override (globs before exact names, less specific globs first, so the most specific wins), and the
instance's tags, into an ``Effective``: a frozen, fully decided set of knobs the playbooks read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import timedelta
from fnmatch import fnmatchcase
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from ecs_events.policy import limits
from ecs_events.policy.durations import bounded, format_duration
from ecs_events.policy.errors import FieldValueError, shown
from ecs_events.policy.families import FAMILIES, KNOWN_EVENT_TYPES, canonical_event_type, family_of
from ecs_events.policy.tags import tag_overrides
from ecs_events.policy.windows import Window

_STRICT = ConfigDict(frozen=True, extra="forbid", strict=True)
_GLOB_CHARS = frozenset("*?[")
# Every duration setting is bounded (limits.py): no value the file accepts can overflow the engine's arithmetic.
Lead = Annotated[timedelta, bounded(limits.LEAD)]
DrainPeriod = Annotated[timedelta, bounded(limits.DRAIN_PERIOD)]
MaxDrain = Annotated[timedelta, bounded(limits.MAX_DRAIN)]
PollInterval = Annotated[timedelta, bounded(limits.POLL_INTERVAL)]
CommandTimeout = Annotated[timedelta, bounded(limits.COMMAND_TIMEOUT)]


class Command(BaseModel):
    """A Cloud Assistant command run on the instance before a reboot (``RunCommand``), e.g. to stop a service."""

    model_config = _STRICT

    content: str = Field(min_length=1)
    type: Literal["RunShellScript", "RunBatScript", "RunPowerShellScript"] = "RunShellScript"
    timeout: CommandTimeout = timedelta(seconds=60)

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected a script, got only white space")
        return value


class Budget(BaseModel):
    """Per load balancer, at most ``max(min, floor(percent% of its backends))`` backends drained at once."""

    model_config = _STRICT

    min: int = Field(1, ge=1)
    percent: float = Field(10.0, ge=0, le=100)


def _all_families(value: object) -> object:
    """``snapshot: false`` is shorthand for every family off (and ``true`` for on)."""
    return dict.fromkeys(FAMILIES, value) if isinstance(value, bool) else value


class Snapshots(BaseModel):
    """Snapshot before acting, per event family. Billing snapshots data disks only (before a ``.Delete``);
    preemption snapshots data disks only."""

    model_config = _STRICT

    maintenance: bool = True
    failure: bool = False
    billing: bool = True
    disk_error: bool = True
    preemption: bool = False

    def enabled(self, family: str | None) -> bool:
        return bool(getattr(self, family)) if family is not None else False


class EventOverride(BaseModel):
    """Per-event-type changes. Only keys present in the file apply (``window: null`` means no window here)."""

    model_config = _STRICT

    window: Window | None = None
    lead: Lead = timedelta(0)
    drain_period: DrainPeriod = timedelta(0)
    snapshot: bool = False
    skip: bool = False
    accept_inquiring: bool = False
    pre_reboot_command: Command | None = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


@dataclass(frozen=True)
class Effective:
    """Everything decided for one event on one instance. ``warnings`` lists tags that were ignored (one line each)."""

    event_type: str
    family: str | None
    window: Window | None
    lead: timedelta
    drain_period: timedelta
    max_drain: timedelta
    poll_interval: timedelta
    snapshot: bool
    snapshot_data_only: bool
    pre_reboot_command: Command | None
    accept_inquiring: bool
    self_redeploy: bool
    skip: bool
    budget_min: int
    budget_percent: float
    warnings: tuple[str, ...] = ()

    @property
    def command(self) -> Command | None:
        """Alias of ``pre_reboot_command`` (the engine spec's name)."""
        return self.pre_reboot_command

    def budget_for(self, total_backends: int) -> int:
        """How many of a load balancer's ``total_backends`` may be drained at once."""
        share = Fraction(str(self.budget_percent)) * total_backends / 100
        return max(self.budget_min, math.floor(share))


class Policy(BaseModel):
    """The remediation policy. ``Policy()`` is the defaults; ``load_policy(path)`` reads a file."""

    model_config = _STRICT

    window: Window | None = None
    lead: Lead = timedelta(minutes=30)
    drain_period: DrainPeriod = timedelta(seconds=60)
    max_drain: MaxDrain = timedelta(hours=2)
    poll_interval: PollInterval = timedelta(seconds=15)
    budget: Budget = Budget()
    snapshot: Annotated[Snapshots, BeforeValidator(_all_families)] = Snapshots()
    pre_reboot_command: Command | None = None
    accept_inquiring: bool = False
    self_redeploy: bool = False
    events: dict[str, EventOverride] = {}

    @field_validator("events")
    @classmethod
    def _known_types(cls, value: dict[str, EventOverride]) -> dict[str, EventOverride]:
        canonical: dict[str, EventOverride] = {}
        spelled: dict[str, str] = {}
        for key, override in value.items():
            name = canonical_event_type(key)
            is_glob = bool(_GLOB_CHARS & set(name))
            known = (
                any(fnmatchcase(known, name) for known in KNOWN_EVENT_TYPES) if is_glob else name in KNOWN_EVENT_TYPES
            )
            if not known:
                raise ValueError(
                    f"unknown event type {shown(key)} (expected e.g. SystemMaintenance.Reboot, Disk:Stalled, "
                    "PreemptibleInstanceInterruption, or a glob matching one like SystemFailure.*)"
                )
            if name in canonical:
                raise ValueError(f"{shown(spelled[name])} and {shown(key)} are the same event type")
            canonical[name], spelled[name] = override, key
        return canonical

    @model_validator(mode="after")
    def _drains_end(self) -> Policy:
        periods = [("drain_period", self.drain_period)]
        periods += [(f"events.{key}.drain_period", o.drain_period) for key, o in self.events.items()]
        for name, period in periods:
            if period > self.max_drain:
                limit = format_duration(self.max_drain)
                raise FieldValueError(name, f"{format_duration(period)} is longer than max_drain ({limit})")
        return self

    def resolve(self, event_type: str, tags: dict[str, str], tag_prefix: str = "ecs-events:") -> Effective:
        """The effective knobs for ``event_type`` on an instance with ``tags``. Never raises on a bad tag."""
        name = canonical_event_type(event_type)
        family = family_of(name)
        effective = Effective(
            event_type=name,
            family=family,
            window=self.window,
            lead=self.lead,
            drain_period=self.drain_period,
            max_drain=self.max_drain,
            poll_interval=self.poll_interval,
            snapshot=self.snapshot.enabled(family),
            snapshot_data_only=family in ("billing", "preemption"),
            pre_reboot_command=self.pre_reboot_command,
            accept_inquiring=self.accept_inquiring,
            self_redeploy=self.self_redeploy,
            skip=False,
            budget_min=self.budget.min,
            budget_percent=self.budget.percent,
        )
        for override in self._overrides_for(name):
            effective = replace(effective, **override.changes())
        changes, warnings = tag_overrides(tags, tag_prefix)
        return replace(effective, **changes, warnings=tuple(warnings))

    def _overrides_for(self, name: str) -> list[EventOverride]:
        """Matching overrides, least specific first: globs by how many literal characters they have, then file
        order; the exact name last."""
        ranked = []
        for index, (key, override) in enumerate(self.events.items()):
            if key == name:
                ranked.append(((1, 0, index), override))
            elif _GLOB_CHARS & set(key) and fnmatchcase(name, key):
                literal = sum(1 for char in key if char not in _GLOB_CHARS)
                ranked.append(((0, literal, index), override))
        return [override for _, override in sorted(ranked, key=lambda pair: pair[0])]
