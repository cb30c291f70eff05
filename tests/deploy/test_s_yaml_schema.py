"""s.yaml against a JSON schema of the Serverless Devs fc3 component's props (see fc3_schema for its sources).

The mutation tests prove the schema catches what it claims to, on copies of the real s.yaml.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from tests.deploy import fc3_schema
from tests.deploy.support import template


@pytest.fixture(scope="module")
def s_yaml() -> dict[str, Any]:
    return template("s.yaml")


def test_s_yaml_matches_the_fc3_schema(s_yaml: dict[str, Any]) -> None:
    assert fc3_schema.check(s_yaml) == []


def _props(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: d["resources"][name]["props"]


def _trigger(name: str, index: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: d["resources"][name]["props"]["triggers"][index]


def _queue_run_options(d: dict[str, Any]) -> dict[str, Any]:
    trigger = _trigger("consumer", 1)(d)
    assert trigger["triggerName"] == "mns-queue"
    options: dict[str, Any] = trigger["triggerConfig"]["runOptions"]
    return options


def _rename(where: Callable[[dict[str, Any]], dict[str, Any]], old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        node = where(d)
        node[new] = node.pop(old)

    return mutate


def _set(where: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        where(d)[key] = value

    return mutate


def _delete(where: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        del where(d)[key]

    return mutate


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "misspelled function property": (
        _rename(_props("reconciler"), "memorySize", "memorySise"),
        "resources.reconciler.props: Additional properties are not allowed ('memorySise' was unexpected)",
    ),
    "misspelled trigger property": (
        _rename(_trigger("maintenance", 0), "sourceArn", "sourceARN"),
        "resources.maintenance.props.triggers.0: Additional properties are not allowed ('sourceARN'",
    ),
    "misspelled nested EventBridge key (casing)": (
        _rename(_queue_run_options, "errorsTolerance", "ErrorsTolerance"),
        "triggerConfig.runOptions: Additional properties are not allowed ('ErrorsTolerance'",
    ),
    "list becomes a string": (
        _set(lambda d: d["resources"]["disk"]["props"]["vpcConfig"], "vSwitchIds", "vsw-1"),
        "resources.disk.props.vpcConfig.vSwitchIds: 'vsw-1' is not of type 'array'",
    ),
    "triggers become a mapping": (
        _set(_props("consumer"), "triggers", {"timer": {}}),
        "resources.consumer.props.triggers: {'timer': {}} is not of type 'array'",
    ),
    "required key missing": (
        _delete(_props("snapshot"), "handler"),
        "resources.snapshot.props: 'handler' is a required property",
    ),
    "timer config of the wrong trigger type": (
        _set(_trigger("reconciler", 0), "triggerType", "mns_topic"),
        "resources.reconciler.props.triggers.0.triggerConfig: 'notifyContentFormat' is a required property",
    ),
    "boolean becomes a string": (
        _set(lambda d: _trigger("consumer", 0)(d)["triggerConfig"], "enable", "true"),
        "triggers.0.triggerConfig.enable: 'true' is not of type 'boolean'",
    ),
    "value out of range": (
        _set(lambda d: _queue_run_options(d)["batchWindow"], "TimeBasedWindow", 30),
        "runOptions.batchWindow.TimeBasedWindow: 30 is greater than the maximum of 15",
    ),
    "unknown trigger type": (
        _set(_trigger("consumer", 1), "triggerType", "mns_queue"),
        "triggers.1.triggerType: 'mns_queue' is not one of",
    ),
}


@pytest.mark.parametrize("case", MUTATIONS)
def test_a_mutated_s_yaml_fails_naming_the_fault(s_yaml: dict[str, Any], case: str) -> None:
    mutate, expected = MUTATIONS[case]
    assert not any(expected in e for e in fc3_schema.check(s_yaml)), f"{case}: the real s.yaml already says so"
    broken = copy.deepcopy(s_yaml)
    mutate(broken)
    errors = fc3_schema.check(broken)
    assert any(expected in e for e in errors), f"{case}: {expected!r} not in {errors}"
