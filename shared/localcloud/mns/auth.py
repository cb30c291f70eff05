"""The MNS request signature (``Authorization: MNS <AccessKeyId>:<Signature>``).

StringToSign = ``METHOD\\nContent-MD5\\nContent-Type\\nDate\\n`` + the ``x-mns-*`` headers (lowercased names, sorted,
``name:value\\n`` each) + the resource (path and query exactly as sent). Signature = base64(HMAC-SHA1(secret,
StringToSign)). The ``security-token`` header of STS credentials is not signed; it is accepted for any configured
key pair.

With ``strict`` (the default of a LocalCloud), a ``Date`` more than 15 minutes off the wall clock is 403
TimeExpired, as real MNS answers. A Date that does not parse as an RFC 1123 date is refused the same way (our
assumption: the service cannot tell its age either).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import timezone
from email.utils import parsedate_to_datetime

from localcloud.core import Credentials
from localcloud.mns import exceptions as exc

REQUEST_WINDOW = 15 * 60


def string_to_sign(method: str, headers: Mapping[str, str], resource: str) -> str:
    """``headers`` with lowercased names; ``resource`` the raw request target (path and query, undecoded)."""
    mns_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers) if k.startswith("x-mns-"))
    return (
        f"{method}\n{headers.get('content-md5', '')}\n{headers.get('content-type', '')}\n"
        f"{headers.get('date', '')}\n{mns_headers}{resource}"
    )


def signature(secret: str, method: str, headers: Mapping[str, str], resource: str) -> str:
    digest = hmac.new(secret.encode(), string_to_sign(method, headers, resource).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def authorization(access_key_id: str, secret: str, method: str, headers: Mapping[str, str], resource: str) -> str:
    """The ``Authorization`` header value a client would send (tests and tools use it to sign raw requests)."""
    return f"MNS {access_key_id}:{signature(secret, method, headers, resource)}"


def parse_authorization(value: str) -> tuple[str, str]:
    """``MNS AK:SIG`` -> (AK, SIG); raises InvalidAuthorizationHeader."""
    scheme, _, rest = value.strip().partition(" ")
    access_key_id, sep, sig = rest.strip().partition(":")
    if scheme != "MNS" or not sep or not access_key_id or not sig:
        raise exc.invalid_authorization_header()
    return access_key_id, sig


def content_md5(body: bytes) -> str:
    """The ``content-md5`` header the MNS SDK sends: base64 of the *hex* MD5 digest."""
    return base64.b64encode(hashlib.md5(body).hexdigest().encode()).decode()


def authenticate(
    credentials: Credentials,
    method: str,
    headers: Mapping[str, str],
    resource: str,
    body: bytes = b"",
    *,
    strict: bool = False,
    wall: Callable[[], float] = time.time,
) -> tuple[str, str]:
    """Check one request; return (access_key_id, account_id) or raise the CloudError real MNS answers with."""
    header = headers.get("authorization")
    if not header:
        raise exc.missing_authorization_header()
    access_key_id, sig = parse_authorization(header)
    if not headers.get("date"):
        raise exc.missing_date_header()
    found = credentials.secret_for(access_key_id)
    if found is None:
        raise exc.invalid_access_key_id()
    secret, account_id = found
    expected = signature(secret, method, headers, resource)
    if not hmac.compare_digest(expected.encode(), sig.encode("utf-8", "surrogateescape")):
        raise exc.signature_does_not_match()
    if strict and not _fresh(headers["date"], wall()):
        raise exc.time_expired()
    md5 = headers.get("content-md5")
    if md5 and body and md5 != content_md5(body):
        raise exc.invalid_digest()
    return access_key_id, account_id


def _fresh(date: str, now: float) -> bool:
    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:  # "-0000": UTC by RFC 2822
        when = when.replace(tzinfo=timezone.utc)
    return abs(when.timestamp() - now) <= REQUEST_WINDOW
