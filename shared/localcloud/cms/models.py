"""CloudMonitor event rules: state, validation and matching. One ``CmsBackend`` per (account, region).

A rule (``EventRule``) has event patterns and targets. It matches a notification when it is ENABLED, of type SYSTEM,
and ANY of its patterns matches. A pattern matches when EVERY list it has matches (an empty list, or one holding
``*``, matches anything):

- ``Product``: the notification's ``product``, case-insensitive (``ECS`` / ``ecs``: both spellings are in the docs);
- ``NameList``: the full notification name with its status suffix (``Instance:SystemMaintenance.Reboot:Scheduled``),
  exact, as the CMS appendix lists them. A name without the suffix matches only a notification named without one
  (``Instance:StateChange``): the reference documents no prefix matching, so the fake does none;
- ``LevelList``: the notification's ``level`` (CRITICAL | WARN | INFO), case-insensitive;
- ``StatusList``: ``content.eventStatus``, else the name's status suffix; a notification with neither matches only
  an empty list or ``*``;
- ``EventTypeList``: the CloudMonitor event type of the name (``cms_event_type``);
- ``KeywordFilter``: the keywords as substrings of the notification JSON, any of them (Relation OR, the default) or
  all (AND); ``CustomFilters`` (documented as "a keyword"): a substring of the notification JSON;
- ``SQLFilter`` is stored and listed but not evaluated (SLS query syntax): it never filters anything out.

Targets are kept per rule by ``Id`` (upsert: a target with an existing Id replaces it, whatever its kind).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from localcloud.cms import exceptions as exc

LEVELS = ("CRITICAL", "WARN", "INFO", "*")
EVENT_TYPES = ("StatusNotification", "Exception", "Maintenance", "*")
STATES = ("ENABLED", "DISABLED")
RULE_TYPES = ("SYSTEM", "CUSTOM")
DEFAULT_SILENCE = 86400  # the docs' example and the console's default; stored and listed, never applied
MAX_LIST = 50  # "Valid values of N: 1 to 50" for EventPattern.N and each of its lists
MAX_TARGETS = 5  # N of MnsParameters.N, FcParameters.N, ... per call

_MAINTENANCE = ("SystemMaintenance.", "InstanceExpiration.", "AccountUnbalanced.")
_EXCEPTION = ("SystemFailure.", "InstanceFailure.", "Security.")
_STATUS_NOTIFICATIONS = frozenset(
    {
        "Instance:StateChange",
        "Instance:PreemptibleInstanceInterruption",
        "Snapshot:CreateSnapshotCompleted",
        "Disk:DiskOperationCompleted",
    }
)


def cms_event_type(name: str) -> str | None:
    """CloudMonitor's event type for an ECS notification name: SystemMaintenance.* -> Maintenance;
    SystemFailure.* / InstanceFailure.* / Security.* and disk system events -> Exception; state changes,
    preemption notices, snapshot and disk operation results -> StatusNotification. Billing events
    (InstanceExpiration.*, AccountUnbalanced.*) -> Maintenance: like maintenance they announce a scheduled platform
    action (stop / release) with a deadline. Anything else: None (matches only ``*``)."""
    resource, _, rest = name.partition(":")
    event = rest.partition(":")[0]
    if f"{resource}:{event}" in _STATUS_NOTIFICATIONS:
        return "StatusNotification"
    if resource == "Instance" and event.startswith(_MAINTENANCE):
        return "Maintenance"
    if resource == "Instance" and event.startswith(_EXCEPTION):
        return "Exception"
    if resource == "Disk" and event:
        return "Exception"
    return None


def _status_of(notification: dict[str, Any]) -> str | None:
    content = notification.get("content")
    status = content.get("eventStatus") if isinstance(content, dict) else None
    if isinstance(status, str) and status:
        return status
    parts = str(notification.get("name", "")).split(":")
    return parts[2] if len(parts) > 2 and parts[2] else None


def _any_or(values: tuple[str, ...], have: str | None, *, fold: bool = False) -> bool:
    if not values or "*" in values:
        return True
    if have is None:
        return False
    return have.upper() in {v.upper() for v in values} if fold else have in values


@dataclass(frozen=True)
class EventPattern:
    product: str
    names: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    relation: str = ""
    sql_filter: str = ""
    custom_filters: str = ""

    def validate(self, n: int) -> None:
        """Value sets CMS checks in the business layer: a violation is HTTP 200 + Success false."""
        if not self.product.strip():
            raise exc.bad_pattern(f"EventPattern.{n}.Product is mandatory")
        for level in self.levels:
            if level.upper() not in LEVELS:
                raise exc.bad_pattern(f"EventPattern.{n}.LevelList {level!r} is not one of {', '.join(LEVELS)}")
        for kind in self.event_types:
            if kind not in EVENT_TYPES:
                raise exc.bad_pattern(f"EventPattern.{n}.EventTypeList {kind!r} is not one of {', '.join(EVENT_TYPES)}")
        if self.relation and self.relation.upper() not in ("AND", "OR"):
            raise exc.bad_pattern(f"EventPattern.{n}.KeywordFilter.Relation {self.relation!r} is not AND or OR")

    def matches(self, notification: dict[str, Any], text: str) -> bool:
        """``text``: the notification as JSON, for keyword filters."""
        name = str(notification.get("name", ""))
        level = notification.get("level")
        return (
            self.product.lower() == str(notification.get("product", "")).lower()
            and _any_or(self.names, name)
            and _any_or(self.levels, level if isinstance(level, str) else None, fold=True)
            and _any_or(self.statuses, _status_of(notification))
            and _any_or(self.event_types, cms_event_type(name))
            and self._keywords(text)
            and (not self.custom_filters or self.custom_filters in text)
        )

    def _keywords(self, text: str) -> bool:
        if not self.keywords:
            return True
        found = [keyword in text for keyword in self.keywords]
        return all(found) if self.relation.upper() == "AND" else any(found)


@dataclass(frozen=True)
class Target:
    """One target of a rule: ``kind`` is the parameter family (``Mns``, ``Fc``, ``Webhook``, ``Contact``, ``Sls``,
    ``OpenApi``); ``fields`` its parameters as sent (Id included)."""

    kind: str
    id: str
    fields: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def queue(self) -> str:
        return self.fields.get("Queue", "") if self.kind == "Mns" else ""

    @property
    def topic(self) -> str:
        return self.fields.get("Topic", "") if self.kind == "Mns" else ""


@dataclass
class EventRule:
    name: str
    patterns: list[EventPattern]
    description: str = ""
    state: str = "ENABLED"
    event_type: str = "SYSTEM"
    group_id: str = ""
    silence_time: int = DEFAULT_SILENCE
    targets: dict[str, Target] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.state == "ENABLED"

    def matches(self, notification: dict[str, Any], text: str) -> bool:
        return (
            self.enabled
            and self.event_type == "SYSTEM"
            and any(pattern.matches(notification, text) for pattern in self.patterns)
        )


class CmsBackend:
    """The event rules of one account in one region (insertion order is listing order)."""

    def __init__(self, account_id: str, region_id: str) -> None:
        self.account_id = account_id
        self.region_id = region_id
        self.rules: dict[str, EventRule] = {}

    def get(self, name: str) -> EventRule:
        rule = self.rules.get(name)
        if rule is None:
            raise exc.resource_not_found(f"event rule {name}")
        return rule

    def put_rule(self, rule: EventRule) -> EventRule:
        """Create, or modify the rule of that name (its targets are kept): PutEventRule is an upsert."""
        for n, pattern in enumerate(rule.patterns, start=1):
            pattern.validate(n)
        old = self.rules.get(rule.name)
        if old is not None:
            rule.targets = old.targets
        self.rules[rule.name] = rule
        return rule

    def put_targets(self, name: str, targets: Iterable[Target], failed: Iterable[Target] = ()) -> None:
        rule = self.get(name)
        refused = {t.id for t in failed}
        for target in targets:
            if target.id not in refused:
                rule.targets[target.id] = target

    def delete_targets(self, name: str, ids: Iterable[str]) -> None:
        rule = self.get(name)
        for target_id in ids:
            rule.targets.pop(target_id, None)

    def _all(self, names: Iterable[str]) -> list[EventRule]:
        return [self.get(name) for name in names]  # all or nothing: a missing name changes none

    def delete_rules(self, names: Iterable[str]) -> int:
        rules = self._all(names)
        for rule in rules:
            self.rules.pop(rule.name, None)
        return len(rules)

    def set_state(self, names: Iterable[str], state: str) -> int:
        rules = self._all(names)
        for rule in rules:
            rule.state = state
        return len(rules)

    def listing(self, prefix: str = "", group_id: str = "", enabled: bool | None = None) -> list[EventRule]:
        return [
            rule
            for rule in self.rules.values()
            if rule.name.startswith(prefix)
            and (not group_id or rule.group_id == group_id)
            and (enabled is None or rule.enabled == enabled)
        ]

    def matching(self, notification: dict[str, Any]) -> list[tuple[EventRule, Target]]:
        """Every (rule, target) a notification goes to: once per target of each matching rule."""
        text = json.dumps(notification, ensure_ascii=False)
        return [
            (rule, target)
            for rule in self.rules.values()
            if rule.matches(notification, text)
            for target in rule.targets.values()
        ]
