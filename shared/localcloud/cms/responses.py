"""The CMS event-rule wire: read the flattened RPC parameters, call the backend, shape the JSON the real API returns.

Parameters arrive flattened by the SDK, 1-based (``EventPattern.1.NameList.2``, ``MnsParameters.1.Queue``,
``RuleNames.1``). Responses follow aliyun-python-sdk-cms 7.0.33's models: ``Code`` is the string "200", ``Success``
a boolean (none in DescribeEventRuleTargetList), rules under ``EventRules.EventRule`` with their patterns under
``EventPattern.EventPattern`` and each list wrapped in an object of its own name (``NameList.NameList``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localcloud.cms import exceptions as exc
from localcloud.cms.models import MAX_LIST, MAX_TARGETS, RULE_TYPES, STATES, CmsBackend, EventPattern, EventRule, Target

Params = dict[str, str]
# (backend, params, usable(target) -> reason or None) -> body
Handler = Callable[[CmsBackend, Params, Callable[[CmsBackend, Target], str | None]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}

_INDEXED = re.compile(r"^(?P<n>\d+)\.(?P<rest>.+)$")
_LIST_ITEM = re.compile(r"^(?P<key>.+)\.(?P<m>\d+)$")

# kind -> (parameter prefix, required fields, all fields, listing wrapper, listing item,
#          failed wrapper/item/fields: what PutEventRuleTargets lists for a target it refused, Id an integer there)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], str, str, tuple[str, str, tuple[str, ...]] | None]] = {
    "Mns": ("MnsParameters", ("Id", "Region"), ("Id", "Region", "Queue", "Topic"), "MnsParameters", "MnsParameter",
            ("FailedMnsParameters", "MnsParameter", ("Id", "Region", "Queue"))),
    "Fc": ("FcParameters", ("Id", "Region", "ServiceName", "FunctionName"),
           ("Id", "Region", "ServiceName", "FunctionName"), "FcParameters", "FCParameter",
           ("FailedFcParameters", "FcParameter", ("Id", "Region", "ServiceName", "FunctionName"))),
    "Webhook": ("WebhookParameters", ("Id", "Url"), ("Id", "Protocol", "Method", "Url"), "WebhookParameters",
                "WebhookParameter", None),
    "Contact": ("ContactParameters", ("Id", "ContactGroupName"), ("Id", "ContactGroupName", "Level"),
                "ContactParameters", "ContactParameter",
                ("FailedContactParameters", "ContactParameter", ("Id", "ContactGroupName", "Level"))),
    "Sls": ("SlsParameters", ("Id", "Region", "Project", "LogStore"), ("Id", "Region", "Project", "LogStore"),
            "SlsParameters", "SlsParameter", None),
    "OpenApi": ("OpenApiParameters", ("Id", "Product", "Action"),
                ("Id", "Product", "Action", "Version", "Role", "Region", "Arn", "JsonParams"),
                "OpenApiParameters", "OpenApiParameters", None),
}  # fmt: skip


def action(fn: Handler) -> Handler:
    HANDLERS[fn.__name__] = fn
    return fn


def ok(**extra: Any) -> dict[str, Any]:
    return {"Code": "200", "Message": "", "Success": True, **extra}


# -- parameters ----------------------------------------------------------------------------------------------------
def required(params: Params, name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise exc.parameter_invalid(f"{name} is mandatory for this action.")
    return value


def _index(prefix: str, raw: str, high: int) -> int:
    n = int(raw)
    if not 1 <= n <= high:
        raise exc.parameter_invalid(f"{prefix}.{raw}: N must be from 1 to {high}.")
    return n


def repeat_list(params: Params, prefix: str, high: int = MAX_LIST) -> list[str]:
    """``RuleNames.1``, ``RuleNames.2`` ... in order of N."""
    found = []
    for key, value in params.items():
        if key.startswith(prefix + ".") and key[len(prefix) + 1 :].isdigit():
            found.append((_index(prefix, key[len(prefix) + 1 :], high), value))
    return [value for _, value in sorted(found)]


def groups(params: Params, prefix: str, high: int) -> list[dict[str, Any]]:
    """``P.N.Field`` -> ``{"Field": value}``; ``P.N.List.M`` -> ``{"List": [...]}`` (in order of M), per N."""
    out: dict[int, dict[str, Any]] = {}
    items: dict[tuple[int, str], list[tuple[int, str]]] = {}
    for key, value in params.items():
        if not key.startswith(prefix + "."):
            continue
        m = _INDEXED.match(key[len(prefix) + 1 :])
        if m is None:
            continue
        n = _index(prefix, m["n"], high)
        group = out.setdefault(n, {})
        item = _LIST_ITEM.match(m["rest"])
        if item is None:
            group[m["rest"]] = value
        else:
            where = f"{prefix}.{n}.{item['key']}"
            items.setdefault((n, item["key"]), []).append((_index(where, item["m"], MAX_LIST), value))
    for (n, key), values in items.items():
        out[n][key] = [value for _, value in sorted(values)]
    return [out[n] for n in sorted(out)]


def _strings(group: dict[str, Any], key: str) -> tuple[str, ...]:
    value = group.get(key, [])
    return tuple(v for v in (value if isinstance(value, list) else [value]) if v != "")


def patterns(params: Params) -> list[EventPattern]:
    found = groups(params, "EventPattern", MAX_LIST)
    if not found:
        raise exc.parameter_invalid("EventPattern is mandatory for this action.")
    return [
        EventPattern(
            product=str(g.get("Product", "")),
            names=_strings(g, "NameList"),
            levels=_strings(g, "LevelList"),
            statuses=_strings(g, "StatusList"),
            event_types=_strings(g, "EventTypeList"),
            keywords=_strings(g, "KeywordFilter.Keywords"),
            relation=str(g.get("KeywordFilter.Relation", "")),
            sql_filter=str(g.get("SQLFilter", "")),
            custom_filters=str(g.get("CustomFilters", "")),
        )
        for g in found
    ]


def one_of(params: Params, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(name, "") or default
    if value not in allowed:
        raise exc.parameter_invalid(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def integer(params: Params, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise exc.parameter_invalid(f"{name} must be an integer from {low} to {high}, not {raw!r}.")
    return int(raw)


def targets(params: Params) -> list[Target]:
    out: list[Target] = []
    for kind, (prefix, needed, known, *_) in KINDS.items():
        for n, group in enumerate(groups(params, prefix, MAX_TARGETS), start=1):
            for name in needed:
                if not str(group.get(name, "")).strip():
                    raise exc.parameter_invalid(f"{prefix}.{n}.{name} is mandatory for this action.")
            fields = {k: str(v) for k, v in group.items() if k in known}
            out.append(Target(kind, fields["Id"], fields))
    return out


# -- shapes ----------------------------------------------------------------------------------------------------------
def _wrapped(name: str, values: tuple[str, ...]) -> dict[str, list[str]]:
    return {name: list(values)}


def pattern_shape(p: EventPattern) -> dict[str, Any]:
    return {
        "Product": p.product,
        "NameList": _wrapped("NameList", p.names),
        "LevelList": _wrapped("LevelList", p.levels),
        "StatusList": _wrapped("StatusList", p.statuses),
        "EventTypeList": _wrapped("EventTypeList", p.event_types),
        "KeywordFilter": {"Keywords": _wrapped("Keywords", p.keywords), "Relation": p.relation},
        "SQLFilter": p.sql_filter,
        "CustomFilters": p.custom_filters,
    }


def rule_shape(rule: EventRule) -> dict[str, Any]:
    return {
        "Name": rule.name,
        "Description": rule.description,
        "State": rule.state,
        "EventType": rule.event_type,
        "GroupId": rule.group_id,
        "SilenceTime": rule.silence_time,
        "EventPattern": {"EventPattern": [pattern_shape(p) for p in rule.patterns]},
    }


def target_shape(b: CmsBackend, target: Target) -> dict[str, Any]:
    shape: dict[str, Any] = dict(target.fields)
    region = target.fields.get("Region", b.region_id)
    if target.kind == "Mns":
        path = f"/topics/{target.topic}" if target.topic else f"/queues/{target.queue}"
        shape["Arn"] = f"acs:mns:{region}:{b.account_id}:{path}"
    elif target.kind == "Fc":
        service, function = target.fields["ServiceName"], target.fields["FunctionName"]
        shape["Arn"] = f"acs:fc:{region}:{b.account_id}:services/{service}/functions/{function}"
    return shape


def failed_shape(target: Target, fields: tuple[str, ...]) -> dict[str, Any]:
    """A refused target as the SDK models type it (alibabacloud_cms20190101 4.0.10): ``Id`` an integer (it is a
    string in the request and in DescribeEventRuleTargetList; an Id that is not digits is echoed as it came)."""
    shape: dict[str, Any] = {k: v for k, v in target.fields.items() if k in fields}
    if target.id.isdigit():
        shape["Id"] = int(target.id)
    return shape


# -- actions ---------------------------------------------------------------------------------------------------------
@action
def PutEventRule(b: CmsBackend, p: Params, usable: Any) -> dict[str, Any]:
    rule = EventRule(
        name=required(p, "RuleName"),
        patterns=patterns(p),
        description=p.get("Description", ""),
        state=one_of(p, "State", STATES, "ENABLED"),
        event_type=one_of(p, "EventType", RULE_TYPES, "SYSTEM"),
        group_id=p.get("GroupId", ""),
        silence_time=integer(p, "SilenceTime", 86400, 0, 10**9),
    )
    b.put_rule(rule)
    return ok(Data="1")


@action
def PutEventRuleTargets(b: CmsBackend, p: Params, usable: Callable[[CmsBackend, Target], str | None]) -> dict[str, Any]:
    name = required(p, "RuleName")
    wanted = targets(p)
    if not wanted:
        raise exc.parameter_invalid("at least one target (MnsParameters.N, FcParameters.N, ...) is mandatory.")
    b.get(name)
    failed = [(t, why) for t in wanted if (why := usable(b, t)) is not None]
    b.put_targets(name, wanted, [t for t, _ in failed])
    if not failed:
        return ok(FailedParameterCount="0")
    body: dict[str, Any] = {"FailedParameterCount": str(len(failed))}
    for kind, (*_, failed_keys) in KINDS.items():
        if failed_keys is not None:
            wrapper, item, fields = failed_keys
            body[wrapper] = {item: [failed_shape(t, fields) for t, _ in failed if t.kind == kind]}
    raise exc.BusinessFailure("400", f"{len(failed)} target(s) failed: {failed[0][1]}", **body)


@action
def DescribeEventRuleList(b: CmsBackend, p: Params, usable: Any) -> dict[str, Any]:
    raw_enable = p.get("IsEnable", "").lower()  # the Python SDK sends str(bool): "True" / "False"
    if raw_enable not in ("", "true", "false"):
        raise exc.parameter_invalid(f"IsEnable must be true or false, not {raw_enable!r}.")
    rules = b.listing(p.get("NamePrefix", ""), p.get("GroupId", ""), None if not raw_enable else raw_enable == "true")
    number = integer(p, "PageNumber", 1, 1, 10**6)
    size = integer(p, "PageSize", 10, 1, 10**4)
    page = rules[(number - 1) * size : number * size]
    return ok(Total=len(rules), EventRules={"EventRule": [rule_shape(rule) for rule in page]})


@action
def DescribeEventRuleTargetList(b: CmsBackend, p: Params, usable: Any) -> dict[str, Any]:
    rule = b.get(required(p, "RuleName"))
    body: dict[str, Any] = {"Code": "200", "Message": ""}
    for kind, (_, _, _, wrapper, item, _) in KINDS.items():
        body[wrapper] = {item: [target_shape(b, t) for t in rule.targets.values() if t.kind == kind]}
    return body


@action
def DeleteEventRules(b: CmsBackend, p: Params, usable: Any) -> dict[str, Any]:
    names = repeat_list(p, "RuleNames")
    if not names:
        raise exc.parameter_invalid("RuleNames.N is mandatory for this action.")
    return ok(Data=str(b.delete_rules(names)))


@action
def DeleteEventRuleTargets(b: CmsBackend, p: Params, usable: Any) -> dict[str, Any]:
    name = required(p, "RuleName")
    ids = repeat_list(p, "Ids")
    if not ids:
        raise exc.parameter_invalid("Ids.N is mandatory for this action.")
    b.delete_targets(name, ids)
    return ok()


def _set_state(b: CmsBackend, p: Params, state: str) -> dict[str, Any]:
    names = repeat_list(p, "RuleNames")
    if not names:
        raise exc.parameter_invalid("RuleNames.N is mandatory for this action.")
    return ok(Data=str(b.set_state(names, state)))


@action
def EnableEventRules(b: CmsBackend, p: Params, usable: Any) -> dict[str, Any]:
    return _set_state(b, p, "ENABLED")


@action
def DisableEventRules(b: CmsBackend, p: Params, usable: Any) -> dict[str, Any]:
    return _set_state(b, p, "DISABLED")
