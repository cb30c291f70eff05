"""Per-instance overrides from instance tags (``ecs-events:window``, ``:lead``, ``:snapshot``, ``:skip``).

A tag is set by whoever owns the instance, at any time, and nobody is there to fix it when an event arrives: a bad
value is ignored with a one-line warning naming the tag (carried in ``Effective.warnings`` for the notice), never an
exception. Tags with the prefix that are not ours (``ecs-events:managed``, the opt-in tag) are left alone.

Values: ``window`` = ``"02:00-05:00 Asia/Shanghai"``, ``"02:00-05:00"`` (UTC) or ``"none"`` (no window);
``lead`` = a duration (``"45m"``); ``snapshot`` / ``skip`` = ``"true"`` / ``"false"`` (any case).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ecs_events.policy.durations import parse_duration
from ecs_events.policy.errors import shown
from ecs_events.policy.limits import LEAD
from ecs_events.policy.windows import Window

_BOOLS = {"true": True, "false": False}


def parse_window_tag(value: str) -> Window | None:
    """``"HH:MM-HH:MM [Zone]"`` or ``"none"``; ValueError with a one-line reason otherwise."""
    text = value.strip()
    if text.lower() == "none":
        return None
    span, _, zone = text.partition(" ")
    try:
        return Window(daily=span, timezone=zone.strip() or "UTC")
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ValueError(f"{reason} (expected 'HH:MM-HH:MM [IANA zone]' or 'none')") from None


def _parse_bool(value: str) -> bool:
    try:
        return _BOOLS[value.strip().lower()]
    except KeyError:
        raise ValueError(f"expected true or false, got {shown(value)}") from None


def _parse_lead(value: str) -> object:
    return parse_duration(value.strip(), LEAD)


_PARSERS = {"window": parse_window_tag, "lead": _parse_lead, "snapshot": _parse_bool, "skip": _parse_bool}


def tag_overrides(tags: dict[str, str], prefix: str = "ecs-events:") -> tuple[dict[str, Any], list[str]]:
    """The Effective fields the tags change, and one warning per tag that was ignored."""
    changes: dict[str, Any] = {}
    warnings: list[str] = []
    for name, parse in _PARSERS.items():
        key = prefix + name
        if key not in tags:
            continue
        try:
            changes[name] = parse(tags[key])
        except ValueError as exc:
            warnings.append(f"tag {key}: {exc}; ignored")
    return changes, warnings
