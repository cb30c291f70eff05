"""template.yml against Alibaba's ROS resource specification (the ROS CDK packages' jsii assemblies, see ros_spec).

Every resource type exists; every property, nested ones where the specification types them, is known; required ones
are present; lists, maps and scalars have their shape; literal values respect the published ranges and allowed
values; every ``Ref``, ``Fn::GetAtt`` (attribute included), ``Fn::Sub`` variable, ``Condition`` and ``DependsOn``
points at something that exists. The mutation tests prove the checker catches what it claims to, on copies of the
real template.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from tests.deploy import ros_spec
from tests.deploy.support import template


@pytest.fixture(scope="module")
def ros() -> dict[str, Any]:
    return template("template.yml")


def test_specification_is_read_from_the_pinned_packages() -> None:
    spec = ros_spec.load()
    for kind in ("ALIYUN::FC::Function", "ALIYUN::FC::Trigger", "ALIYUN::FC3::Trigger", "ALIYUN::MNS::Queue",
                 "ALIYUN::RAM::Role", "ALIYUN::SLS::Logstore", "ALIYUN::CMS::EventRule"):  # fmt: skip
        assert kind in spec.resources, kind
    function = spec.structs[spec.resources["ALIYUN::FC::Function"].props].props
    assert function["Handler"].required and not function["Initializer"].required
    assert "Arn" in spec.resources["ALIYUN::RAM::Role"].attributes
    # names come from the generated code, not from re-capitalising the camelCase ones
    logstore = spec.structs[spec.resources["ALIYUN::SLS::Logstore"].props].props
    assert "TTL" in logstore and "Ttl" not in logstore
    queue = spec.structs[spec.resources["ALIYUN::MNS::Queue"].props].props
    assert (queue["MessageRetentionPeriod"].minimum, queue["MessageRetentionPeriod"].maximum) == (60, 604800)
    assert {"Fn::Sub", "Fn::GetAtt", "Fn::If", "Ref"} <= spec.intrinsics
    assert {"ALIYUN::Region", "ALIYUN::AccountId", "ALIYUN::NoValue"} <= spec.pseudo


def test_template_matches_the_ros_specification(ros: dict[str, Any]) -> None:
    assert ros_spec.check(ros) == []


def _props(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda t: t["Resources"][name]["Properties"]


def _code_statement(t: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = t["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    first: dict[str, Any] = statement["Statement"][0]
    return first


def _rename(where: Callable[[dict[str, Any]], dict[str, Any]], old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def mutate(t: dict[str, Any]) -> None:
        node = where(t)
        node[new] = node.pop(old)

    return mutate


def _set(where: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(t: dict[str, Any]) -> None:
        where(t)[key] = value

    return mutate


def _delete(where: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(t: dict[str, Any]) -> None:
        del where(t)[key]

    return mutate


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "misspelled property": (
        _rename(_props("FunctionConsumer"), "Runtime", "Runtme"),
        "Resources.FunctionConsumer.Properties.Runtme: unknown property",
    ),
    "misspelled nested property": (
        _rename(lambda t: _props("Service")(t)["LogConfig"], "Logstore", "LogStore"),
        "Resources.Service.Properties.LogConfig.LogStore: unknown property",
    ),
    "required property missing": (
        _delete(_props("FunctionConsumer"), "Handler"),
        "Resources.FunctionConsumer.Properties: required property Handler missing",
    ),
    "policy Resource list becomes a string": (
        _set(_code_statement, "Resource", "*"),
        "Statement[0].Resource: expected a list, got a string",
    ),
    "policy Resource list becomes an Fn::Sub": (
        _set(_code_statement, "Resource", {"Fn::Sub": "acs:ecs:${ALIYUN::Region}:*:*"}),
        "Statement[0].Resource: expected a list, got Fn::Sub (a string)",
    ),
    "list property becomes a Ref of a String parameter": (
        _set(lambda t: _props("Service")(t)["VpcConfig"], "VSwitchIds", {"Ref": "VSwitchId"}),
        "VpcConfig.VSwitchIds: expected a list, got Ref (a string)",
    ),
    "string property becomes a list": (
        _set(_props("FunctionConsumer"), "Handler", ["index.handler"]),
        "Properties.Handler: expected a string, got a list",
    ),
    "map property becomes a string": (
        _set(_props("FunctionConsumer"), "EnvironmentVariables", "ECS_EVENTS_QUEUE=x"),
        "Properties.EnvironmentVariables: expected a map, got a string",
    ),
    "number out of the published range": (
        _set(_props("EventsQueue"), "MessageRetentionPeriod", 700000),
        "MessageRetentionPeriod: 700000 outside 60..604800",
    ),
    "value not among the allowed ones": (
        _set(_props("RuleMaintenance"), "State", "ON"),
        "Resources.RuleMaintenance.Properties.State: 'ON' not one of",
    ),
    "unknown resource type": (
        _set(lambda t: t["Resources"]["EventsQueue"], "Type", "ALIYUN::MNS::Queues"),
        "Resources.EventsQueue.Type: 'ALIYUN::MNS::Queues' is not a ROS resource type",
    ),
    "unknown attribute": (
        _set(_props("Service"), "Role", {"Fn::GetAtt": ["FunctionRole", "RoleArn"]}),
        "Fn::GetAtt: ALIYUN::RAM::Role has no attribute 'RoleArn'",
    ),
    "Ref of nothing": (
        _set(_props("LogStore"), "TTL", {"Ref": "LogRetention"}),
        "Ref 'LogRetention': no such parameter, resource or pseudo parameter",
    ),
    "Fn::Sub of an unknown variable": (
        _set(_props("DeadLetterQueue"), "QueueName", {"Fn::Sub": "${Prefx}-dlq"}),
        "Resources.DeadLetterQueue.Properties.QueueName: Ref 'Prefx'",
    ),
    "unknown condition": (
        _set(lambda t: t["Resources"]["RuleQueue"], "Condition", "ViaQueues"),
        "Resources.RuleQueue.Condition: no condition 'ViaQueues'",
    ),
    "unknown intrinsic": (
        _set(_props("LogStore"), "LogstoreName", {"Fn::Concat": ["a", "b"]}),
        "Fn::Concat is not a ROS intrinsic function",
    ),
    "Fn::If branch of the wrong shape": (
        _set(_props("FunctionConsumer"), "Handler", {"Fn::If": ["HasPolicyFile", "index.handler", ["x"]]}),
        "Properties.Handler.Fn::If[2]: expected a string, got a list",
    ),
}


@pytest.mark.parametrize("case", MUTATIONS)
def test_a_mutated_template_fails_naming_the_fault(ros: dict[str, Any], case: str) -> None:
    mutate, expected = MUTATIONS[case]
    assert not any(expected in e for e in ros_spec.check(ros)), f"{case}: the real template already says so"
    broken = copy.deepcopy(ros)
    mutate(broken)
    errors = ros_spec.check(broken)
    assert any(expected in e for e in errors), f"{case}: {expected!r} not in {errors}"


def test_parameter_types_type_their_refs() -> None:
    """A ``Ref`` of a CommaDelimitedList parameter is a list: accepted where a list goes, refused for a string."""
    t = copy.deepcopy(template("template.yml"))
    t["Parameters"]["VSwitchIds"] = {"Type": "CommaDelimitedList"}
    t["Resources"]["Service"]["Properties"]["VpcConfig"]["VSwitchIds"] = {"Ref": "VSwitchIds"}
    assert not [e for e in ros_spec.check(t) if "VSwitchIds" in e]
    t["Resources"]["Service"]["Properties"]["VpcConfig"]["VpcId"] = {"Ref": "VSwitchIds"}
    assert any("VpcConfig.VpcId: expected a string, got Ref (a list)" in e for e in ros_spec.check(t))
