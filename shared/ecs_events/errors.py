"""One exception hierarchy for everything ecs-events refuses.

``InputError`` and its subclasses are bad input: the message names where it came from (``source``: the delivery
format, or ``body`` before one was recognised) and what was wrong (``field``: a dotted path into the payload), fits on
one line, and is what the CLI prints and what a dead-letter entry records as its reason.
"""

from __future__ import annotations


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
        where = f"{self.source}: field {self.field}" if self.field else self.source
        return f"{where}: {self.reason}"

    def within(self, source: str, prefix: str | None = None) -> InputError:
        """The same error seen from an outer envelope: its source, and the field path below ``prefix``."""
        field = f"{prefix}.{self.field}" if prefix and self.field else (prefix or self.field)
        return type(self)(self.reason, source=source, field=field)


class EmptyBodyError(InputError):
    """The body is empty or only white space."""


class BodyTooLargeError(InputError):
    """The body is over the delivery's size limit (64 KiB, MNS's)."""


class BodyEncodingError(InputError):
    """The body is not UTF-8."""


class InvalidJsonError(InputError):
    """The body (or an embedded message) is neither JSON nor base64-encoded JSON."""


class UnknownFormatError(InputError):
    """Valid JSON that is no delivery format ecs-events knows."""


class EventValidationError(InputError):
    """A CloudMonitor notification whose fields have the wrong shape or type."""
