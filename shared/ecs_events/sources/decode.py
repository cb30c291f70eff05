"""From what FC hands a handler (bytes, or str) to a JSON value: size, encoding, JSON or base64 JSON."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from pydantic_core import from_json

from ecs_events.errors import BodyEncodingError, BodyTooLargeError, EmptyBodyError, InvalidJsonError

MAX_BODY_BYTES = 64 * 1024  # MNS's message size limit
MAX_BATCH_BYTES = 6 * 1024 * 1024  # FC's synchronous payload limit: EventBridge batches (JSON arrays)

_BASE64 = re.compile(rb"[A-Za-z0-9+/=\s]+\Z")


def to_bytes(body: bytes | bytearray | memoryview | str, *, source: str = "body") -> bytes:
    """Check size and encoding once; returns UTF-8 bytes."""
    if isinstance(body, str):
        data = body.encode("utf-8", "surrogatepass")
    elif isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
    else:
        raise InvalidJsonError(f"expected bytes or str, got {type(body).__name__}", source=source) from None
    if not data.strip():
        raise EmptyBodyError("empty body", source=source) from None
    limit = MAX_BATCH_BYTES if data.lstrip()[:1] == b"[" else MAX_BODY_BYTES
    if len(data) > limit:
        raise BodyTooLargeError(f"{len(data)} bytes is over the {limit}-byte limit", source=source) from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyEncodingError(
            f"not UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})", source=source
        ) from None
    return data


def load_json(data: bytes, *, source: str = "body", field: str | None = None) -> tuple[Any, bool]:
    """(value, was_base64): JSON as is, else base64 that decodes to JSON (MNS queue bodies, Base64TopicMessage)."""
    stripped = data.strip()
    if stripped[:1] in (b"{", b"["):
        try:
            return from_json(stripped), False
        except ValueError as exc:
            raise InvalidJsonError(f"invalid JSON: {exc}", source=source, field=field) from None
    if _BASE64.match(stripped):
        try:
            decoded = base64.b64decode(stripped, validate=False)
        except (binascii.Error, ValueError):
            decoded = b""
        inner = decoded.strip()
        if inner[:1] in (b"{", b"["):
            try:
                inner.decode("utf-8")
                return from_json(inner), True
            except (UnicodeDecodeError, ValueError) as exc:
                raise InvalidJsonError(
                    f"base64 body does not decode to JSON: {exc}", source=source, field=field
                ) from None
    preview = stripped[:40].decode("utf-8", "replace")
    raise InvalidJsonError(f"neither JSON nor base64 JSON: {preview!r}", source=source, field=field)
