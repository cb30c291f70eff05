"""The RPC wire (ECS, SLB): HMAC-SHA1 signed query strings in, JSON out.

``RpcService`` implementations (ecs, slb) only see an ``RpcCall`` and return a dict or raise ``CloudError``;
this module checks the signature, applies faults, logs the call and shapes the response.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote

from localcloud.core import CallRecord, CloudContext
from localcloud.errors import CloudError, ConnectionResetFault, internal_error, missing_parameter

log = logging.getLogger("localcloud")

# Parameters the SDK adds to every call; services never see them.
COMMON_PARAMS = frozenset(
    {
        "Action", "Version", "Format", "RegionId", "Timestamp", "SignatureMethod", "SignatureType",
        "SignatureVersion", "SignatureNonce", "AccessKeyId", "Signature", "SecurityToken",
    }
)  # fmt: skip


@dataclass(frozen=True)
class RpcCall:
    action: str
    params: dict[str, str]  # the API's own parameters (COMMON_PARAMS removed)
    account_id: str
    region_id: str
    request_id: str


class RpcService(Protocol):
    product: str  # "Ecs", "Slb"
    version: str  # API version the SDK sends, e.g. "2014-05-26"

    def handle(self, call: RpcCall) -> dict[str, Any]:
        """The response body without RequestId; raise CloudError for API errors."""
        ...

    def reset(self) -> None: ...


def _percent_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{_percent_encode(k)}={_percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&%2F&{_percent_encode(canonical)}"


def sign(method: str, params: dict[str, str], secret: str) -> str:
    digest = hmac.new((secret + "&").encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class RpcDispatcher:
    def __init__(self, ctx: CloudContext, services: list[RpcService]) -> None:
        self.ctx = ctx
        self.services = {s.version: s for s in services}

    def handle(self, method: str, query: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        request_id = self.ctx.ids.uuid()
        params = dict(parse_qsl(query, keep_blank_values=True))
        if body and "x-www-form-urlencoded" in content_type:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = params.get("Action", "")
        product = "?"
        status, code = 200, "OK"
        try:
            service = self._service(params)
            product = service.product
            account_id = self._authenticate(method, params)
            if not action:
                raise missing_parameter("Action")
            self.ctx.faults.check(product, action)
            self.ctx.scheduler.run_due()
            call = RpcCall(
                action=action,
                params={k: v for k, v in params.items() if k not in COMMON_PARAMS},
                account_id=account_id,
                region_id=params.get("RegionId") or self.ctx.region_id,
                request_id=request_id,
            )
            try:
                result = dict(service.handle(call))
            except (CloudError, ConnectionResetFault):
                raise
            except Exception as exc:  # a bug in the fake: answer as the cloud would, keep the traceback in the log
                log.exception("localcloud %s.%s failed", product, action)
                raise internal_error() from exc
            result["RequestId"] = request_id
            payload = result
        except CloudError as err:
            status, code = err.status, err.code
            payload = {
                "RequestId": request_id,
                "HostId": "localcloud",
                "Code": err.code,
                "Message": err.message,
                "Recommend": "",
            }
        self.ctx.call_log.record(
            CallRecord(
                time=self.ctx.clock.now(),
                product=product,
                action=action,
                params={k: v for k, v in params.items() if k not in ("Signature", "SignatureNonce")},
                code=code,
                status=status,
                account_id=params.get("AccessKeyId", ""),
                region_id=params.get("RegionId", ""),
            )
        )
        return status, json.dumps(payload).encode()

    def _service(self, params: dict[str, str]) -> RpcService:
        version = params.get("Version")
        if not version:
            raise missing_parameter("Version")
        service = self.services.get(version)
        if service is None:
            raise CloudError("InvalidVersion", f"Specified parameter Version is not valid: {version}", 400)
        return service

    def _authenticate(self, method: str, params: dict[str, str]) -> str:
        key_id = params.get("AccessKeyId")
        if not key_id:
            raise missing_parameter("AccessKeyId")
        found = self.ctx.credentials.secret_for(key_id)
        if found is None:
            raise CloudError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        secret, account_id = found
        if "Signature" not in params:
            raise missing_parameter("Signature")
        signed = {k: v for k, v in params.items() if k != "Signature"}
        expected = sign(method, signed, secret)
        if not hmac.compare_digest(expected, params["Signature"]):
            raise CloudError(
                "SignatureDoesNotMatch",
                f"Specified signature is not matched with our calculation. server string to sign is:"
                f"{string_to_sign(method, signed)}",
                400,
            )
        return account_id
