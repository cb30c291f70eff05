"""The RPC wire (ECS, SLB, CMS, and every other RpcService registered): signed requests in, JSON out.

Two signatures are accepted, as the real cloud does: V1 (HMAC-SHA1, what aliyunsdkcore sends: ``Action``,
``Version`` and ``Signature`` among the query parameters) and V3 (ACS3-HMAC-SHA256, what the ``alibabacloud_*`` SDKs
send by default: ``x-acs-action`` / ``x-acs-version`` headers and an ``Authorization`` header; see
``localcloud.acs3``). The service is chosen by version either way. API parameters come from the query string and
from an ``application/x-www-form-urlencoded`` body.

``RpcService`` implementations only see an ``RpcCall`` and return a dict or raise ``CloudError``;
this module checks the signature, applies faults, logs the call and shapes the response.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote

from localcloud import acs3
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


# How far a request's Timestamp may be from the wall clock, and how long a SignatureNonce is remembered.
REQUEST_WINDOW = 15 * 60
NONCE_CAPACITY = 100_000


class NonceCache:
    """SignatureNonces seen in the last ``window`` seconds, per access key. Bounded: entries older than the window
    are dropped, and past ``capacity`` the oldest go first (a replay older than that many requests slips through,
    which no test of ours sends)."""

    def __init__(
        self, capacity: int = NONCE_CAPACITY, window: float = REQUEST_WINDOW, wall: Callable[[], float] = time.time
    ) -> None:
        self.capacity = capacity
        self.window = window
        self.wall = wall
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, access_key_id: str, nonce: str) -> bool:
        """Remember the nonce; False if it was seen within the window (a replay)."""
        now = self.wall()
        with self._lock:
            while self._seen:
                oldest = next(iter(self._seen.values()))
                if now - oldest <= self.window and len(self._seen) < self.capacity:
                    break
                self._seen.popitem(last=False)
            key = (access_key_id, nonce)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


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
        self.nonces = NonceCache(wall=self._wall)

    def handle(
        self,
        method: str,
        query: str,
        body: bytes,
        content_type: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        path: str = "/",
    ) -> tuple[int, bytes]:
        """One RPC request: ``query`` and ``path`` undecoded, ``headers`` every (name, value) pair as received
        (a V3 signature covers some of them; V1 needs none)."""
        request_id = self.ctx.ids.uuid()
        params = dict(parse_qsl(query, keep_blank_values=True))
        if body and "x-www-form-urlencoded" in content_type:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        values = acs3.header_values(headers)
        authorization = _first(values, "authorization")
        v3 = acs3.is_v3(authorization)
        if v3:
            action, version = _first(values, "x-acs-action"), _first(values, "x-acs-version")
            key_id, signature = "", authorization.partition(" ")[0]
            logged = dict(params)
            if _first(values, "x-acs-security-token"):  # recorded under the V1 name: one place to read it
                logged["SecurityToken"] = _first(values, "x-acs-security-token")
        else:
            action, version = params.get("Action", ""), params.get("Version", "")
            key_id, signature = params.get("AccessKeyId", ""), params.get("SignatureMethod", "")
            logged = {k: v for k, v in params.items() if k not in ("Signature", "SignatureNonce")}
        product = "?"
        status, code = 200, "OK"
        try:
            service = self._service(version, "x-acs-version" if v3 else "Version")
            product = service.product
            if v3:
                auth = acs3.parse_authorization(authorization)
                key_id = auth.access_key_id
                account_id = self._authenticate_v3(
                    auth, method=method, path=path, query=query, body=body, values=values
                )
            else:
                account_id = self._authenticate(method, params)
            if not action:
                raise missing_parameter("x-acs-action" if v3 else "Action")
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
                params=logged,
                code=code,
                status=status,
                account_id=key_id,
                region_id=params.get("RegionId", ""),
                signature=signature,
            )
        )
        return status, json.dumps(payload).encode()

    def _wall(self) -> float:
        return self.ctx.wall()

    def _service(self, version: str, name: str) -> RpcService:
        if not version:
            raise missing_parameter(name)
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
        # compare bytes: compare_digest refuses non-ASCII str, and a garbage signature is just a wrong one
        if not hmac.compare_digest(expected.encode(), params["Signature"].encode("utf-8", "surrogateescape")):
            raise CloudError(
                "SignatureDoesNotMatch",
                f"Specified signature is not matched with our calculation. server string to sign is:"
                f"{string_to_sign(method, signed)}",
                400,
            )
        if self.ctx.strict_requests:
            self._check_fresh(key_id, params.get("Timestamp"), params.get("SignatureNonce"))
        return account_id

    def _authenticate_v3(
        self,
        auth: acs3.Authorization,
        *,
        method: str,
        path: str,
        query: str,
        body: bytes,
        values: dict[str, list[str]],
    ) -> str:
        """Check an ACS3-HMAC-SHA256 request as the cloud does: known key, ``host`` and every ``x-acs-*`` header
        signed, body hash as claimed, signature rebuilt from the request's own SignedHeaders, then (strict) a
        fresh x-acs-date and an unused x-acs-signature-nonce. The account id of the key."""
        found = self.ctx.credentials.secret_for(auth.access_key_id)
        if found is None:
            raise CloudError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        secret, account_id = found
        unsigned = sorted(n for n in values if (n == "host" or n.startswith("x-acs-")) and n not in auth.signed_headers)
        if unsigned:
            raise acs3.incomplete(f"header {unsigned[0]!r} is sent but not in SignedHeaders")
        sts_key = _first(values, "x-acs-accesskey-id")
        if sts_key and sts_key != auth.access_key_id:
            raise acs3.incomplete(f"x-acs-accesskey-id {sts_key[:40]!r} is not the Credential's key")
        claimed = _first(values, "x-acs-content-sha256")
        if not claimed:
            raise missing_parameter("x-acs-content-sha256")
        actual = acs3.payload_hash(body)
        if claimed.lower() != actual:
            raise CloudError(
                "SignatureDoesNotMatch",
                f"x-acs-content-sha256 {claimed[:64]!r} is not the SHA-256 of the {len(body)}-byte request body.",
                400,
            )
        canonical = acs3.canonical_request(
            method, path, query, values=values, signed=auth.signed_headers, payload_hash=claimed
        )
        to_sign = acs3.string_to_sign(canonical)
        expected = acs3.sign(to_sign, secret)
        if not hmac.compare_digest(expected.encode(), auth.signature.encode("utf-8", "surrogateescape")):
            # one line: the string to sign and the canonical request with their newlines written as \n
            shown = [text.replace("\n", "\\n") for text in (to_sign, canonical)]
            raise CloudError(
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. server string to sign is:"
                f"{shown[0]} canonical request is:{shown[1]}",
                400,
            )
        if self.ctx.strict_requests:
            stamp, nonce = _first(values, "x-acs-date"), _first(values, "x-acs-signature-nonce")
            for name, value in (("x-acs-date", stamp), ("x-acs-signature-nonce", nonce)):
                if not value:
                    raise missing_parameter(name)
            self._check_fresh(auth.access_key_id, stamp, nonce)
        return account_id

    def _check_fresh(self, key_id: str, stamp: str | None, nonce: str | None) -> None:
        """Timestamp within 15 minutes of the wall clock, signature nonce not seen within 15 minutes (V1: the
        ``Timestamp`` and ``SignatureNonce`` parameters, V3: the ``x-acs-date`` and ``x-acs-signature-nonce``
        headers; one nonce memory for both)."""
        if stamp:
            try:
                when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            except ValueError:
                raise CloudError(
                    "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.", 400
                ) from None
            if abs(when.timestamp() - self.ctx.wall()) > REQUEST_WINDOW:
                raise CloudError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400)
        if nonce and not self.nonces.add(key_id, nonce):
            raise CloudError("SignatureNonceUsed", "Specified signature nonce was used already.", 400)


def _first(values: dict[str, list[str]], name: str) -> str:
    found = values.get(name)
    return found[0] if found else ""
