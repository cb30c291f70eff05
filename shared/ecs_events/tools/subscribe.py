"""The CloudMonitor event rule that sends the ECS events the playbooks act on to the events queue (or a topic).

One rule (``ecs-events`` by default), Product ECS, state ENABLED, whose NameList is every notification name the
engine handles, derived from the model's type lists (never a hand copy):

- every instance system event type (maintenance, failure, billing) x every status (``Instance:<Type>:<Status>``);
- every disk system event type x Executing / Executed (disk events start and end, nothing else);
- ``Instance:StateChange``, ``Instance:PreemptibleInstanceInterruption``, ``Snapshot:CreateSnapshotCompleted``,
  ``Disk:DiskOperationCompleted`` (``ecs_events.policy.families.STATUS_TYPES``).

CloudMonitor takes at most 50 names per NameList (and 50 patterns), so the names are split over as many
``EventPattern.N`` as needed, each ``{Product: ECS, NameList: [...]}``; a rule matches when any pattern does.

The target is one MNS parameter with the fixed Id ``ecs-events`` (re-running with ``--topic`` instead of ``--queue``
replaces it). ``apply`` is idempotent: it reads the rule and its targets back (DescribeEventRuleList,
DescribeEventRuleTargetList) and puts only what differs ("created" / "updated" / "unchanged"). ``delete`` removes
every target of the rule, then the rule. Every call is a new SDK request through ``ecs_events.retry.call``; CMS's
HTTP 200 + ``"Success": false`` answers become one-line ``SubscribeError``s.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from ecs_events.actions.rpc import rpc_call
from ecs_events.errors import EcsEventsError
from ecs_events.models import DISK_EVENT_TYPES, INSTANCE_EVENT_TYPES, SystemEventStatus
from ecs_events.policy.families import STATUS_TYPES

RULE_NAME = "ecs-events"
TARGET_ID = "ecs-events"
PRODUCT = "ECS"
NAMES_PER_PATTERN = 50
MAX_PATTERNS = 50
DISK_STATUSES = ("Executing", "Executed")
DESCRIPTION = "ecs-events: ECS system events for automatic remediation"
PAGE_SIZE = 100
_RULE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_MNS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,255}$")

Outcome = Literal["created", "updated", "unchanged", "deleted", "absent"]


class SubscribeError(EcsEventsError):
    """CloudMonitor refused (HTTP 200 with ``Success: false``) or answered something unusable: one line."""


class SubscribeInputError(EcsEventsError):
    """A bad rule, queue or topic name: one line, exit 2."""


def event_names() -> list[str]:
    """Every notification name the engine handles, with its status suffix where the name has one."""
    statuses = [status.value for status in SystemEventStatus]
    names = [f"Instance:{t}:{s}" for t in sorted(INSTANCE_EVENT_TYPES) for s in statuses]
    names += [f"Disk:{t}:{s}" for t in sorted(DISK_EVENT_TYPES) for s in DISK_STATUSES]
    names += sorted(t if ":" in t else f"Instance:{t}" for t in STATUS_TYPES)
    return names


def event_patterns(names: list[str], per_pattern: int = NAMES_PER_PATTERN) -> list[dict[str, Any]]:
    """``[{Product, NameList}]`` with at most ``per_pattern`` names each (the setter's input)."""
    patterns = [{"Product": PRODUCT, "NameList": names[i : i + per_pattern]} for i in range(0, len(names), per_pattern)]
    if len(patterns) > MAX_PATTERNS:
        raise SubscribeInputError(f"{len(names)} event names need more than {MAX_PATTERNS} patterns")
    return patterns


@dataclass(frozen=True)
class Target:
    """Where the rule delivers: an MNS queue or topic."""

    kind: Literal["queue", "topic"]
    name: str

    def __post_init__(self) -> None:
        if not _MNS_NAME.match(self.name):
            raise SubscribeInputError(
                f"--{self.kind}: {self.name!r} is not an MNS {self.kind} name (a letter, then letters, digits, '-')"
            )

    def parameter(self, region: str) -> dict[str, str]:
        """One ``MnsParameters`` entry (the setter's input)."""
        return {"Id": TARGET_ID, "Region": region, "Queue" if self.kind == "queue" else "Topic": self.name}

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Plan:
    """The rule and target to put. Requests are built anew for every call (a retry never resends a used one)."""

    rule_name: str
    region: str
    target: Target
    patterns: tuple[dict[str, Any], ...]

    def __post_init__(self) -> None:
        if not _RULE_NAME.match(self.rule_name):
            raise SubscribeInputError(
                f"--rule-name: {self.rule_name!r} must be 1 to 64 letters, digits, '_', '-' or '.'"
            )

    def rule_request(self) -> Any:
        request = _request("PutEventRule")
        request.set_RuleName(self.rule_name)
        request.set_Description(DESCRIPTION)
        request.set_State("ENABLED")
        request.set_EventType("SYSTEM")
        request.set_EventPatterns([dict(p) for p in self.patterns])
        return request

    def targets_request(self) -> Any:
        request = _request("PutEventRuleTargets")
        request.set_RuleName(self.rule_name)
        request.set_MnsParameterss([self.target.parameter(self.region)])
        return request

    def wire(self) -> dict[str, dict[str, str]]:
        """The exact parameters each call sends (the SDK's flattened query), without sending anything."""
        return {
            "PutEventRule": _params(self.rule_request()),
            "PutEventRuleTargets": _params(self.targets_request()),
        }


def plan(rule_name: str, region: str, target: Target, names: list[str] | None = None) -> Plan:
    return Plan(rule_name, region, target, tuple(event_patterns(event_names() if names is None else names)))


def _request(action: str) -> Any:
    module = importlib.import_module(f"aliyunsdkcms.request.v20190101.{action}Request")
    return getattr(module, f"{action}Request")()


def _params(request: Any) -> dict[str, str]:
    return {key: str(value) for key, value in request.get_query_params().items()}


# -- reading back what CMS has --------------------------------------------------------------------------------------
def _items(value: Any, key: str) -> list[Any]:
    """A list the API may wrap in an object of its own name (``{"NameList": [...]}``), or not; or one object."""
    if isinstance(value, dict) and key in value:
        value = value[key]
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def patterns_of(rule: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """(product lower-cased, names) per pattern of a DescribeEventRuleList rule: EventPattern as an object or as
    ``{"EventPattern": [...]}`` (the docs and the SDK model disagree)."""
    out = []
    for pattern in _items(rule.get("EventPattern"), "EventPattern"):
        if isinstance(pattern, dict):
            names = tuple(str(n) for n in _items(pattern.get("NameList"), "NameList"))
            out.append((str(pattern.get("Product", "")).lower(), names))
    return out


def _wanted_patterns(p: Plan) -> list[tuple[str, tuple[str, ...]]]:
    return [(str(x["Product"]).lower(), tuple(x["NameList"])) for x in p.patterns]


class Subscriber:
    """CMS calls for one rule, through an ``AcsClient`` whose ``Cms`` endpoint is set."""

    def __init__(self, client: Any, *, https: bool = True) -> None:
        self.client = client
        self.https = https

    def _call(self, action: str, build: Callable[[], Any]) -> dict[str, Any]:
        body = rpc_call(self.client, f"Cms.{action}", build, https=self.https)
        if body.get("Success") is False or str(body.get("Success")).lower() == "false":
            code, message = body.get("Code", "?"), " ".join(str(body.get("Message", "")).split())
            raise SubscribeError(f"Cms.{action}: refused ({code}): {message or 'no message'}"[:300])
        return body

    def _named(self, action: str, name: str, **lists: Iterable[str]) -> Callable[[], Any]:
        def build() -> Any:
            request = _request(action)
            if name:
                request.set_RuleName(name)
            for setter, values in lists.items():
                getattr(request, f"set_{setter}")(list(values))
            return request

        return build

    def find_rule(self, name: str) -> dict[str, Any] | None:
        """The rule named exactly ``name`` (DescribeEventRuleList by prefix, every page), or None."""
        page = 1
        while True:

            def build(page: int = page) -> Any:
                request = _request("DescribeEventRuleList")
                request.set_NamePrefix(name)
                request.set_PageNumber(page)
                request.set_PageSize(PAGE_SIZE)
                return request

            body = self._call("DescribeEventRuleList", build)
            rules = [r for r in _items(body.get("EventRules"), "EventRule") if isinstance(r, dict)]
            for rule in rules:
                if rule.get("Name") == name:
                    return rule
            if not rules or page * PAGE_SIZE >= int(body.get("Total") or 0):
                return None
            page += 1

    def targets(self, name: str) -> dict[str, list[dict[str, Any]]]:
        """The rule's targets per listing wrapper (``MnsParameters``, ``FcParameters``, ...)."""
        body = self._call("DescribeEventRuleTargetList", self._named("DescribeEventRuleTargetList", name))
        return {
            key: [t for t in _items(value, next(iter(value), "")) if isinstance(t, dict)]
            for key, value in body.items()
            if key.endswith("Parameters") and isinstance(value, dict)
        }

    def apply(self, p: Plan) -> Outcome:
        """Put the rule and its target where they differ from what CMS has."""
        rule = self.find_rule(p.rule_name)
        rule_ok = rule is not None and rule.get("State") == "ENABLED" and patterns_of(rule) == _wanted_patterns(p)
        if not rule_ok:
            self._call("PutEventRule", p.rule_request)
        target_ok = False
        if rule is not None:
            wanted = p.target.parameter(p.region)
            mns = self.targets(p.rule_name).get("MnsParameters", [])
            have = [t for t in mns if str(t.get("Id")) == TARGET_ID]
            target_ok = len(have) == 1 and all(
                str(have[0].get(k) or "") == str(wanted.get(k) or "") for k in ("Region", "Queue", "Topic")
            )
        if not target_ok:
            self._call("PutEventRuleTargets", p.targets_request)
        if rule is None:
            return "created"
        return "unchanged" if rule_ok and target_ok else "updated"

    def delete(self, name: str) -> Outcome:
        """Every target of the rule, then the rule; "absent" when there is no such rule."""
        if self.find_rule(name) is None:
            return "absent"
        ids = [str(t["Id"]) for group in self.targets(name).values() for t in group if t.get("Id") is not None]
        if ids:
            self._call("DeleteEventRuleTargets", self._named("DeleteEventRuleTargets", name, Idss=ids))
        self._call("DeleteEventRules", self._named("DeleteEventRules", "", RuleNamess=[name]))
        return "deleted"


def endpoint(settings: Any) -> tuple[str, bool]:
    """(host, https) of CloudMonitor: the localcloud's, else ``metrics.<region>.aliyuncs.com`` over HTTPS (the
    regional host CMS documents; the old SDK core table sends most CN regions to ``metrics.cn-hangzhou``, which also
    answers, but event rules live in the region they are put in)."""
    if settings.localcloud:
        return urlsplit(settings.localcloud).netloc, False
    return f"metrics.{settings.region}.aliyuncs.com", True


def subscriber(settings: Any, context: Any = None) -> Subscriber:
    """A ``Subscriber`` over the app's credentials and AcsClient (``ecs_events.runtime.app.credentials_for``)."""
    from ecs_events.runtime.app import credentials_for
    from ecs_events.runtime.clients import Clients

    client = Clients(settings, credentials_for(settings, context)).acs_client()
    host, https = endpoint(settings)
    client.add_endpoint(settings.region, "Cms", host)
    return Subscriber(client, https=https)


def subscribe(
    settings: Any, *, target: Target | None = None, rule_name: str = RULE_NAME, context: Any = None
) -> Outcome:
    """Create or update the rule for ``settings.queue`` (or ``target``): "created" / "updated" / "unchanged"."""
    chosen = target or Target("queue", settings.queue)
    return subscriber(settings, context).apply(plan(rule_name, settings.region, chosen))


def unsubscribe(settings: Any, *, rule_name: str = RULE_NAME, context: Any = None) -> Outcome:
    """Remove the rule's targets, then the rule: "deleted" / "absent"."""
    return subscriber(settings, context).delete(rule_name)
