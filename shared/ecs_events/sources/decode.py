"""From what FC hands a handler (bytes, or str) to a JSON value: size, encoding, JSON or base64 JSON.

JSON is strict: no ``NaN`` / ``Infinity`` literals and no duplicate keys at any depth (a second ``name`` would
silently change the event family). Duplicates are found cheaply: ``pydantic_core.from_json`` parses (fast, keeps
the last value), then the number of ``":`` in the text without white space is compared with the number of keys
parsed; only when they differ (``":`` inside a string, or a real duplicate) does the exact, slower check (``json``
with an ``object_pairs_hook``) run.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from pydantic_core import from_json

from ecs_events.errors import (
    BodyEncodingError,
    BodyTooLargeError,
    EmptyBodyError,
    InvalidJsonError,
    UnknownFormatError,
    quote,
)

MAX_BODY_BYTES = 64 * 1024  # MNS's message size limit
MAX_BATCH_BYTES = 6 * 1024 * 1024  # FC's synchronous payload limit: EventBridge batches (JSON arrays)
MAX_BATCH_ITEMS = 10_000  # far above an EventBridge push batch; bounds the work per body (one Delivery per item)
_BOM = b"\xef\xbb\xbf"

_BASE64 = re.compile(rb"[A-Za-z0-9+/=\s]+\Z")


def to_bytes(body: bytes | bytearray | memoryview | str, *, source: str = "body") -> bytes:
    """Check size and encoding once; returns UTF-8 bytes without a leading byte-order mark."""
    if isinstance(body, str):
        data = body.encode("utf-8", "surrogatepass")
    elif isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
    else:
        raise InvalidJsonError(f"expected bytes or str, got {type(body).__name__}", source=source) from None
    if data[:3] == _BOM:
        data = data[3:]
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


_CONTAINERS = (dict, list)


def _count_keys(value: Any) -> int:
    """Keys of every object in ``value``, at any depth (from_json's depth limit bounds the recursion)."""
    count = 0
    if value.__class__ is dict:
        count = len(value)
        for item in value.values():
            if item.__class__ in _CONTAINERS:
                count += _count_keys(item)
    elif value.__class__ is list:
        for item in value:
            if item.__class__ in _CONTAINERS:
                count += _count_keys(item)
    return count


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return obj


class _Duplicate(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_STRICT = json.JSONDecoder(object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)


def _parse(data: bytes, *, source: str, field: str | None, what: str) -> Any:
    """Strict JSON of ``data`` (UTF-8, stripped, starting with ``{`` or ``[``)."""
    try:
        value = from_json(data, allow_inf_nan=False)
    except ValueError as exc:
        raise InvalidJsonError(f"{what}: {exc}", source=source, field=field) from None
    if isinstance(value, list) and len(value) > MAX_BATCH_ITEMS:
        raise BodyTooLargeError(
            f"batch of {len(value)} items is over the {MAX_BATCH_ITEMS}-item limit", source=source, field=field
        )
    # Every key ends in `":` once white space is gone; more `":` than keys parsed (one in a string, or a
    # duplicate) sends the text to the exact check.
    if data.translate(None, b" \t\r\n").count(b'":') != _count_keys(value):
        try:
            _STRICT.decode(data.decode("utf-8"))
        except _Duplicate as exc:
            raise InvalidJsonError(f"{what}: duplicate key {quote(exc.key)}", source=source, field=field) from None
        except (ValueError, RecursionError) as exc:  # from_json accepted it: only a limit of json's can be left
            raise InvalidJsonError(f"{what}: {exc}", source=source, field=field) from None
    return value


def load_json(data: bytes, *, source: str = "body", field: str | None = None) -> tuple[Any, bool]:
    """(value, was_base64): JSON as is, else base64 that decodes to JSON (MNS queue bodies, Base64TopicMessage).
    A JSON scalar (``42``, ``"x"``) is an UnknownFormatError saying so."""
    stripped = data.strip()
    if stripped[:3] == _BOM:
        stripped = stripped[3:].strip()
    if stripped[:1] in (b"{", b"["):
        return _parse(stripped, source=source, field=field, what="invalid JSON"), False
    if _BASE64.match(stripped):
        try:
            decoded = base64.b64decode(stripped, validate=False)
        except (binascii.Error, ValueError):
            decoded = b""
        inner = decoded.strip()
        if inner[:3] == _BOM:
            inner = inner[3:].strip()
        if inner[:1] in (b"{", b"["):
            try:
                inner.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidJsonError(
                    f"base64 body does not decode to JSON: not UTF-8 (byte {exc.start})", source=source, field=field
                ) from None
            return _parse(inner, source=source, field=field, what="base64 body does not decode to JSON"), True
    try:
        scalar = from_json(stripped, allow_inf_nan=False)
    except ValueError:
        preview = stripped[:40].decode("utf-8", "replace")
        raise InvalidJsonError(f"neither JSON nor base64 JSON: {quote(preview)}", source=source, field=field) from None
    raise UnknownFormatError(
        f"expected a JSON object or array, got {type(scalar).__name__}", source=source, field=field
    )
