"""One exception hierarchy for everything ecs-events refuses.

``InputError`` and its subclasses are bad input: the message names where it came from (``source``: the delivery
format, or ``body`` before one was recognised) and what was wrong (``field``: a dotted path into the payload), fits on
one line, and is what the CLI prints and what a dead-letter entry records as its reason.
"""

from __future__ import annotations

import copy
import re
from typing import Any

# C0 controls, DEL, C1 controls and the Unicode line/paragraph separators: whatever could end or forge a line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_QUOTE_LIMIT = 80


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\x0a``): safe on one terminal line."""
    return _CONTROL.sub(_escape_one, text) if _CONTROL.search(text) else text


def quote(value: Any, limit: int = _QUOTE_LIMIT) -> str:
    """A value as sent, for a one-line message: ``repr`` of a string (cut to ``limit`` characters), else the
    type and a short repr."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit] + "...")
    text = repr(value)
    return printable(text if len(text) <= limit else text[:limit] + "...")


class EcsEventsError(Exception):
    """Base of every error ecs-events raises on purpose."""


class InputError(EcsEventsError):
    """A payload that cannot be turned into events. Never retried: it goes to the dead-letter queue."""

    def __init__(self, reason: str, *, source: str = "body", field: str | None = None) -> None:
        self.reason = reason
        self.source = source
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        """Always one line: control characters in any part (a key, a value quoted by a caller) are escaped."""
        where = f"{self.source}: field {self.field}" if self.field else self.source
        return printable(f"{where}: {self.reason}")

    def within(self, source: str, prefix: str | None = None) -> InputError:
        """The same error seen from an outer envelope: its source, and the field path below ``prefix``. A copy:
        type, cause and context are kept."""
        field = f"{prefix}.{self.field}" if prefix and self.field else (prefix or self.field)
        return self.renamed(source=source, field=field)

    def renamed(self, *, source: str | None = None, field: str | None = None) -> InputError:
        """A copy naming another source and/or field (None keeps the current one)."""
        clone = copy.copy(self)
        clone.source = self.source if source is None else source
        clone.field = self.field if field is None else field
        clone.args = (clone._render(),)
        clone.__cause__ = self.__cause__
        clone.__context__ = self.__context__
        clone.__suppress_context__ = self.__suppress_context__
        return clone


class EmptyBodyError(InputError):
    """The body is empty or only white space."""


class BodyTooLargeError(InputError):
    """The body is over the delivery's size limit (64 KiB, MNS's; 6 MiB and 10,000 items for a batch)."""


class BodyEncodingError(InputError):
    """The body is not UTF-8."""


class InvalidJsonError(InputError):
    """The body (or an embedded message) is neither JSON nor base64-encoded JSON."""


class UnknownFormatError(InputError):
    """Valid JSON that is no delivery format ecs-events knows."""


class EventValidationError(InputError):
    """A CloudMonitor notification whose fields have the wrong shape or type."""


class ConfigError(EcsEventsError):
    """A malformed setting (an environment variable): the message names it, on one line."""
