"""template.yml (plain ROS) and s.yaml (fc3) describe the same seven functions, consistently with the code.

Both parse with plain ``yaml.safe_load``; they name exactly the functions in ``functions/``; every handler and
initializer exists in the package layout (one code root per function: ``index.py`` at the root); environment keys
are settings of ``ecs_events.settings.Settings``; triggers are of the right type; the CloudMonitor rules and the
EventBridge pattern cover exactly the event names the models know.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.deploy.support import (
    FUNCTIONS,
    Fn,
    code_policy_actions,
    defined_functions,
    every_policy_action,
    function_dirs,
    optional_env,
    ros_functions,
    ros_resources,
    s_functions,
    template,
)

from ecs_events.models.base import SystemEventStatus
from ecs_events.models.disk import DISK_EVENT_TYPES
from ecs_events.models.instance import INSTANCE_EVENT_TYPES
from ecs_events.settings import ENV_PREFIX, Settings

TEMPLATES = {"template.yml": ros_functions, "s.yaml": s_functions}
TOPIC_FAMILIES = ("maintenance", "preemption", "disk", "lifecycle", "snapshot")
STATUSES = [s.value for s in SystemEventStatus]
FAMILY_NAMES = {
    "maintenance": {f"Instance:{t}:{s}" for t in INSTANCE_EVENT_TYPES for s in STATUSES},
    "preemption": {"Instance:PreemptibleInstanceInterruption"},
    "disk": {f"Disk:{t}:{s}" for t in DISK_EVENT_TYPES for s in STATUSES} | {"Disk:DiskOperationCompleted"},
    "lifecycle": {"Instance:StateChange"},
    "snapshot": {"Snapshot:CreateSnapshotCompleted"},
}
EVENTBRIDGE_TYPES = (
    {f"ecs:Instance:{t}" for t in INSTANCE_EVENT_TYPES}
    | {f"ecs:Disk:{t}" for t in DISK_EVENT_TYPES}
    | {"ecs:Instance:PreemptibleInstanceInterruption", "ecs:Instance:StateChange", "ecs:Disk:DiskOperationCompleted"}
    | {"ecs:Snapshot:CreateSnapshotCompleted"}
)


def _functions(name: str) -> dict[str, Fn]:
    return TEMPLATES[name]()


@pytest.fixture(scope="module")
def folders() -> list[str]:
    names = function_dirs()
    assert names, f"no functions/<name>/index.py under {FUNCTIONS}: the handlers are not written yet"
    return names


def test_ros_template_is_plain_ros_without_the_funcraft_transform() -> None:
    data = template("template.yml")
    assert data["ROSTemplateFormatVersion"] == "2015-09-01"
    assert "Transform" not in data
    assert template("s.yaml")["edition"] == "3.0.0"


@pytest.mark.parametrize("name", TEMPLATES)
def test_same_functions_as_the_functions_folder(name: str, folders: list[str]) -> None:
    assert sorted(_functions(name)) == folders


@pytest.mark.parametrize("name", TEMPLATES)
def test_handlers_and_initializers_exist_in_the_package_layout(name: str, folders: list[str]) -> None:
    for fn in _functions(name).values():
        assert fn.runtime == "python3.10", f"{name}: {fn.name} runtime {fn.runtime}"
        for entry in (fn.handler, fn.initializer):
            module, _, func = entry.rpartition(".")
            # the code root of a function is functions/<name>/ (see tools/package.py): the module file is there
            path = FUNCTIONS / fn.name / f"{module.replace('.', '/')}.py"
            assert path.is_file(), f"{name}: {fn.name}: {entry}: no {path}"
            assert func in defined_functions(path), f"{name}: {fn.name}: {entry}: {path} defines no {func}()"


def test_same_environment_keys_everywhere_and_each_a_setting(folders: list[str]) -> None:
    fields = {ENV_PREFIX + field.upper() for field in Settings.model_fields}
    ros, s = ros_functions(), s_functions()
    for name in folders:
        ros_env, s_env = ros[name].env, s[name].env
        required = {k for k, v in ros_env.items() if not optional_env(v)}
        assert set(s_env) == required, f"{name}: s.yaml and template.yml set different variables"
        assert set(ros_env) <= fields, f"{name}: not settings: {sorted(set(ros_env) - fields)}"
        assert all(isinstance(v, str) for v in s_env.values()), f"s.yaml: {name}: FC wants string values"
    assert len({frozenset(f.env) for f in ros.values()}) == 1, "template.yml: functions differ in their variables"
    assert {"ECS_EVENTS_ACCOUNT_ID", "ECS_EVENTS_QUEUE", "ECS_EVENTS_STORE"} <= set(ros[folders[0]].env)


def _trigger_types(fns: dict[str, Fn]) -> dict[str, list[str]]:
    return {name: [t["type"] for t in fn.triggers] for name, fn in fns.items()}


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_function_has_the_trigger_of_its_delivery(name: str) -> None:
    fns = _functions(name)
    expected = {family: ["mns_topic"] for family in TOPIC_FAMILIES} | {
        "eventbridge": ["eventbridge"],
        "consumer": ["timer"],
    }
    assert _trigger_types(fns) == expected
    for family in TOPIC_FAMILIES:
        (trigger,) = fns[family].triggers
        source = trigger["source_arn"]
        arn = str(source["Fn::Sub"] if isinstance(source, dict) else source)
        assert arn.startswith("acs:mns:") and arn.endswith(f"-{family}"), f"{name}: {family} topic ARN {arn}"
        assert ":/topics/" in arn
        assert trigger["config"]["notifyContentFormat"] == "STREAM"
        assert trigger["config"]["notifyStrategy"] == "BACKOFF_RETRY"
    (timer,) = fns["consumer"].triggers
    assert timer["config"]["cronExpression"] == "0 */1 * * * *"
    assert json.loads(timer["config"]["payload"]) == {"until_idle": True, "wait_seconds": 3}
    (eb,) = fns["eventbridge"].triggers
    pattern = json.loads(eb["config"]["eventRuleFilterPattern"])
    assert pattern["source"] == ["acs.ecs"]
    assert set(pattern["type"]) == EVENTBRIDGE_TYPES


def test_one_cloudmonitor_rule_per_family_to_its_own_topic() -> None:
    rules = ros_resources("ALIYUN::CMS::EventRule")
    targets = ros_resources("ALIYUN::CMS::EventRuleTargets")
    topics = {r["Properties"]["TopicName"]["Fn::Sub"] for r in ros_resources("ALIYUN::MNS::Topic").values()}
    assert topics == {f"${{Prefix}}-{family}" for family in TOPIC_FAMILIES}
    for family in TOPIC_FAMILIES:
        rule = rules[f"Rule{family.capitalize()}"]
        assert rule["Condition"] == "ViaTopics"
        (pattern,) = rule["Properties"]["EventPattern"]
        assert pattern["Product"] == "ECS"
        assert set(pattern["NameList"]) == FAMILY_NAMES[family], family
        (mns,) = targets[f"Rule{family.capitalize()}Targets"]["Properties"]["MnsParameters"]
        assert mns["Topic"] == {"Fn::Sub": f"${{Prefix}}-{family}"}
    queue_rule = rules["RuleQueue"]["Properties"]["EventPattern"]
    assert set().union(*(set(p["NameList"]) for p in queue_rule)) == set().union(*FAMILY_NAMES.values())
    (mns,) = targets["RuleQueueTargets"]["Properties"]["MnsParameters"]
    assert mns["Queue"] == {"Ref": "Prefix"}


def test_queue_and_dead_letter_queue_match_the_settings_defaults() -> None:
    queues = {str(r["Properties"]["QueueName"]) for r in ros_resources("ALIYUN::MNS::Queue").values()}
    assert queues == {str({"Ref": "Prefix"}), str({"Fn::Sub": "${Prefix}-dlq"})}
    default = Settings(account_id="1")
    s_env = s_functions()["consumer"].env
    assert s_env["ECS_EVENTS_QUEUE"] == default.queue
    assert s_env["ECS_EVENTS_DLQ"] == default.dlq_name  # the same name as the ROS default Prefix gives
    assert template("template.yml")["Parameters"]["Prefix"]["Default"] == default.queue


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_wildcard_action_anywhere(name: str) -> None:
    actions = every_policy_action(template(name))
    assert actions, f"{name}: no policy at all"
    assert [a for a in actions if "*" in a] == []


def test_both_templates_grant_the_same_code_actions() -> None:
    ros, s = code_policy_actions(template("template.yml")), code_policy_actions(template("s.yaml"))
    assert ros == s
    assert all(a.startswith(("ecs:", "slb:", "mns:")) for a in ros)


def test_secrets_are_no_echo_parameters() -> None:
    params: dict[str, Any] = template("template.yml")["Parameters"]
    assert params["RedisUrl"]["NoEcho"] is True
    assert params["Webhooks"]["NoEcho"] is True
