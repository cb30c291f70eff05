"""Signature V3 (``ACS3-HMAC-SHA256``), what the current Alibaba SDKs (``alibabacloud_*`` over Tea OpenAPI) send:
the API in ``x-acs-action`` / ``x-acs-version`` headers, parameters in the query string or a form body, and

    Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;...>,Signature=<hex>

The signature is hex(HMAC-SHA256(secret, "ACS3-HMAC-SHA256\\n" + hex(SHA256(canonical request)))), where the
canonical request is ``METHOD\\nURI\\nQUERY\\nHEADERS\\nSIGNED_HEADERS\\nPAYLOAD_HASH``. The verifier rebuilds it from
what the request itself carries: the headers its SignedHeaders names (the Python SDK signs every header it sets,
``accept`` and ``user-agent`` included, so no fixed list will do), the query decoded (``+`` is a space there) and
re-encoded RFC 3986 style (a space is ``%20``), and the SHA-256 of the body actually received.

Only the pure pieces live here; ``localcloud.rpc`` applies them with the credentials, clock and nonce cache.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from localcloud.errors import CloudError

ALGORITHM = "ACS3-HMAC-SHA256"
PREFIX = "ACS3-"  # every V3 algorithm (ACS3-HMAC-SM3, ACS3-RSA-SHA256 too): refused by name, not taken for V1
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Headers = Iterable[tuple[str, str]]


def incomplete(why: str) -> CloudError:
    return CloudError("IncompleteSignature", f"The request signature does not conform to Aliyun standards: {why}.")


@dataclass(frozen=True)
class Authorization:
    algorithm: str
    access_key_id: str
    signed_headers: tuple[str, ...]  # lower-cased, in the order the request lists them
    signature: str

    @property
    def signed_headers_text(self) -> str:
        return ";".join(self.signed_headers)


def is_v3(authorization: str) -> bool:
    return authorization.startswith(PREFIX)


def parse_authorization(value: str) -> Authorization:
    """``ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`` (fields in any order, spaces allowed)."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise incomplete(f"algorithm {algorithm[:40]!r} is not supported, use {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, field = part.strip().partition("=")
        if not sep or name in fields:
            raise incomplete(f"Authorization field {part.strip()[:40]!r} is not Name=Value once")
        fields[name] = field.strip()
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(name):
            raise incomplete(f"Authorization has no {name}")
    signed = tuple(h.strip().lower() for h in fields["SignedHeaders"].split(";"))
    if "" in signed:
        raise incomplete(f"SignedHeaders {fields['SignedHeaders'][:80]!r} names an empty header")
    return Authorization(algorithm, fields["Credential"], signed, fields["Signature"])


def header_values(headers: Headers) -> dict[str, list[str]]:
    """Lower-cased name -> every value it was sent with, trimmed."""
    found: dict[str, list[str]] = {}
    for name, value in headers:
        found.setdefault(name.lower(), []).append(value.strip())
    return found


def encode(value: str) -> str:
    """RFC 3986: everything but ``A-Za-z0-9-_.~`` percent-encoded as UTF-8; a space is ``%20``, never ``+``."""
    return quote(value, safe="~", encoding="utf-8")


def canonical_query(query: str) -> str:
    """The received query decoded (``+`` and ``%20`` are both a space) and re-encoded, sorted by key."""
    pairs = sorted((encode(k), encode(v)) for k, v in parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(values: dict[str, list[str]], signed: tuple[str, ...]) -> str:
    """``name:value\\n`` for each signed header (repeated values sorted and comma-joined, as the SDKs do)."""
    lines = []
    for name in signed:
        if name not in values:
            raise incomplete(f"signed header {name!r} is not in the request")
        lines.append(f"{name}:{','.join(sorted(values[name]))}\n")
    return "".join(lines)


def canonical_request(
    method: str, path: str, query: str, *, values: dict[str, list[str]], signed: tuple[str, ...], payload_hash: str
) -> str:
    return "\n".join(
        (method, path or "/", canonical_query(query), canonical_headers(values, signed), ";".join(signed), payload_hash)
    )


def string_to_sign(canonical: str) -> str:
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def sign(to_sign: str, secret: str) -> str:
    """Hex HMAC-SHA256 keyed with the bare secret (no ``&``, unlike V1)."""
    return hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
