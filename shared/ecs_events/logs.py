"""Logging for ecs-events: one JSON object per line, with every registered secret replaced by ``***``.

Function Compute ships stderr to SLS line by line, so a record must be one line (an exception's traceback goes into
a JSON string, newlines escaped) and must be machine-readable (the saga and instance ids are fields to query, not
words in a sentence). Secrets (the access key secret, the STS token, a DingTalk secret or access_token, a webhook's
token) are registered once with ``add_secret`` where they enter the process; the formatter then removes them from
every line, whatever code path (an SDK message, an exception text, a URL) tried to print them.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import traceback
import urllib.parse
from datetime import datetime, timezone
from typing import IO, Any

ROOT = "ecs_events"
EXTRA_KEYS = ("event_id", "instance_id", "saga", "step", "action", "code")
MASK = "***"
# Shorter values would mask ordinary words in every line; no real secret or token is this short.
_MIN_SECRET = 4

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_ordered: tuple[str, ...] = ()


def add_secret(value: str | None) -> None:
    """Register a secret: from now on no formatted line contains it (nor its URL-encoded forms)."""
    global _ordered  # noqa: PLW0603 - one process-wide registry, replaced as a whole (readers never lock)
    if not value or len(value.strip()) < _MIN_SECRET:
        return
    forms = {value, urllib.parse.quote_plus(value), urllib.parse.quote(value, safe="")}
    with _secrets_lock:
        _secrets.update(forms)
        # Longest first: a secret that contains another one is masked whole.
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message"} plus the known ``extra`` keys and ``error`` (the exception, one line)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in EXTRA_KEYS:
            value = record.__dict__.get(key)
            if value is not None:
                line[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        elif record.exc_text:
            line["error"] = redact(record.exc_text)
        # Masked again after encoding: a secret with characters JSON escapes is still caught above, and one
        # hidden in a value of an unexpected type is caught here.
        return redact(json.dumps(line, ensure_ascii=False, default=str))


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler ``configure`` installed, so calling it again replaces it instead of doubling lines."""


def configure(level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Logger:
    """JSON lines on ``stream`` (stderr by default) for every ``ecs_events.*`` logger; idempotent.

    The logger stops propagating to the root logger: FC's runtime installs its own root handler, and the same
    record in two formats would be noise in SLS.
    """
    logger = logging.getLogger(ROOT)
    for handler in [h for h in logger.handlers if isinstance(h, _Handler)]:
        logger.removeHandler(handler)
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    logger.propagate = False
    return logger


def get_logger(name: str) -> logging.Logger:
    """A logger under ``ecs_events`` (``get_logger("outbox")`` and ``get_logger("ecs_events.outbox")`` agree)."""
    if name == ROOT or name.startswith(ROOT + "."):
        return logging.getLogger(name)
    return logging.getLogger(f"{ROOT}.{name}")
