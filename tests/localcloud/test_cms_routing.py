"""ECS notifications delivered through CloudMonitor event rules: only ENABLED rules that match (product, name, level,
status, event type, keywords), once per target, beside the direct ``route_events_to_queue`` routes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from aliyunsdkcms.request.v20190101.DisableEventRulesRequest import DisableEventRulesRequest
from aliyunsdkcms.request.v20190101.PutEventRuleRequest import PutEventRuleRequest
from aliyunsdkcms.request.v20190101.PutEventRuleTargetsRequest import PutEventRuleTargetsRequest

from localcloud.cloud import LocalCloud
from localcloud.cms.models import cms_event_type
from localcloud.emit import Emitter
from localcloud.testing import sdk_call as call

Run = Callable[..., list[str]]


def rule(localcloud: LocalCloud, name: str, queue: str, state: str = "ENABLED", **pattern: Any) -> None:
    """A rule of one ECS pattern with one MNS queue target, through the SDK."""
    localcloud.mns.create_queue(localcloud.account_id, queue)
    put = PutEventRuleRequest()
    put.set_RuleName(name)
    put.set_State(state)
    put.set_EventPatterns([{"Product": "ECS", **pattern}])
    assert call(localcloud, put)["Success"] is True
    targets = PutEventRuleTargetsRequest()
    targets.set_RuleName(name)
    targets.set_MnsParameterss([{"Id": f"{name}-{queue}", "Region": localcloud.region_id, "Queue": queue}])
    assert call(localcloud, targets)["Success"] is True


def names_in(localcloud: LocalCloud, queue: str) -> list[str]:
    """The notification names in a queue, decoded as CloudMonitor writes them (base64 JSON)."""
    bodies = [m.body for m in localcloud.mns.queue_messages(localcloud.account_id, queue)]
    return [json.loads(base64.b64decode(body))["name"] for body in bodies]


@pytest.fixture
def instance(localcloud: LocalCloud, running: Run) -> str:
    (instance_id,) = running()
    return instance_id


def emit_mix(localcloud: LocalCloud, instance_id: str) -> None:
    """A maintenance event (CRITICAL, Scheduled), an Inquiring one, a state change (INFO) and a billing one (WARN)."""
    ecs, now = localcloud.ecs, localcloud.clock.now()
    ecs.create_system_event(instance_id, "SystemMaintenance.Reboot", now + timedelta(days=2))
    ecs.create_system_event(instance_id, "SystemMaintenance.Redeploy", now + timedelta(days=2), status="Inquiring")
    emitter = Emitter(localcloud.ctx)
    emitter.state_change(localcloud.account_id, localcloud.region_id, instance_id, "Stopping")
    ecs.create_system_event(instance_id, "InstanceExpiration.Stop", now + timedelta(days=3))


REBOOT = "Instance:SystemMaintenance.Reboot:Scheduled"
REDEPLOY = "Instance:SystemMaintenance.Redeploy:Inquiring"
EXPIRY = "Instance:InstanceExpiration.Stop:Scheduled"


def test_a_maintenance_rule_delivers_only_maintenance_events(localcloud: LocalCloud, instance: str) -> None:
    rule(localcloud, "maintenance", "mq", EventTypeList=["Maintenance"], LevelList=["CRITICAL"])
    rule(localcloud, "status", "sq", EventTypeList=["StatusNotification"])
    emit_mix(localcloud, instance)
    assert names_in(localcloud, "mq") == [REBOOT, REDEPLOY]
    assert names_in(localcloud, "sq") == ["Instance:StateChange"]


def test_a_disabled_rule_delivers_nothing(localcloud: LocalCloud, instance: str) -> None:
    rule(localcloud, "off", "q1", state="DISABLED")
    rule(localcloud, "later-off", "q2")
    disable = DisableEventRulesRequest()
    disable.set_RuleNamess(["later-off"])
    call(localcloud, disable)
    emit_mix(localcloud, instance)
    assert names_in(localcloud, "q1") == [] and names_in(localcloud, "q2") == []
    assert localcloud.cms.deliveries == [] and len(localcloud.emitted) >= 4


def test_level_status_and_name_filter(localcloud: LocalCloud, instance: str) -> None:
    rule(localcloud, "warn", "warn-q", LevelList=["warn"])
    rule(localcloud, "inquiring", "inq-q", StatusList=["Inquiring"])
    rule(localcloud, "named", "named-q", NameList=[REBOOT, "Instance:StateChange"])
    rule(localcloud, "no-suffix", "bare-q", NameList=["Instance:SystemMaintenance.Reboot"])
    rule(localcloud, "other-product", "rds-q", Product="rds")
    emit_mix(localcloud, instance)
    assert names_in(localcloud, "warn-q") == [EXPIRY]
    assert names_in(localcloud, "inq-q") == [REDEPLOY]
    assert names_in(localcloud, "named-q") == [REBOOT, "Instance:StateChange"]
    assert names_in(localcloud, "bare-q") == []  # NameList holds full names: no prefix matching
    assert names_in(localcloud, "rds-q") == []


def test_keywords_filter_on_the_notification_text(localcloud: LocalCloud, instance: str, running: Run) -> None:
    (other,) = running()
    rule(localcloud, "one-instance", "kq", KeywordFilter={"Keywords": [instance, "Reboot"], "Relation": "AND"})
    now = localcloud.clock.now()
    localcloud.ecs.create_system_event(other, "SystemMaintenance.Reboot", now + timedelta(days=2))
    localcloud.ecs.create_system_event(instance, "SystemMaintenance.Redeploy", now + timedelta(days=2))
    localcloud.ecs.create_system_event(instance, "SystemMaintenance.Reboot", now + timedelta(days=2))
    (body,) = [json.loads(base64.b64decode(m.body)) for m in localcloud.mns.queue_messages(localcloud.account_id, "kq")]
    assert body["name"] == REBOOT and body["content"]["instanceId"] == instance


def test_two_rules_to_one_queue_deliver_twice_and_direct_routes_still_work(
    localcloud: LocalCloud, instance: str
) -> None:
    rule(localcloud, "a", "shared", EventTypeList=["Maintenance"])
    rule(localcloud, "b", "shared", NameList=[REBOOT])
    localcloud.route_events_to_queue("direct")
    localcloud.ecs.create_system_event(instance, "SystemMaintenance.Reboot", localcloud.clock.now() + timedelta(days=2))
    assert names_in(localcloud, "shared") == [REBOOT, REBOOT]
    assert names_in(localcloud, "direct") == [REBOOT]
    assert [(d.rule, d.destination) for d in localcloud.cms.deliveries] == [
        ("a", "queue:shared"),
        ("b", "queue:shared"),
    ]


def test_rules_of_another_region_do_not_match(localcloud: LocalCloud, instance: str) -> None:
    localcloud.mns.create_queue(localcloud.account_id, "q")
    shanghai = localcloud.acs_client(region_id="cn-shanghai")
    put = PutEventRuleRequest()
    put.set_RuleName("elsewhere")
    put.set_EventPatterns([{"Product": "ECS"}])
    call(shanghai, put)
    targets = PutEventRuleTargetsRequest()
    targets.set_RuleName("elsewhere")
    targets.set_MnsParameterss([{"Id": "1", "Region": localcloud.region_id, "Queue": "q"}])
    assert call(shanghai, targets)["Success"] is True
    localcloud.ecs.create_system_event(instance, "SystemMaintenance.Reboot", localcloud.clock.now() + timedelta(days=2))
    assert localcloud.cms.deliveries == [] and names_in(localcloud, "q") == []


def test_a_deleted_queue_target_is_skipped_and_the_api_call_still_succeeds(
    localcloud: LocalCloud, instance: str
) -> None:
    rule(localcloud, "gone", "gone-q")
    rule(localcloud, "kept", "kept-q")
    localcloud.mns.model.delete_queue(localcloud.account_id, "gone-q")
    localcloud.ecs.create_system_event(instance, "SystemMaintenance.Reboot", localcloud.clock.now() + timedelta(days=2))
    assert names_in(localcloud, "kept-q") == [REBOOT]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Instance:SystemMaintenance.Reboot:Scheduled", "Maintenance"),
        ("Instance:SystemFailure.Reboot:Executing", "Exception"),
        ("Instance:InstanceFailure.Reboot:Executed", "Exception"),
        ("Instance:Security.TpmAlert:Executing", "Exception"),
        ("Disk:Stalled:Executing", "Exception"),
        ("Instance:StateChange", "StatusNotification"),
        ("Instance:PreemptibleInstanceInterruption", "StatusNotification"),
        ("Snapshot:CreateSnapshotCompleted", "StatusNotification"),
        ("Disk:DiskOperationCompleted", "StatusNotification"),
        ("Instance:InstanceExpiration.Delete:Scheduled", "Maintenance"),
        ("Instance:AccountUnbalanced.Stop:Scheduled", "Maintenance"),
        ("Instance:SomeFutureEvent.Thing:Scheduled", None),
    ],
)
def test_cloudmonitor_event_type_of_each_name(name: str, kind: str | None) -> None:
    assert cms_event_type(name) == kind
