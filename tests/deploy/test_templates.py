"""template.yml (plain ROS) and s.yaml (fc3) describe the same eight functions, consistently with the code.

Both parse with plain ``yaml.safe_load``; they name exactly the functions in ``functions/``; every handler and
initializer exists in the package layout (one code root per function: ``index.py`` at the root); environment keys
are settings of ``ecs_events.runtime.settings.Settings``; triggers are of the right type; the CloudMonitor rules and the
EventBridge pattern cover exactly the event names the models know; each Delivery creates its own triggers and rules
and no other's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.deploy.support import (
    FUNCTIONS,
    ROOT,
    Fn,
    code_policy_actions,
    defined_functions,
    every_policy_action,
    function_dirs,
    optional_env,
    ros_functions,
    ros_resources,
    ros_resources_created,
    s_functions,
    template,
)

from ecs_events.models.base import SystemEventStatus
from ecs_events.models.disk import DISK_EVENT_TYPES
from ecs_events.models.instance import INSTANCE_EVENT_TYPES
from ecs_events.runtime.settings import ENV_PREFIX, Settings

TEMPLATES = {"template.yml": ros_functions, "s.yaml": s_functions}
TOPIC_FAMILIES = ("maintenance", "preemption", "disk", "lifecycle", "snapshot")
DELIVERIES = ("mns-topic", "mns-queue", "mns-queue-trigger", "eventbridge")
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
        "consumer": ["timer", "eventbridge"],  # the timer, and the events queue's push (mns-queue-trigger)
        "reconciler": ["timer"],
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
    timer, _ = fns["consumer"].triggers
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
    assert all(a.startswith(("ecs:", "slb:", "alb:", "nlb:", "mns:")) for a in ros)


def test_secrets_are_no_echo_parameters() -> None:
    params: dict[str, Any] = template("template.yml")["Parameters"]
    assert params["RedisUrl"]["NoEcho"] is True
    assert params["Webhooks"]["NoEcho"] is True


# -- deliveries ---------------------------------------------------------------------------------------------------
FAMILY_TRIGGERS = {f"Trigger{f.capitalize()}" for f in TOPIC_FAMILIES}
FAMILY_RULES = {f"Rule{f.capitalize()}" for f in TOPIC_FAMILIES} | {
    f"Rule{f.capitalize()}Targets" for f in TOPIC_FAMILIES
}
TOPICS = {f"Topic{f.capitalize()}" for f in TOPIC_FAMILIES} | {"TopicInvokeRole"}
QUEUE_RULE = {"RuleQueue", "RuleQueueTargets"}
# what each delivery creates beyond what every delivery creates
ONLY = {
    "mns-topic": FAMILY_TRIGGERS | FAMILY_RULES | TOPICS | {"TriggerConsumer"},
    "mns-queue": QUEUE_RULE | {"TriggerConsumer"},
    "mns-queue-trigger": QUEUE_RULE | {"TriggerConsumerQueue"},
    "eventbridge": {"TriggerEventbridge", "TriggerConsumer"},
}


def test_delivery_parameter_offers_the_four_deliveries() -> None:
    param = template("template.yml")["Parameters"]["Delivery"]
    assert tuple(param["AllowedValues"]) == DELIVERIES
    assert param["Default"] == "mns-topic"


@pytest.mark.parametrize("delivery", DELIVERIES)
def test_each_delivery_creates_its_resources_and_no_others(delivery: str) -> None:
    created = ros_resources_created({"Delivery": delivery})
    conditional = set().union(*ONLY.values())
    always = set(template("template.yml")["Resources"]) - conditional
    assert created == always | ONLY[delivery]
    # in every delivery: all eight functions, the queues, the reconciler's timer
    assert {"FunctionReconciler", "TriggerReconciler", "EventsQueue", "DeadLetterQueue"} <= always
    assert len([r for r in always if r.startswith("Function") and r != "FunctionRole"]) == 8
    # exactly one thing drains the events queue
    assert len(created & {"TriggerConsumer", "TriggerConsumerQueue"}) == 1


def _queue_trigger(name: str) -> dict[str, Any]:
    (trigger,) = [t for t in _functions(name)["consumer"].triggers if t["type"] == "eventbridge"]
    assert trigger["name"] == "mns-queue"
    config: dict[str, Any] = trigger["config"]
    return config


@pytest.mark.parametrize("name", TEMPLATES)
def test_queue_trigger_pushes_the_events_queue_and_dead_letters_what_keeps_failing(name: str) -> None:
    config = _queue_trigger(name)
    assert config["asyncInvocationType"] is False  # set explicitly: the docs disagree on its meaning
    source = config["eventSourceConfig"]
    assert source["eventSourceType"] == "MNS"
    mns = source["eventSourceParameters"]["sourceMNSParameters"]
    assert set(mns) == {"QueueName", "RegionId", "IsBase64Decode"}  # PascalCase inside, camelCase outside
    assert mns["QueueName"] in ({"Ref": "Prefix"}, "${vars.prefix}")
    assert mns["IsBase64Decode"] is True
    assert config["eventSinkConfig"]["deliveryOption"] == {"eventSchema": "CloudEvents"}
    run = config["runOptions"]
    assert run["mode"] == "event-streaming"
    assert run["errorsTolerance"] == "ALL"  # NONE would stop the stream at the first message that keeps failing
    assert run["retryStrategy"] == {"PushRetryStrategy": "BACKOFF_RETRY"}
    assert 1 <= run["batchWindow"]["CountBasedWindow"] <= 10 and 0 <= run["batchWindow"]["TimeBasedWindow"] <= 15
    arn = run["deadLetterQueue"]["Arn"]
    arn = arn["Fn::Sub"] if isinstance(arn, dict) else arn
    assert arn.startswith("acs:mns:") and arn.endswith(("/queues/${Prefix}-dlq", "/queues/${vars.prefix}-dlq"))


def test_both_templates_configure_the_queue_trigger_alike() -> None:
    def shape(node: Any) -> Any:  # literals compared, template-specific references replaced
        if isinstance(node, dict) and not (len(node) == 1 and ("Ref" in node or "Fn::Sub" in node)):
            return {k: shape(v) for k, v in node.items()}
        if isinstance(node, dict) or (isinstance(node, str) and "${" in node):
            return "<reference>"
        return node

    ros, s = shape(_queue_trigger("template.yml")), shape(_queue_trigger("s.yaml"))
    assert ros.pop("triggerEnable") is True  # created only for Delivery mns-queue-trigger, so on
    assert s.pop("triggerEnable") is False  # s.yaml creates it always, off unless vars.queueTrigger
    assert ros == s


def test_s_yaml_drains_the_queue_one_way_at_a_time() -> None:
    data = template("s.yaml")
    flags = data["vars"]["queueTrigger"], data["vars"]["timerConsumer"]
    assert flags == (False, True)  # the default: the timer drains, as in template.yml's default delivery
    timer, _ = s_functions()["consumer"].triggers
    assert (_queue_trigger("s.yaml")["triggerEnable"], timer["config"]["enable"]) == flags
    # the flags are YAML anchors, so the triggers follow them (flipping the two vars flips the delivery)
    text = (ROOT / "s.yaml").read_text()
    assert "triggerEnable: *queueTrigger" in text and "enable: *timerConsumer" in text


@pytest.mark.parametrize("name", TEMPLATES)
def test_reconciler_runs_on_its_interval_in_every_delivery(name: str) -> None:
    (timer,) = _functions(name)["reconciler"].triggers
    assert timer["type"] == "timer" and timer["config"]["enable"] is True
    assert timer.get("condition") is None
    cron = timer["config"]["cronExpression"]
    if name == "template.yml":
        assert cron == {"Fn::Sub": "0 */${ReconcileIntervalMinutes} * * * *"}
        param = template(name)["Parameters"]["ReconcileIntervalMinutes"]
        assert param["Type"] == "Number" and param["Default"] == 5
        assert all(60 % minutes == 0 for minutes in param["AllowedValues"])
    else:
        assert cron == "0 */${vars.reconcileIntervalMinutes} * * * *"
        assert template(name)["vars"]["reconcileIntervalMinutes"] == 5
