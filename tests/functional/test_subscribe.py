"""``ecs-events subscribe``: the CloudMonitor event rule created through aliyun-python-sdk-cms against localcloud,
then ECS events reaching the queue only through it; idempotent re-runs, ``--delete``, ``--dry-run`` and failures."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from ecs_events import retry
from ecs_events.cli import main
from ecs_events.models import InstanceSystemEvent, parse_notification
from ecs_events.tools.subscribe import NAMES_PER_PATTERN, TARGET_ID, event_names, patterns_of
from localcloud.cloud import LocalCloud

QUEUE = "ecs-events"
REBOOT = "Instance:SystemMaintenance.Reboot:Scheduled"


@pytest.fixture
def env(localcloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, mocker: Any) -> LocalCloud:
    """The settings ``subscribe`` reads, pointed at localcloud (its own key pair: no credentials in the env)."""
    mocker.patch("ecs_events.retry.sleep")
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECS_EVENTS_LOCALCLOUD", localcloud.url)
    monkeypatch.setenv("ECS_EVENTS_REGION", localcloud.region_id)
    monkeypatch.setenv("ECS_EVENTS_QUEUE", QUEUE)
    localcloud.mns.create_queue(localcloud.account_id, QUEUE)
    return localcloud


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["subscribe", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def queued(cloud: LocalCloud, queue: str = QUEUE) -> list[dict[str, Any]]:
    """The notifications in a queue, decoded as CloudMonitor writes them (base64 JSON)."""
    return [json.loads(base64.b64decode(m.body)) for m in cloud.mns.queue_messages(cloud.account_id, queue)]


def instance(cloud: LocalCloud) -> str:
    ids: list[str] = cloud.load_fleet({"instances": [{"name": "web"}]}).instances["web"]
    cloud.advance(60)
    return ids[0]


def schedule_reboot(cloud: LocalCloud, instance_id: str) -> str:
    return cloud.ecs.create_system_event(instance_id, "SystemMaintenance.Reboot", cloud.clock.now() + timedelta(days=2))


def cms_actions(cloud: LocalCloud) -> list[str]:
    return [c.action for c in cloud.call_log.calls(product="Cms")]


def test_dry_run_prints_the_exact_parameters_and_calls_nothing(
    env: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "--dry-run")
    assert (code, err) == (0, "")
    wire = json.loads(out)
    rule, targets = wire["PutEventRule"], wire["PutEventRuleTargets"]
    assert (rule["RuleName"], rule["State"], rule["EventType"]) == ("ecs-events", "ENABLED", "SYSTEM")
    names = event_names()
    patterns = -(-len(names) // NAMES_PER_PATTERN)
    assert [rule[f"EventPattern.{n}.Product"] for n in range(1, patterns + 1)] == ["ECS"] * patterns
    flat = [v for k, v in rule.items() if ".NameList." in k]
    assert flat == names and len(set(names)) == len(names)
    assert f"EventPattern.1.NameList.{NAMES_PER_PATTERN + 1}" not in rule
    assert f"EventPattern.{patterns + 1}.Product" not in rule
    for name in (REBOOT, "Instance:SystemFailure.Reboot:Executing", "Disk:Stalled:Executing",
                 "Instance:PreemptibleInstanceInterruption", "Instance:StateChange",
                 "Snapshot:CreateSnapshotCompleted", "Disk:DiskOperationCompleted",
                 "Instance:InstanceExpiration.Delete:Scheduled"):  # fmt: skip
        assert name in names
    assert targets == {
        "RuleName": "ecs-events",
        "MnsParameters.1.Id": TARGET_ID,
        "MnsParameters.1.Region": env.region_id,
        "MnsParameters.1.Queue": QUEUE,
    }
    assert cms_actions(env) == []
    code, out, _ = cli(capsys, "--dry-run", "--delete", "--rule-name", "mine")
    assert json.loads(out) == {
        "DeleteEventRuleTargets": {"RuleName": "mine", "Ids.1": TARGET_ID},
        "DeleteEventRules": {"RuleNames.1": "mine"},
    }


def test_subscribe_then_a_system_event_arrives_through_the_rule(
    env: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    instance_id = instance(env)
    assert queued(env) == []  # no direct route: nothing arrives without a rule
    code, out, err = cli(capsys)
    assert (code, err) == (0, "")
    assert out.strip() == "event rule ecs-events: created -> queue ecs-events (159 names in 4 patterns)"
    assert cms_actions(env) == ["DescribeEventRuleList", "PutEventRule", "PutEventRuleTargets"]
    event_id = schedule_reboot(env, instance_id)
    (notification,) = queued(env)
    event = parse_notification(notification)
    assert isinstance(event, InstanceSystemEvent)
    assert (event.name, event.instance_id, event.content.event_id) == (REBOOT, instance_id, event_id)
    assert [d.rule for d in env.cms.deliveries] == ["ecs-events"]


def test_rerun_is_unchanged_and_puts_nothing(env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys)[0] == 0
    env.call_log.clear()
    code, out, _ = cli(capsys)
    assert code == 0 and out.startswith("event rule ecs-events: unchanged -> queue ecs-events")
    assert cms_actions(env) == ["DescribeEventRuleList", "DescribeEventRuleTargetList"]


def test_a_rule_changed_out_of_band_is_put_back(env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    from aliyunsdkcms.request.v20190101.DisableEventRulesRequest import DisableEventRulesRequest

    assert cli(capsys)[0] == 0
    disable = DisableEventRulesRequest()
    disable.set_RuleNamess(["ecs-events"])
    env.acs_client().do_action_with_exception(disable)
    assert env.cms.rules(env.account_id, env.region_id)["ecs-events"].state == "DISABLED"
    code, out, _ = cli(capsys)
    assert code == 0 and ": updated -> " in out
    rules = env.cms.rules(env.account_id, env.region_id)
    assert rules["ecs-events"].state == "ENABLED" and len(rules["ecs-events"].patterns) == 4


def test_topic_target_replaces_the_queue_target(env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    env.mns.create_topic(env.account_id, "events-topic")
    assert cli(capsys)[0] == 0
    code, out, _ = cli(capsys, "--topic", "events-topic")
    assert code == 0 and "updated -> topic events-topic" in out
    (target,) = env.cms.rules(env.account_id, env.region_id)["ecs-events"].targets.values()
    assert (target.id, target.topic, target.queue) == (TARGET_ID, "events-topic", "")


def test_delete_removes_targets_then_the_rule(env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    instance_id = instance(env)
    assert cli(capsys, "--rule-name", "mine")[0] == 0
    env.call_log.clear()
    code, out, _ = cli(capsys, "--delete", "--rule-name", "mine")
    assert (code, out.strip()) == (0, "event rule mine: deleted")
    assert cms_actions(env) == [
        "DescribeEventRuleList",
        "DescribeEventRuleTargetList",
        "DeleteEventRuleTargets",
        "DeleteEventRules",
    ]
    assert env.cms.rules(env.account_id, env.region_id) == {}
    schedule_reboot(env, instance_id)
    assert queued(env) == []
    assert cli(capsys, "--delete", "--rule-name", "mine")[1].strip() == "event rule mine: absent"


def test_success_false_is_one_line_exit_1(env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--queue", "no-such-queue")
    assert (code, out) == (1, "")
    assert err.startswith("ecs-events: subscribe: Cms.PutEventRuleTargets: refused (400): ")
    assert "no-such-queue" in err and err.count("\n") == 1


def test_throttling_is_retried_then_one_line_exit_1(env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    retry.stats.clear()
    env.faults.set("Cms", "DescribeEventRuleList", throttling_rate=1.0)
    code, _, err = cli(capsys)
    assert code == 1 and "Cms.DescribeEventRuleList: Throttling" in err and err.count("\n") == 1
    assert retry.stats["Cms.DescribeEventRuleList"] == retry.ATTEMPTS - 1
    env.faults.clear()
    assert cli(capsys)[0] == 0


@pytest.mark.parametrize(
    "case",
    [
        (("--rule-name", "no spaces"), {}, "--rule-name"),
        (("--queue", "1bad"), {}, "--queue"),
        ((), {"ECS_EVENTS_LOCALCLOUD": "ftp://nowhere"}, "ECS_EVENTS_LOCALCLOUD"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    env: LocalCloud,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[tuple[str, ...], dict[str, str], str],
) -> None:
    args, variables, needle = case
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    code, out, err = cli(capsys, *args)
    assert (code, out) == (2, "") and needle in err and err.count("\n") == 1
    assert cms_actions(env) == []


def test_the_listing_parser_reads_both_documented_shapes() -> None:
    as_list = {"EventPattern": {"EventPattern": [{"Product": "ECS", "NameList": {"NameList": ["a", "b"]}}]}}
    as_object = {"EventPattern": {"Product": "ecs", "NameList": {"NameList": ["a", "b"]}}}
    assert patterns_of(as_list) == patterns_of(as_object) == [("ecs", ("a", "b"))]


def test_the_consumer_handles_what_the_rule_delivers(
    env: LocalCloud, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from ecs_events.runtime.app import build_app
    from ecs_events.runtime.settings import Settings

    instance_id = instance(env)
    assert cli(capsys)[0] == 0
    env.mns.create_queue(env.account_id, f"{QUEUE}-dlq")
    schedule_reboot(env, instance_id)
    settings = Settings(
        account_id=env.account_id,
        region=env.region_id,
        queue=QUEUE,
        store=f"sqlite:///{tmp_path / 's.sqlite3'}",
        localcloud=env.url,
    )
    app = build_app(settings)
    try:
        report = app.consumer.run(until_idle=True, wait_seconds=0)
    finally:
        app.close()
    assert report.received >= 1 and report.dead_lettered == 0
