"""Errors of cloud calls: what failed (product, action), the cloud's code and message, HTTP status, request id.

Which class an SDK exception becomes is decided once, in ``ecs_events.retry`` (``classify`` / ``translate``); the
classes only carry the facts. Messages are one line, cut short, and scrubbed of anything that looks like a
credential (a server may echo the string it signed, which holds the STS token).
"""

from __future__ import annotations

import re

from ecs_events.errors import EcsEventsError

_MESSAGE_LIMIT = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# key=value pairs of credentials, raw or percent-encoded (as in a string-to-sign)
_SECRET_PAIR = re.compile(
    r"(SecurityToken|security-token|AccessKeySecret|access_key_secret|Signature|secret|token)"
    r"(=|%3D|%253D|:\s*)[^&\s\"',;]+",
    re.IGNORECASE,
)
_STRING_TO_SIGN = re.compile(r"string to sign.*$", re.IGNORECASE)


def scrub(text: str) -> str:
    """One line, at most ``_MESSAGE_LIMIT`` characters, credential-looking values replaced by ``***``."""
    text = _STRING_TO_SIGN.sub("string to sign: ***", text)
    text = _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= _MESSAGE_LIMIT else text[:_MESSAGE_LIMIT] + "..."


class CloudCallError(EcsEventsError):
    """A cloud API call that failed. ``status`` is the HTTP status (None for a transport error)."""

    def __init__(
        self,
        product: str,
        action: str,
        code: str,
        message: str = "",
        *,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.product = product
        self.action = action
        self.code = code
        self.message = scrub(message)
        self.status = status
        self.request_id = request_id
        super().__init__(self._render())

    def _render(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        request = f" [request {self.request_id}]" if self.request_id else ""
        message = f": {self.message}" if self.message else ""
        return f"{self.product}.{self.action}: {self.code}{status}{message}{request}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._render()!r})"


class NotFoundError(CloudCallError):
    """The instance, disk, event, queue or message does not exist (any more)."""


class ConflictError(CloudCallError):
    """The resource is in a state that refuses the call now (status, lock, an operation in progress)."""


class TransientError(CloudCallError):
    """A transient error (throttling, 5xx, transport) that outlasted every retry."""


class ActionError(CloudCallError):
    """Any other failure: bad parameters, permissions, quota, an unknown code. Not retried."""
