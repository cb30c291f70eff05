"""The one error a policy file can cause: ``PolicyError``, a one-line message naming the file and the field.

``file`` is the path as given, with ``:line:column`` appended for YAML syntax errors and keys given twice.
``shown(value)`` is how every message quotes a value: ``repr``, cut short, so an absurd value keeps it one line.
"""

from __future__ import annotations

from ecs_events.errors import EcsEventsError


class PolicyError(EcsEventsError):
    """A policy file that cannot be used: missing, not YAML, or a key with a wrong value. Fixed by the operator
    before deploying, so it is raised at once and never defaulted around (instance tags, which an operator cannot
    fix at deploy time, only ever add warnings instead)."""

    def __init__(self, reason: str, *, file: str, field: str | None = None) -> None:
        self.reason = reason
        self.file = file
        self.field = field
        super().__init__(f"{file}: field {field}: {reason}" if field else f"{file}: {reason}")


class FieldValueError(ValueError):
    """Raised by a cross-field check to name the field it is about (pydantic would report the whole model)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(reason)


SHOWN_CHARS = 40
_BIG_INT_BITS = 512  # beyond this an int is described, not printed (str() refuses past 4300 digits)


def shown(value: object) -> str:
    """``repr(value)`` cut to about ``SHOWN_CHARS`` characters (``'99999...'``); never raises."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value).bit_length() > _BIG_INT_BITS:
        sign = "negative " if value < 0 else ""
        return f"a {sign}number of about {int(abs(value).bit_length() * 0.30103)} digits"
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not replace the error being reported
        return f"a {type(value).__name__}"
    if len(text) <= SHOWN_CHARS:
        return text
    return text[: SHOWN_CHARS - 4] + "..." + (text[0] if text[0] in "'\"" else "")
