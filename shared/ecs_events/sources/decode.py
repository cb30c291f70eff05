"""From what FC hands a handler (bytes, or str) to a JSON value: size, encoding, JSON or base64 JSON.

JSON is strict: no ``NaN`` / ``Infinity`` literals and no duplicate keys at any depth (a second ``name`` would
silently change the event family). ``jiter`` (the parser inside pydantic-core, as a library) parses and refuses both
in one pass. When it refuses, the reference parse runs to say why in the words it always used:
``pydantic_core.from_json`` for the syntax, then ``json`` with an ``object_pairs_hook`` for the exact duplicate
(``strict_json``, which is also what the property tests hold the fast parse to).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
from typing import Any

from jiter import from_json as _jiter_from_json
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
    if body.__class__ is bytes:  # what FC hands a handler: no copy
        data = body
    elif isinstance(body, str):
        data = body.encode("utf-8", "surrogatepass")
    elif isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
    else:
        raise InvalidJsonError(f"expected bytes or str, got {type(body).__name__}", source=source) from None
    if data.startswith(_BOM):
        data = data[3:]
    if not data or data.isspace():  # what strip() removes, without the copy
        raise EmptyBodyError("empty body", source=source) from None
    first = data[:1]
    if first.isspace():
        first = data.lstrip()[:1]
    limit = MAX_BATCH_BYTES if first == b"[" else MAX_BODY_BYTES
    if len(data) > limit:
        raise BodyTooLargeError(f"{len(data)} bytes is over the {limit}-byte limit", source=source) from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyEncodingError(
            f"not UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})", source=source
        ) from None
    return data


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


def _number(text: str) -> int:
    return 0  # the duplicate check reads keys only: numbers are from_json's (no digit limit of json's here)


_DUPLICATES = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant, parse_int=_number, parse_float=_number
)


def strict_json(data: bytes, *, source: str = "body", field: str | None = None, what: str = "invalid JSON") -> Any:
    """The reference strict parse of ``data`` (UTF-8): ``pydantic_core.from_json`` without NaN / Infinity, then
    every object's keys checked for a duplicate by ``json``. Slow and exact; ``_parse`` must accept and refuse
    exactly what this does."""
    try:
        value = from_json(data, allow_inf_nan=False)
    except ValueError as exc:
        raise InvalidJsonError(f"{what}: {exc}", source=source, field=field) from None
    try:
        _DUPLICATES.decode(data.decode("utf-8"))
    except _Duplicate as exc:
        raise InvalidJsonError(f"{what}: duplicate key {quote(exc.key)}", source=source, field=field) from None
    except (ValueError, RecursionError) as exc:  # from_json accepted it: only a limit of json's can be left
        raise InvalidJsonError(f"{what}: {exc}", source=source, field=field) from None
    return value


def _parse(data: bytes, *, source: str, field: str | None, what: str) -> Any:
    """Strict JSON of ``data`` (UTF-8, stripped, starting with ``{`` or ``[``)."""
    try:
        value = _jiter_from_json(data, allow_inf_nan=False, catch_duplicate_keys=True, cache_mode="keys")
    except ValueError as exc:
        strict_json(data, source=source, field=field, what=what)  # raises, in the reference's words
        raise InvalidJsonError(f"{what}: {exc}", source=source, field=field) from None  # jiter alone refused
    if value.__class__ is list and len(value) > MAX_BATCH_ITEMS:
        raise BodyTooLargeError(
            f"batch of {len(value)} items is over the {MAX_BATCH_ITEMS}-item limit", source=source, field=field
        )
    return value


def fast_json(data: bytes) -> Any:
    """The JSON object or array ``data`` is when it is one as it stands (``{`` or ``[`` first, within its size limit,
    strict JSON, not too many items): what ``load_json(to_bytes(data))`` returns for it, without the copies and
    checks. None for anything else, which the full way decides and words.

    Equal by construction: jiter refuses every byte that is not UTF-8 (what ``to_bytes`` checks), there is no BOM or
    white space before the value, the JSON white space after it is a part of what ``strip()`` removes, and jiter is
    ``_parse``'s parser (tests/unit/test_parse_fast_paths.py holds the two ways to each other)."""
    first = data[:1]
    if first == b"{":
        if len(data) > MAX_BODY_BYTES:
            return None
    elif first != b"[" or len(data) > MAX_BATCH_BYTES:
        return None
    try:
        value = _jiter_from_json(data, allow_inf_nan=False, catch_duplicate_keys=True, cache_mode="keys")
    except ValueError:
        return None
    if value.__class__ is list and len(value) > MAX_BATCH_ITEMS:
        return None
    return value


def _from_base64(text: bytes) -> bytes | None:
    """What ``text`` decodes to as base64 (``b64decode(validate=False)``), None when it is not base64 at all."""
    if not text:
        return None
    if sys.version_info >= (3, 11):  # binascii's strict_mode
        try:  # canonical base64 (what MNS and CloudMonitor send): checked and decoded in C, no regex over the text
            return binascii.a2b_base64(text, strict_mode=True)
        except binascii.Error:
            pass  # white space, odd padding: the lenient reading decides, as it always did
    if not _BASE64.match(text):
        return None
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return b""


def load_json(data: bytes, *, source: str = "body", field: str | None = None) -> tuple[Any, bool]:
    """(value, was_base64): JSON as is, else base64 that decodes to JSON (MNS queue bodies, Base64TopicMessage).
    A JSON scalar (``42``, ``"x"``) is an UnknownFormatError saying so."""
    stripped = data.strip()
    if stripped[:3] == _BOM:
        stripped = stripped[3:].strip()
    if stripped[:1] in (b"{", b"["):
        return _parse(stripped, source=source, field=field, what="invalid JSON"), False
    decoded = _from_base64(stripped)
    if decoded is not None:
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
