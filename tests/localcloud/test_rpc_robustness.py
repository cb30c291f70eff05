"""Malformed or missing parameters never get a 500: every ECS and SLB action, called with no parameters and with
each parameter its SDK request class knows set to one garbage value after another, answers a 2xx or a 4xx with a
real error code. A bug inside a service answers InternalError 500 (never a dropped connection or a traceback)."""

from __future__ import annotations

import importlib
import json
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from localcloud.cloud import LocalCloud
from localcloud.ecs.responses import HANDLERS as ECS_ACTIONS
from localcloud.rpc import sign
from localcloud.slb.responses import ACTIONS as SLB_ACTIONS

GARBAGE = ["x", "-1", "[", "{}", '[{"a":1}]', "99999999999999999999", "", "true", '["i-x"]', "null", "é\u0000"]
SERVICES = {
    "Ecs": ("2014-05-26", "aliyunsdkecs.request.v20140526"),
    "Slb": ("2014-05-15", "aliyunsdkslb.request.v20140515"),
}


def signed_get(cloud: LocalCloud, version: str, action: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    query = {
        "Action": action,
        "Version": version,
        "Format": "JSON",
        "RegionId": cloud.region_id,
        "AccessKeyId": cloud.access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureType": "",
        "SignatureNonce": str(uuid.uuid4()),
        "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **params,
    }
    query["Signature"] = sign("GET", query, cloud.access_key_secret)
    try:
        with urlopen(f"{cloud.url}/?{urlencode(query)}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except HTTPError as err:
        return err.code, json.loads(err.read())


def sdk_parameters(package: str, action: str) -> list[str]:
    module = importlib.import_module(f"{package}.{action}Request")
    request_class = getattr(module, f"{action}Request")
    return sorted(name[4:] for name in dir(request_class) if name.startswith("set_"))


CASES = [pytest.param("Ecs", action, id=f"Ecs.{action}") for action in sorted(ECS_ACTIONS)] + [
    pytest.param("Slb", action, id=f"Slb.{action}") for action in sorted(SLB_ACTIONS)
]


@pytest.mark.parametrize(("product", "action"), CASES)
def test_no_parameters_or_garbage_never_gets_a_500(localcloud: LocalCloud, product: str, action: str) -> None:
    version, package = SERVICES[product]
    names = sdk_parameters(package, action)
    assert names, f"{action}: the SDK knows no parameters (wrong request class?)"
    for params in [{}, *(dict.fromkeys(names, value) for value in GARBAGE)]:
        status, body = signed_get(localcloud, version, action, params)
        assert status < 500, (action, params, body)
        if status >= 400:
            assert body["Code"] and body["Message"] and body["RequestId"]


def test_a_bug_in_a_service_is_internal_error_not_a_dropped_connection(
    localcloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(call: Any) -> dict[str, Any]:
        raise KeyError("oops")

    monkeypatch.setattr(localcloud.ecs, "handle", broken)
    status, body = signed_get(localcloud, "2014-05-26", "DescribeInstances", {})
    assert (status, body["Code"]) == (500, "InternalError")
    (record,) = localcloud.call_log.calls("DescribeInstances")
    assert record.code == "InternalError"
