"""The RPC wire: signatures, STS tokens, fault injection, deterministic ids, the call log."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from aliyunsdkcore.acs_exception.exceptions import ClientException
from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.RebootInstanceRequest import RebootInstanceRequest

from localcloud.cloud import LocalCloud
from localcloud.testing import sdk_call as call
from localcloud.testing import sdk_error as server_error

Run = Callable[..., list[str]]


def test_wrong_secret_is_signature_does_not_match(localcloud: LocalCloud) -> None:
    client = localcloud.acs_client(secret="not-the-secret")
    err = server_error(client, DescribeInstancesRequest())
    # The server answers 400 SignatureDoesNotMatch with its string to sign; the SDK compares it with its own and,
    # as they match, reports the real cloud's diagnosis: the secret is wrong.
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidAccessKeySecret", 400)
    assert err.get_request_id()
    (record,) = localcloud.call_log.calls("DescribeInstances")
    assert (record.code, record.status) == ("SignatureDoesNotMatch", 400)


def test_tampered_request_gets_the_signature_error_body(localcloud: LocalCloud) -> None:
    query = urlencode(
        {
            "Action": "DescribeInstances",
            "Version": "2014-05-26",
            "AccessKeyId": localcloud.access_key_id,
            "Signature": "bm90LWEtc2lnbmF0dXJl",
            "SignatureMethod": "HMAC-SHA1",
            "Format": "JSON",
        }
    )
    with pytest.raises(HTTPError) as info:
        urlopen(f"{localcloud.url}/?{query}", timeout=5)
    body = json.loads(info.value.read())
    assert info.value.code == 400
    assert body["Code"] == "SignatureDoesNotMatch"
    assert body["Message"].startswith("Specified signature is not matched with our calculation.")
    assert set(body) >= {"RequestId", "HostId", "Code", "Message"}


def test_unknown_key_is_invalid_access_key(localcloud: LocalCloud) -> None:
    client = localcloud.acs_client(ak="LTAI-nobody")
    err = server_error(client, DescribeInstancesRequest())
    assert (err.get_error_code(), err.get_http_status()) == ("InvalidAccessKeyId.NotFound", 404)


def test_sts_token_is_accepted_for_the_configured_pair(localcloud: LocalCloud) -> None:
    credential = StsTokenCredential(localcloud.access_key_id, localcloud.access_key_secret, "sts-token-value")
    client = localcloud.acs_client(credential=credential)
    assert call(client, DescribeInstancesRequest())["TotalCount"] == 0
    (record,) = localcloud.call_log.calls("DescribeInstances")
    assert record.params["SecurityToken"] == "sts-token-value"


def test_throttling_rate_one_answers_throttling(localcloud: LocalCloud) -> None:
    localcloud.faults.set("Ecs", "DescribeInstances", throttling_rate=1.0)
    client = localcloud.acs_client(auto_retry=False)
    err = server_error(client, DescribeInstancesRequest())
    assert (err.get_error_code(), err.get_http_status()) == ("Throttling", 400)


def test_error_rate_gives_internal_error_or_service_unavailable(localcloud: LocalCloud) -> None:
    localcloud.faults.set("Ecs", "*", error_rate=1.0)
    client = localcloud.acs_client(auto_retry=False)
    seen = set()
    for _ in range(12):
        err = server_error(client, DescribeInstancesRequest())
        seen.add((err.get_error_code(), err.get_http_status()))
    assert seen == {("InternalError", 500), ("ServiceUnavailable", 503)}


def test_qps_limit_throttles_calls_past_it(localcloud: LocalCloud) -> None:
    localcloud.faults.set("Ecs", "DescribeInstances", qps_limit=2)
    client = localcloud.acs_client(auto_retry=False)
    call(client, DescribeInstancesRequest())
    call(client, DescribeInstancesRequest())
    assert server_error(client, DescribeInstancesRequest()).get_error_code() == "Throttling"


def test_sdk_retries_describe_calls_through_transient_faults(localcloud: LocalCloud) -> None:
    # The SDK's own retry policy (retry_config.json) retries Describe* on 5xx; the fault rule lets 1 in 2 through.
    localcloud.faults.set("Ecs", "DescribeInstances", error_rate=0.5)
    client = localcloud.acs_client(max_retry_time=10)
    for _ in range(3):
        assert call(client, DescribeInstancesRequest())["TotalCount"] == 0


def test_connection_reset_is_a_client_exception(localcloud: LocalCloud, running: Run) -> None:
    (instance_id,) = running()
    localcloud.faults.set("Ecs", "RebootInstance", reset_rate=1.0)
    request = RebootInstanceRequest()
    request.set_InstanceId(instance_id)
    with pytest.raises(ClientException) as info:
        localcloud.acs_client().do_action_with_exception(request)
    assert info.value.get_error_code() == "SDK.HttpError"
    assert localcloud.ecs.status(instance_id) == "Running"


def test_ids_are_deterministic_from_the_seed(localcloud: LocalCloud, run: Run) -> None:
    first = run(amount=3)
    localcloud.reset()
    assert run(amount=3) == first
    with LocalCloud(seed=7) as other:
        client: AcsClient = other.acs_client()
        from aliyunsdkecs.request.v20140526.RunInstancesRequest import RunInstancesRequest

        request = RunInstancesRequest()
        request.set_Amount(3)
        assert call(client, request)["InstanceIdSets"]["InstanceIdSet"] != first


def test_call_log_records_action_params_and_result(localcloud: LocalCloud, client: AcsClient) -> None:
    request = DescribeInstancesRequest()
    request.set_InstanceIds(json.dumps(["i-1"]))
    call(client, request)
    server_error(client, RebootInstanceRequest())
    ok, failed = localcloud.call_log.calls(product="Ecs")
    assert (ok.action, ok.code, ok.status, ok.params["InstanceIds"]) == ("DescribeInstances", "OK", 200, '["i-1"]')
    assert (failed.action, failed.code, failed.status) == ("RebootInstance", "MissingParameter", 400)
    assert ok.time == localcloud.clock.now()
    assert "Signature" not in ok.params


def test_reset_clears_state_and_rewinds_the_manual_clock(localcloud: LocalCloud, client: AcsClient, run: Run) -> None:
    start = localcloud.clock.now()
    run()
    localcloud.advance(100)
    localcloud.reset()
    assert localcloud.clock.now() == start
    assert call(client, DescribeInstancesRequest())["TotalCount"] == 0
    assert len(localcloud.call_log) == 1
