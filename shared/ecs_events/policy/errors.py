"""The one error a policy file can cause: ``PolicyError``, a one-line message naming the file and the field.

``file`` is the path as given, with ``:line:column`` appended for YAML syntax errors and keys given twice.
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
