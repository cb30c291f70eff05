"""A notice: what the engine tells people about a remediation, as data the outbox stores and senders render.

The engine creates notices inside the same store commit as the saga step they describe, so a notice is plain JSON
(``to_doc``) and comes back from the store validated (``from_doc``). ``render_text`` is the human view (DingTalk
markdown); values from events and command output are untrusted, so control characters are escaped, never rendered.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ecs_events.errors import EcsEventsError

Phase = Literal["received", "planned", "started", "succeeded", "failed", "deferred", "missed", "stuck", "info"]
Level = Literal["info", "warning", "critical"]

_ID = re.compile(r"^[A-Za-z0-9._:@/-]{1,200}$")
# C0/C1 controls, DEL, line/paragraph separators and the bidi overrides that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MAX_VALUE = 300
_MAX_TEXT = 4000


class NotifyError(EcsEventsError):
    """A notice or a notification setting ecs-events cannot use."""


class Notice(BaseModel):
    """One notification. ``id`` is stable for the same fact (the outbox key), so a replayed step adds no twin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    phase: Phase
    level: Level = "info"
    title: str
    text: str = ""
    at: datetime
    event_id: str | None = None
    instance_id: str | None = None
    saga: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _key_safe(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be 1-200 characters of letters, digits and ._:@/-")
        return value

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def to_doc(self) -> dict[str, Any]:
        """Plain JSON (``at`` as ISO-8601 UTC) for the store and webhooks."""
        return self.model_dump(mode="json")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Notice:
        """The notice back from ``to_doc``; NotifyError (one line) when the document is not one."""
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "notice"
            raise NotifyError(f"notice: field {where}: {first['msg']} ({exc.error_count()} error(s))") from None


def notice_id(*parts: object) -> str:
    """A stable notice id from the facts that identify it (e.g. saga key and phase): replays give the same id."""
    return "n-" + hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def escape(value: object, limit: int = _MAX_VALUE) -> str:
    """One line of text: control characters shown as ``\\n`` / ``\\x1b`` / ``\\u202e``, cut at ``limit``."""
    text = _CONTROL.sub(_escape_one, str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape_one(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def _text_lines(text: str) -> list[str]:
    """The free text keeps its line breaks (each line escaped on its own)."""
    lines = text.replace("\r\n", "\n").split("\n")
    out = [escape(line, _MAX_TEXT) for line in lines]
    return [line for line in out if line.strip()]


def render_text(notice: Notice) -> str:
    """DingTalk markdown: a heading, the key facts as a list, the free text, then the notice's fields."""
    when = notice.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    facts = [
        ("instance", notice.instance_id),
        ("event", notice.event_id),
        ("phase", notice.phase),
        ("level", notice.level),
        ("when", when),
        ("saga", notice.saga),
    ]
    lines = [f"### {escape(notice.title)}", ""]
    lines += [f"- **{name}**: {escape(value)}" for name, value in facts if value is not None]
    body = _text_lines(notice.text)
    for line in body:  # DingTalk markdown needs a blank line between paragraphs
        lines += ["", line]
    if notice.fields:
        lines.append("")
        lines += [f"- {escape(key, 60)}: {escape(value)}" for key, value in sorted(notice.fields.items())]
    return "\n".join(lines)
