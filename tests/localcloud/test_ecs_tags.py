"""ECS tags through the real SDK (aliyun-python-sdk-ecs): TagResources, UntagResources, ListTagResources and the
older AddTags / RemoveTags change the same tags DescribeInstances / DescribeDisks / DescribeSnapshots show."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.AddTagsRequest import AddTagsRequest
from aliyunsdkecs.request.v20140526.CreateSnapshotRequest import CreateSnapshotRequest
from aliyunsdkecs.request.v20140526.DescribeDisksRequest import DescribeDisksRequest
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.DescribeSnapshotsRequest import DescribeSnapshotsRequest
from aliyunsdkecs.request.v20140526.ListTagResourcesRequest import ListTagResourcesRequest
from aliyunsdkecs.request.v20140526.RemoveTagsRequest import RemoveTagsRequest
from aliyunsdkecs.request.v20140526.TagResourcesRequest import TagResourcesRequest
from aliyunsdkecs.request.v20140526.UntagResourcesRequest import UntagResourcesRequest

from localcloud.cloud import LocalCloud
from localcloud.errors import CloudError
from localcloud.testing import last_call
from localcloud.testing import sdk_call as call
from localcloud.testing import sdk_error as server_error

Run = Callable[..., list[str]]


def tag_request(ids: list[str], tags: dict[str, str], resource_type: str = "instance") -> TagResourcesRequest:
    request = TagResourcesRequest()
    request.set_ResourceType(resource_type)
    request.set_ResourceIds(ids)
    request.set_Tags([{"Key": k, "Value": v} for k, v in tags.items()])
    return request


def untag_request(ids: list[str], keys: list[str] | None = None, remove_all: bool | None = None) -> Any:
    request = UntagResourcesRequest()
    request.set_ResourceType("instance")
    request.set_ResourceIds(ids)
    if keys:
        request.set_TagKeys(keys)
    if remove_all is not None:
        request.set_All(remove_all)
    return request


def list_request(
    ids: list[str] | None = None, tags: list[dict[str, str]] | None = None, token: str | None = None
) -> ListTagResourcesRequest:
    request = ListTagResourcesRequest()
    request.set_ResourceType("instance")
    if ids:
        request.set_ResourceIds(ids)
    if tags:
        request.set_Tags(tags)
    if token:
        request.set_NextToken(token)
    return request


def described_tags(client: AcsClient, instance_id: str) -> dict[str, str]:
    request = DescribeInstancesRequest()
    request.set_InstanceIds(json.dumps([instance_id]))
    (instance,) = call(client, request)["Instances"]["Instance"]
    return {t["TagKey"]: t["TagValue"] for t in instance["Tags"]["Tag"]}


# -- TagResources / UntagResources / ListTagResources ---------------------------------------------------------------


def test_tag_resources_changes_what_describe_instances_shows_at_once(client: AcsClient, run: Run) -> None:
    a, b = run(amount=2, tags={"env": "prod"})
    body = call(client, tag_request([a, b], {"ecs-events:skip": "true", "env": "staging"}))
    assert set(body) == {"RequestId"}
    assert described_tags(client, a) == {"env": "staging", "ecs-events:skip": "true"}
    assert described_tags(client, b) == {"env": "staging", "ecs-events:skip": "true"}


def test_tag_resources_on_the_wire_uses_resource_id_n_and_tag_n(
    localcloud: LocalCloud, client: AcsClient, run: Run
) -> None:
    (a,) = run()
    call(client, tag_request([a], {"team": "sre"}))
    params = last_call(localcloud, "TagResources").params
    assert params["ResourceId.1"] == a
    assert (params["Tag.1.Key"], params["Tag.1.Value"], params["ResourceType"]) == ("team", "sre", "instance")


def test_untag_resources_removes_the_given_keys_and_all_removes_everything(client: AcsClient, run: Run) -> None:
    a, b = run(amount=2, tags={"env": "prod", "team": "sre", "skip": "1"})
    call(client, untag_request([a], keys=["skip", "not-there"]))
    assert described_tags(client, a) == {"env": "prod", "team": "sre"}
    call(client, untag_request([b]))  # neither TagKey.N nor All: nothing is removed
    assert described_tags(client, b) == {"env": "prod", "team": "sre", "skip": "1"}
    call(client, untag_request([b], remove_all=True))
    assert described_tags(client, b) == {}


def test_list_tag_resources_shape_deserializes_in_the_sdk(client: AcsClient, run: Run) -> None:
    a, b = run(amount=2)
    call(client, tag_request([a], {"env": "prod", "team": "sre"}))
    call(client, tag_request([b], {"env": "dev"}))
    body = call(client, list_request(ids=[a, b]))
    assert body["NextToken"] == ""
    assert body["TagResources"]["TagResource"] == [
        {"ResourceId": a, "ResourceType": "instance", "TagKey": "env", "TagValue": "prod"},
        {"ResourceId": a, "ResourceType": "instance", "TagKey": "team", "TagValue": "sre"},
        {"ResourceId": b, "ResourceType": "instance", "TagKey": "env", "TagValue": "dev"},
    ]


def test_list_tag_resources_filters_by_tag_key_and_value(client: AcsClient, run: Run) -> None:
    a, b, c = run(amount=3)
    call(client, tag_request([a, b], {"env": "prod"}))
    call(client, tag_request([c], {"env": "dev"}))
    call(client, tag_request([b], {"skip": "yes"}))
    prod = call(client, list_request(tags=[{"Key": "env", "Value": "prod"}]))["TagResources"]["TagResource"]
    assert sorted({r["ResourceId"] for r in prod}) == sorted([a, b])
    keyed = call(client, list_request(tags=[{"Key": "skip"}]))["TagResources"]["TagResource"]
    assert {r["ResourceId"] for r in keyed} == {b}
    both = call(client, list_request(ids=[a, c], tags=[{"Key": "env", "Value": "prod"}]))
    assert {r["ResourceId"] for r in both["TagResources"]["TagResource"]} == {a}


def test_list_tag_resources_pages_with_next_token(client: AcsClient, run: Run) -> None:
    ids = run(amount=3)
    call(client, tag_request(ids, {f"k{n}": str(n) for n in range(20)}))  # 60 rows, 50 per page
    first = call(client, list_request(ids=ids))
    assert len(first["TagResources"]["TagResource"]) == 50 and first["NextToken"]
    second = call(client, list_request(ids=ids, token=first["NextToken"]))
    assert len(second["TagResources"]["TagResource"]) == 10 and second["NextToken"] == ""
    seen = {(r["ResourceId"], r["TagKey"]) for r in first["TagResources"]["TagResource"]}
    seen |= {(r["ResourceId"], r["TagKey"]) for r in second["TagResources"]["TagResource"]}
    assert len(seen) == 60


def test_disks_and_snapshots_take_tags_too(localcloud: LocalCloud, client: AcsClient, run: Run) -> None:
    (a,) = run()
    localcloud.advance(5)
    disk_id = localcloud.ecs.instance(a).disk_ids[0]
    call(client, tag_request([disk_id], {"backup": "daily"}, resource_type="disk"))
    disks = DescribeDisksRequest()
    disks.set_DiskIds(json.dumps([disk_id]))
    (disk,) = call(client, disks)["Disks"]["Disk"]
    assert disk["Tags"]["Tag"] == [{"TagKey": "backup", "TagValue": "daily"}]
    snap = CreateSnapshotRequest()
    snap.set_DiskId(disk_id)
    snapshot_id = call(client, snap)["SnapshotId"]
    call(client, tag_request([snapshot_id], {"keep": "30d"}, resource_type="snapshot"))
    (shown,) = call(client, DescribeSnapshotsRequest())["Snapshots"]["Snapshot"]
    assert shown["Tags"]["Tag"] == [{"TagKey": "keep", "TagValue": "30d"}]
    listed = ListTagResourcesRequest()
    listed.set_ResourceType("snapshot")
    listed.set_ResourceIds([snapshot_id])
    (row,) = call(client, listed)["TagResources"]["TagResource"]
    assert row["ResourceType"] == "snapshot"


# -- limits and errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["acs:owner", "aliyun-team", "k" * 129, "see https://example.com", "http://x"],
)
def test_reserved_or_malformed_keys_are_invalid_tag_key_malformed(client: AcsClient, run: Run, key: str) -> None:
    (a,) = run(tags={"env": "prod"})
    err = server_error(client, tag_request([a], {key: "v"}))
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidTagKey.Malformed", 400)
    assert described_tags(client, a) == {"env": "prod"}


def test_key_of_128_characters_and_empty_value_are_accepted(client: AcsClient, run: Run) -> None:
    (a,) = run()
    call(client, tag_request([a], {"k" * 128: ""}))
    assert described_tags(client, a) == {"k" * 128: ""}


@pytest.mark.parametrize("value", ["acs:x", "v" * 129, "https://example.com"])
def test_malformed_values_are_invalid_tag_value_malformed(client: AcsClient, run: Run, value: str) -> None:
    (a,) = run()
    err = server_error(client, tag_request([a], {"k": value}))
    assert err.get_error_code() == "InvalidTagValue.Malformed"


def test_more_than_twenty_tags_in_one_call_is_number_exceed_tags(client: AcsClient, run: Run) -> None:
    (a,) = run()
    err = server_error(client, tag_request([a], {f"k{n}": "v" for n in range(21)}))
    assert (err.get_error_code(), err.get_http_status()) == ("NumberExceed.Tags", 400)


def test_a_twenty_first_tag_on_a_resource_is_quota_exceed_and_changes_nothing(client: AcsClient, run: Run) -> None:
    a, b = run(amount=2, tags={f"k{n}": "v" for n in range(19)})
    err = server_error(client, tag_request([b, a], {"new1": "x", "new2": "y"}))
    assert (err.get_error_code(), err.get_http_status()) == ("OperationDenied.QuotaExceed", 400)
    assert "new1" not in described_tags(client, a) and "new1" not in described_tags(client, b)
    call(client, tag_request([a], {"k0": "overwritten", "new1": "x"}))  # an overwrite does not count twice
    assert len(described_tags(client, a)) == 20


def test_more_than_fifty_resources_is_number_exceed_resource_ids(client: AcsClient, run: Run) -> None:
    (a,) = run()
    err = server_error(client, tag_request([a] * 51, {"k": "v"}))
    assert err.get_error_code() == "NumberExceed.ResourceIds"


def test_one_unknown_resource_fails_the_whole_call(client: AcsClient, run: Run) -> None:
    (a,) = run()
    err = server_error(client, tag_request([a, "i-bp1doesnotexist"], {"k": "v"}))
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidResourceId.NotFound", 404)
    assert described_tags(client, a) == {}
    err = server_error(client, untag_request(["i-bp1doesnotexist"], keys=["k"]))
    assert err.get_error_code() == "InvalidResourceId.NotFound"


def test_duplicate_keys_and_bad_types_and_missing_parameters(client: AcsClient, run: Run) -> None:
    (a,) = run()
    dup = TagResourcesRequest()
    dup.set_ResourceType("instance")
    dup.set_ResourceIds([a])
    dup.set_Tags([{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])
    assert server_error(client, dup).get_error_code() == "Duplicate.TagKey"
    err = server_error(client, tag_request([a], {"k": "v"}, resource_type="INSTANCE"))
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidResourceType.NotFound", 404)
    no_tags = TagResourcesRequest()
    no_tags.set_ResourceType("instance")
    no_tags.set_ResourceIds([a])
    err = server_error(client, no_tags)
    assert (err.get_error_code(), err.get_http_status()) == ("MissingParameter.Tags", 404)
    no_type = TagResourcesRequest()
    no_type.set_ResourceIds([a])
    no_type.set_Tags([{"Key": "k", "Value": "v"}])
    assert server_error(client, no_type).get_error_code() == "MissingParameter.ResourceType"
    value_only = TagResourcesRequest()
    value_only.set_ResourceType("instance")
    value_only.set_ResourceIds([a])
    value_only.set_Tags([{"Value": "v"}])
    assert server_error(client, value_only).get_error_code() == "InvalidTag.Mismatch"


def test_list_tag_resources_needs_ids_or_tags_and_a_value_needs_its_key(client: AcsClient) -> None:
    assert server_error(client, list_request()).get_error_code() == "MissingParameter"
    err = server_error(client, list_request(tags=[{"Value": "prod"}]))
    assert err.get_error_code() == "InvalidParameter.TagValue"
    assert server_error(client, list_request(ids=["i-1"], token="garbage")).get_error_code() == "InvalidParameter"


# -- AddTags / RemoveTags --------------------------------------------------------------------------------------------


def test_add_tags_and_remove_tags_on_one_instance(client: AcsClient, run: Run) -> None:
    (a,) = run(tags={"env": "prod"})
    add = AddTagsRequest()
    add.set_ResourceType("instance")
    add.set_ResourceId(a)
    add.set_Tags([{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "sre"}])
    call(client, add)
    assert described_tags(client, a) == {"env": "dev", "team": "sre"}
    remove = RemoveTagsRequest()
    remove.set_ResourceType("instance")
    remove.set_ResourceId(a)
    remove.set_Tags([{"Key": "env", "Value": "prod"}, {"Key": "team"}])  # env's value differs: kept
    call(client, remove)
    assert described_tags(client, a) == {"env": "dev"}


def test_add_tags_errors_use_the_legacy_codes(client: AcsClient, run: Run) -> None:
    (a,) = run()
    add = AddTagsRequest()
    add.set_ResourceType("instance")
    add.set_ResourceId("i-bp1doesnotexist")
    add.set_Tags([{"Key": "k", "Value": "v"}])
    err = server_error(client, add)
    assert (err.get_error_code(), err.get_error_msg()) == (
        "InvalidResourceId.NotFound",
        "The specified ResourceId is not found in our records.",
    )
    add.set_ResourceId(a)
    add.set_Tags([{"Key": f"k{n}", "Value": "v"} for n in range(21)])
    assert server_error(client, add).get_error_code() == "InvalidTagCount"


# -- the control helper ----------------------------------------------------------------------------------------------


def test_change_tags_helper_changes_what_the_sdk_sees(localcloud: LocalCloud, client: AcsClient, run: Run) -> None:
    (a,) = run(tags={"env": "prod", "old": "1"})
    assert localcloud.ecs.change_tags(a, {"ecs-events:skip": "true"}, remove=("old",)) == {
        "env": "prod",
        "ecs-events:skip": "true",
    }
    assert described_tags(client, a) == {"env": "prod", "ecs-events:skip": "true"}
    with pytest.raises(CloudError) as info:
        localcloud.ecs.change_tags(a, {"acs:reserved": "x"})
    assert info.value.code == "InvalidTagKey.Malformed"
    with pytest.raises(CloudError):
        localcloud.ecs.change_tags("i-bp1doesnotexist", {"k": "v"})
