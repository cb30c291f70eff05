"""A local stand-in for the Function Compute Python runtime: the Context FC passes, built from the environment,
and a helper that invokes a handler with a file's bytes exactly as FC does (``event`` is bytes, never parsed).

Attributes follow FC 2.0 / FC 3.0 python3.9-3.10 (reference section 1): ``request_id``, ``credentials``,
``function``, ``service``, ``region``, ``account_id``. Values come from ``ALIBABA_CLOUD_*`` and ``FC_*`` variables.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_events.errors import ConfigError, quote

Handler = Callable[[bytes, "Context"], Any]


@dataclass(frozen=True)
class Credentials:
    access_key_id: str | None = None
    access_key_secret: str | None = None
    security_token: str | None = None

    # FC's own objects expose camelCase too.
    @property
    def accessKeyId(self) -> str | None:
        return self.access_key_id

    @property
    def accessKeySecret(self) -> str | None:
        return self.access_key_secret

    @property
    def securityToken(self) -> str | None:
        return self.security_token


@dataclass(frozen=True)
class FunctionMeta:
    name: str = "local"
    handler: str = "index.handler"
    memory: int = 512
    timeout: int = 60


@dataclass(frozen=True)
class ServiceMeta:
    name: str = "ecs-events"
    log_project: str | None = None
    log_store: str | None = None
    qualifier: str = "LATEST"
    version_id: str | None = None


@dataclass(frozen=True)
class Context:
    request_id: str
    credentials: Credentials
    function: FunctionMeta
    service: ServiceMeta
    region: str
    account_id: str | None
    tracing: Mapping[str, Any] = field(default_factory=dict)

    def getLogger(self) -> logging.Logger:
        return logging.getLogger("fc")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, request_id: str | None = None) -> Context:
        """Raises ConfigError (one line naming the variable) for a malformed FC_FUNCTION_MEMORY_SIZE / _TIMEOUT."""
        env = os.environ if env is None else env

        def first(*names: str) -> str | None:
            return next((env[n] for n in names if env.get(n)), None)

        def number(name: str, default: int) -> int:
            text = env.get(name)
            if text is None or not text.strip():
                return default
            try:
                value = int(text)
            except ValueError:
                value = 0
            if value <= 0:
                raise ConfigError(f"{name}: not a positive integer: {quote(text)}")
            return value

        return cls(
            request_id=request_id or str(uuid.uuid4()),
            credentials=Credentials(
                access_key_id=first("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY"),
                access_key_secret=first("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECRET_KEY"),
                security_token=first("ALIBABA_CLOUD_SECURITY_TOKEN"),
            ),
            function=FunctionMeta(
                name=env.get("FC_FUNCTION_NAME", "local"),
                handler=env.get("FC_FUNCTION_HANDLER", "index.handler"),
                memory=number("FC_FUNCTION_MEMORY_SIZE", 512),
                timeout=number("FC_FUNCTION_TIMEOUT", 60),
            ),
            service=ServiceMeta(
                name=env.get("FC_SERVICE_NAME", "ecs-events"),
                qualifier=env.get("FC_QUALIFIER", "LATEST"),
            ),
            region=first("FC_REGION", "ALIBABA_CLOUD_REGION_ID") or "cn-hangzhou",
            account_id=first("FC_ACCOUNT_ID", "ALIBABA_CLOUD_ACCOUNT_ID"),
        )


def invoke(handler: Handler, payload: bytes | str | Path, context: Context | None = None) -> Any:
    """Call ``handler(event, context)`` as FC does: ``event`` is the raw bytes of the payload (a file's bytes
    when given a Path), ``context`` built from the environment unless given."""
    if isinstance(payload, Path):
        event = payload.read_bytes()
    elif isinstance(payload, str):
        event = payload.encode("utf-8")
    else:
        event = bytes(payload)
    return handler(event, context or Context.from_env())


# -- time left ---------------------------------------------------------------------------------------------------------
DEFAULT_TIMEOUT = 60.0
MARGIN_FRACTION = 0.1
MIN_MARGIN = 5.0


def timeout_of(context: Any) -> float:
    """The function's timeout in seconds (``context.function.timeout``; FC's python contexts have no "remaining
    time" call), or ``DEFAULT_TIMEOUT`` when the context does not say."""
    value = getattr(getattr(context, "function", None), "timeout", None)
    try:
        seconds = float(value) if value is not None else DEFAULT_TIMEOUT
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    return seconds if seconds > 0 else DEFAULT_TIMEOUT


def deadline(context: Any, started: float, *, fraction: float = MARGIN_FRACTION, minimum: float = MIN_MARGIN) -> float:
    """The monotonic time to stop work by: the invocation's start (``time.monotonic()`` when it began) plus the
    timeout, less a margin (``fraction`` of the timeout or ``minimum`` seconds, whichever is larger) left for
    finishing the message in hand, deleting the batch and returning before FC kills the invocation."""
    timeout = timeout_of(context)
    return started + timeout - max(timeout * fraction, minimum)
