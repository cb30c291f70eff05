"""The local CloudMonitor event-rule API through the real aliyun-python-sdk-cms requests: every action, the wire
shapes of aliyun-python-sdk-cms 7.0.33, gateway errors (HTTP 400 / 404) and HTTP 200 + ``Success: false``."""

from __future__ import annotations

from typing import Any

import pytest
from aliyunsdkcms.request.v20190101.DeleteEventRulesRequest import DeleteEventRulesRequest
from aliyunsdkcms.request.v20190101.DeleteEventRuleTargetsRequest import DeleteEventRuleTargetsRequest
from aliyunsdkcms.request.v20190101.DescribeEventRuleListRequest import DescribeEventRuleListRequest
from aliyunsdkcms.request.v20190101.DescribeEventRuleTargetListRequest import DescribeEventRuleTargetListRequest
from aliyunsdkcms.request.v20190101.DisableEventRulesRequest import DisableEventRulesRequest
from aliyunsdkcms.request.v20190101.EnableEventRulesRequest import EnableEventRulesRequest
from aliyunsdkcms.request.v20190101.PutEventRuleRequest import PutEventRuleRequest
from aliyunsdkcms.request.v20190101.PutEventRuleTargetsRequest import PutEventRuleTargetsRequest
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from localcloud.cloud import LocalCloud
from localcloud.testing import last_call, sdk_error
from localcloud.testing import sdk_call as call

REBOOT = "Instance:SystemMaintenance.Reboot:Scheduled"


def put_rule(name: str = "r1", state: str | None = None, **pattern: Any) -> PutEventRuleRequest:
    request = PutEventRuleRequest()
    request.set_RuleName(name)
    request.set_EventPatterns([{"Product": "ECS", "NameList": [REBOOT], **pattern}])
    if state:
        request.set_State(state)
    return request


def put_mns(rule: str, *targets: dict[str, str]) -> PutEventRuleTargetsRequest:
    request = PutEventRuleTargetsRequest()
    request.set_RuleName(rule)
    request.set_MnsParameterss(list(targets))
    return request


def listing(localcloud: LocalCloud, **params: Any) -> dict[str, Any]:
    request = DescribeEventRuleListRequest()
    for key, value in params.items():
        getattr(request, f"set_{key}")(value)
    return call(localcloud, request)


def target_list(localcloud: LocalCloud, rule: str) -> dict[str, Any]:
    request = DescribeEventRuleTargetListRequest()
    request.set_RuleName(rule)
    return call(localcloud, request)


def names_request(cls: Any, *names: str) -> Any:
    request = cls()
    request.set_RuleNamess(list(names))
    return request


@pytest.fixture
def queue(localcloud: LocalCloud) -> str:
    localcloud.mns.create_queue(localcloud.account_id, "events")
    return "events"


def test_put_event_rule_flattens_patterns_and_lists_them(localcloud: LocalCloud) -> None:
    body = call(localcloud, put_rule(LevelList=["CRITICAL"], EventTypeList=["Maintenance"], StatusList=["Scheduled"]))
    assert body["Code"] == "200" and body["Success"] is True and body["Data"] == "1" and body["RequestId"]
    params = last_call(localcloud, "PutEventRule", "Cms").params
    assert params["EventPattern.1.Product"] == "ECS" and params["EventPattern.1.NameList.1"] == REBOOT
    assert params["EventPattern.1.LevelList.1"] == "CRITICAL" and params["Version"] == "2019-01-01"
    found = listing(localcloud)
    assert found["Success"] is True and found["Total"] == 1
    (rule,) = found["EventRules"]["EventRule"]
    assert (rule["Name"], rule["State"], rule["EventType"], rule["SilenceTime"]) == ("r1", "ENABLED", "SYSTEM", 86400)
    (pattern,) = rule["EventPattern"]["EventPattern"]
    assert pattern["Product"] == "ECS" and pattern["NameList"] == {"NameList": [REBOOT]}
    assert pattern["LevelList"] == {"LevelList": ["CRITICAL"]}
    assert pattern["EventTypeList"] == {"EventTypeList": ["Maintenance"]}
    assert pattern["StatusList"] == {"StatusList": ["Scheduled"]}


def test_put_event_rule_is_an_upsert_that_keeps_targets(localcloud: LocalCloud, queue: str) -> None:
    call(localcloud, put_rule())
    call(localcloud, put_mns("r1", {"Id": "1", "Region": localcloud.region_id, "Queue": queue}))
    call(localcloud, put_rule(state="DISABLED", NameList=["Instance:StateChange"]))
    found = listing(localcloud)
    assert found["Total"] == 1
    rule = found["EventRules"]["EventRule"][0]
    assert rule["State"] == "DISABLED"
    assert rule["EventPattern"]["EventPattern"][0]["NameList"]["NameList"] == ["Instance:StateChange"]
    assert [t["Queue"] for t in target_list(localcloud, "r1")["MnsParameters"]["MnsParameter"]] == [queue]


def test_several_patterns_keyword_filter_and_list_filters(localcloud: LocalCloud) -> None:
    request = PutEventRuleRequest()
    request.set_RuleName("ecs-a")
    request.set_EventPatterns(
        [
            {"Product": "ecs", "NameList": [REBOOT]},
            {"Product": "ecs", "KeywordFilter": {"Keywords": ["i-1", "i-2"], "Relation": "AND"}},
        ]
    )
    call(localcloud, request)
    call(localcloud, put_rule("ecs-b", state="DISABLED"))
    call(localcloud, put_rule("other"))
    patterns = listing(localcloud, NamePrefix="ecs-a")["EventRules"]["EventRule"][0]["EventPattern"]["EventPattern"]
    assert patterns[1]["KeywordFilter"] == {"Keywords": {"Keywords": ["i-1", "i-2"]}, "Relation": "AND"}
    assert listing(localcloud, NamePrefix="ecs-")["Total"] == 2
    assert [r["Name"] for r in listing(localcloud, IsEnable=False)["EventRules"]["EventRule"]] == ["ecs-b"]
    page = listing(localcloud, PageSize=2, PageNumber=2)
    assert page["Total"] == 3 and [r["Name"] for r in page["EventRules"]["EventRule"]] == ["other"]


def test_targets_of_every_kind_are_listed_in_the_sdk_shapes(localcloud: LocalCloud, queue: str) -> None:
    call(localcloud, put_rule())
    request = PutEventRuleTargetsRequest()
    request.set_RuleName("r1")
    request.set_MnsParameterss([{"Id": "mns", "Region": localcloud.region_id, "Queue": queue}])
    request.set_FcParameterss([{"Id": "fc", "Region": "cn-hangzhou", "ServiceName": "s", "FunctionName": "f"}])
    request.set_WebhookParameterss([{"Id": "hook", "Protocol": "http", "Method": "POST", "Url": "http://x/y"}])
    body = call(localcloud, request)
    assert body["Success"] is True and body["FailedParameterCount"] == "0"
    targets = target_list(localcloud, "r1")
    assert "Success" not in targets and targets["Code"] == "200"
    (mns,) = targets["MnsParameters"]["MnsParameter"]
    assert mns == {
        "Id": "mns",
        "Region": localcloud.region_id,
        "Queue": queue,
        "Arn": f"acs:mns:{localcloud.region_id}:{localcloud.account_id}:/queues/{queue}",
    }
    (fc,) = targets["FcParameters"]["FCParameter"]
    assert fc["FunctionName"] == "f" and fc["Arn"].endswith(":services/s/functions/f")
    assert targets["WebhookParameters"]["WebhookParameter"][0]["Url"] == "http://x/y"
    assert targets["ContactParameters"] == {"ContactParameter": []}


def test_unusable_mns_target_is_http_200_success_false_and_the_others_are_kept(
    localcloud: LocalCloud, queue: str
) -> None:
    call(localcloud, put_rule())
    body = call(
        localcloud,
        put_mns(
            "r1",
            {"Id": "good", "Region": localcloud.region_id, "Queue": queue},
            {"Id": "bad", "Region": localcloud.region_id, "Queue": "no-such-queue"},
        ),
    )
    assert body["Success"] is False and body["Code"] == "400" and "no-such-queue" in body["Message"]
    assert body["FailedParameterCount"] == "1"
    assert [t["Id"] for t in body["FailedMnsParameters"]["MnsParameter"]] == ["bad"]
    assert [t["Id"] for t in target_list(localcloud, "r1")["MnsParameters"]["MnsParameter"]] == ["good"]
    assert last_call(localcloud, "PutEventRuleTargets").status == 200


def test_pattern_value_outside_its_set_is_http_200_success_false(localcloud: LocalCloud) -> None:
    body = call(localcloud, put_rule(LevelList=["LOUD"]))
    assert body["Success"] is False and body["Code"] == "400" and "LevelList" in body["Message"]
    body = call(localcloud, put_rule(EventTypeList=["Outage"]))
    assert body["Success"] is False and "EventTypeList" in body["Message"]
    assert listing(localcloud)["Total"] == 0


@pytest.mark.parametrize(
    ("request_", "needle"),
    [
        (PutEventRuleRequest(), "RuleName"),
        (put_rule(state="ON"), "State"),
        (put_rule(NameList=[f"n{i}" for i in range(51)]), "NameList.51"),
        (put_mns("r1"), "target"),
        (put_mns("r1", {"Id": "1", "Queue": "q"}), "MnsParameters.1.Region"),
        (DeleteEventRulesRequest(), "RuleNames"),
    ],
)
def test_bad_parameters_are_400_parameter_invalid(localcloud: LocalCloud, request_: Any, needle: str) -> None:
    if isinstance(request_, PutEventRuleRequest) and not request_.get_query_params():
        request_.set_EventPatterns([{"Product": "ECS"}])
    error = sdk_error(localcloud, request_)
    assert (error.get_error_code(), error.get_http_status()) == ("ParameterInvalid", 400)
    assert needle in error.get_error_msg()


def test_missing_event_pattern_is_400(localcloud: LocalCloud) -> None:
    request = PutEventRuleRequest()
    request.set_RuleName("r1")
    error = sdk_error(localcloud, request)
    assert error.get_error_code() == "ParameterInvalid" and "EventPattern" in error.get_error_msg()


@pytest.mark.parametrize("action", ["targets", "list", "delete-targets", "delete", "enable", "disable"])
def test_unknown_rule_is_404_resource_not_found(localcloud: LocalCloud, queue: str, action: str) -> None:
    delete_targets = DeleteEventRuleTargetsRequest()
    delete_targets.set_RuleName("nope")
    delete_targets.set_Idss(["1"])
    request = {
        "targets": put_mns("nope", {"Id": "1", "Region": localcloud.region_id, "Queue": queue}),
        "list": DescribeEventRuleTargetListRequest(),
        "delete-targets": delete_targets,
        "delete": names_request(DeleteEventRulesRequest, "nope"),
        "enable": names_request(EnableEventRulesRequest, "nope"),
        "disable": names_request(DisableEventRulesRequest, "nope"),
    }[action]
    if action == "list":
        request.set_RuleName("nope")
    error = sdk_error(localcloud, request)
    assert (error.get_error_code(), error.get_http_status()) == ("ResourceNotFound", 404)
    assert "nope" in error.get_error_msg()


def test_enable_disable_delete_targets_and_rules(localcloud: LocalCloud, queue: str) -> None:
    call(localcloud, put_rule("r1"))
    call(localcloud, put_rule("r2"))
    target = {"Region": localcloud.region_id, "Queue": queue}
    call(localcloud, put_mns("r1", {"Id": "1", **target}, {"Id": "2", **target}))
    assert call(localcloud, names_request(DisableEventRulesRequest, "r1", "r2"))["Data"] == "2"
    assert {r["State"] for r in listing(localcloud)["EventRules"]["EventRule"]} == {"DISABLED"}
    call(localcloud, names_request(EnableEventRulesRequest, "r2"))
    assert [r["Name"] for r in listing(localcloud, IsEnable=True)["EventRules"]["EventRule"]] == ["r2"]
    delete_targets = DeleteEventRuleTargetsRequest()
    delete_targets.set_RuleName("r1")
    delete_targets.set_Idss(["1"])
    assert call(localcloud, delete_targets)["Success"] is True
    assert [t["Id"] for t in target_list(localcloud, "r1")["MnsParameters"]["MnsParameter"]] == ["2"]
    # all or nothing: one unknown name deletes none
    assert sdk_error(localcloud, names_request(DeleteEventRulesRequest, "r1", "nope")).get_http_status() == 404
    assert call(localcloud, names_request(DeleteEventRulesRequest, "r1", "r2"))["Data"] == "2"
    assert listing(localcloud)["Total"] == 0


def test_rules_are_per_region_and_account(localcloud: LocalCloud) -> None:
    call(localcloud, put_rule("here"))
    other = localcloud.acs_client(region_id="cn-shanghai")
    call(other, put_rule("there"))
    assert [r["Name"] for r in listing(localcloud)["EventRules"]["EventRule"]] == ["here"]
    assert set(localcloud.cms.rules(localcloud.account_id, "cn-shanghai")) == {"there"}


def test_reset_drops_every_rule(localcloud: LocalCloud) -> None:
    call(localcloud, put_rule())
    localcloud.reset()
    assert listing(localcloud)["Total"] == 0


def test_signature_is_checked_and_the_sdk_reads_the_message(localcloud: LocalCloud) -> None:
    client = AcsClient(localcloud.access_key_id, "wrong-secret", localcloud.region_id, auto_retry=False)
    client.add_endpoint(localcloud.region_id, "Cms", localcloud.endpoint)
    error = sdk_error(client, put_rule())
    # the SDK reads the server's string to sign after the message's ':' and, as it matches its own, reports a
    # wrong secret (with no ':' in the message it would crash with IndexError)
    assert (error.get_error_code(), error.get_http_status()) == ("InvalidAccessKeySecret", 400)
    assert last_call(localcloud, "PutEventRule", "Cms").code == "SignatureDoesNotMatch"
    assert localcloud.cms.rules(localcloud.account_id, localcloud.region_id) == {}


def test_unknown_action_is_404(localcloud: LocalCloud) -> None:
    request = CommonRequest(domain=localcloud.endpoint, version="2019-01-01", action_name="PutMagic")
    request.set_protocol_type("http")
    error = sdk_error(localcloud, request)
    assert (error.get_error_code(), error.get_http_status()) == ("InvalidAction.NotFound", 404)
