"""Reading RPC parameters the way ECS does: required values, ints in range, booleans, repeat lists, tags,
JSON-array id lists and ISO times. Every problem is a MissingParameter / InvalidParameter, never a traceback."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from localcloud.errors import invalid_parameter, missing_parameter

_REPEAT = re.compile(r"^(?P<prefix>.+)\.(?P<n>\d+)(?:\.(?P<field>.+))?$")
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%S.%fZ")


def required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value.strip():
        raise missing_parameter(name)
    return value


def opt_int(params: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_parameter(name, raw, "not an integer") from None
    if not lo <= value <= hi:
        raise invalid_parameter(name, raw, f"must be between {lo} and {hi}")
    return value


def opt_bool(params: dict[str, str], name: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise invalid_parameter(name, raw, "must be true or false")


def repeat_list(params: dict[str, str], prefix: str) -> list[str]:
    """``InstanceId.1``, ``InstanceId.2`` ... in order of N."""
    found: list[tuple[int, str]] = []
    for key, value in params.items():
        m = _REPEAT.match(key)
        if m and m["prefix"] == prefix and m["field"] is None:
            found.append((int(m["n"]), value))
    return [v for _, v in sorted(found)]


def repeat_fields(params: dict[str, str], prefix: str) -> list[dict[str, str]]:
    """``DataDisk.1.Size``, ``DataDisk.1.Category`` ... -> ``[{"Size": .., "Category": ..}, ...]`` in order of N."""
    groups: dict[int, dict[str, str]] = {}
    for key, value in params.items():
        m = _REPEAT.match(key)
        if m and m["prefix"] == prefix and m["field"] is not None:
            groups.setdefault(int(m["n"]), {})[m["field"]] = value
    return [groups[n] for n in sorted(groups)]


def tags(params: dict[str, str], prefix: str = "Tag") -> list[tuple[str, str | None]]:
    """``Tag.N.Key`` / ``Tag.N.Value`` pairs (value None when absent)."""
    out: list[tuple[str, str | None]] = []
    for n, group in enumerate(repeat_fields(params, prefix), start=1):
        key = group.get("Key", "")
        if not key:
            raise missing_parameter(f"{prefix}.{n}.Key")
        out.append((key, group.get("Value")))
    return out


def json_list(params: dict[str, str], name: str, limit: int = 100) -> list[str] | None:
    """A JSON array string such as ``InstanceIds='["i-1","i-2"]'``; None when absent."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise invalid_parameter(name, raw, "not a JSON array") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_parameter(name, raw, "not a JSON array of strings")
    if len(value) > limit:
        raise invalid_parameter(name, raw, f"at most {limit} items")
    return value


def parse_time(name: str, raw: str) -> datetime:
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise invalid_parameter(name, raw, "expected yyyy-MM-ddTHH:mm:ssZ (UTC)")


def opt_time(params: dict[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    return parse_time(name, raw) if raw else None


def page(params: dict[str, str], max_size: int = 100, default_size: int = 10) -> tuple[int, int]:
    number = opt_int(params, "PageNumber", 1, 1, 1_000_000)
    size = opt_int(params, "PageSize", default_size, 1, max_size)
    return number, size


def one_of(params: dict[str, str], name: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise invalid_parameter(name, raw, "must be one of " + ", ".join(allowed))
    return raw
