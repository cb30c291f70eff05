"""Errors the fake cloud answers with: real codes, real HTTP statuses, real messages.

Services raise ``CloudError``; the wire layer of each protocol (RPC JSON, MNS XML) renders it.
"""

from __future__ import annotations


class CloudError(Exception):
    """An API error as Alibaba Cloud returns it: ``code`` (e.g. ``InvalidInstanceId.NotFound``) and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class ConnectionResetFault(Exception):
    """Raised by fault injection: the server drops the connection without answering."""


def missing_parameter(name: str) -> CloudError:
    return CloudError(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
        400,
    )


def invalid_parameter(name: str, value: object, why: str = "") -> CloudError:
    detail = f" ({why})" if why else ""
    return CloudError("InvalidParameter", f'The specified parameter "{name}" is not valid: {value!r}{detail}.', 400)


def throttling() -> CloudError:
    return CloudError("Throttling", "Request was denied due to request throttling.", 400)


def internal_error() -> CloudError:
    return CloudError("InternalError", "The request processing has failed due to some unknown error.", 500)


def service_unavailable() -> CloudError:
    return CloudError("ServiceUnavailable", "The request has failed due to a temporary failure of the server.", 503)
