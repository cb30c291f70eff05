"""The one place that decides which cloud errors are retried, and the one retry policy.

``classify(exc)`` sorts any exception an SDK call can raise into ``transient`` (retry), ``conflict``,
``not_found`` or ``fatal``; ``translate`` turns it into the matching ``CloudCallError`` subclass; ``call`` runs a
call under a bounded, jittered exponential backoff. The SDKs' own retries are off (``AcsClient(auto_retry=False)``):
they cover only some ECS reads, never SLB, and never add a ClientToken.

Tests patch the module-level ``sleep`` (never wait for real); benches read ``stats`` (retries per call name).
"""

from __future__ import annotations

import http.client
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from typing import Literal, TypeVar

import tenacity

from ecs_events.actions.errors import (
    ActionError,
    CloudCallError,
    ConflictError,
    NotFoundError,
    TransientError,
)

log = logging.getLogger("ecs_events.retry")

Kind = Literal["transient", "conflict", "not_found", "fatal"]
T = TypeVar("T")

ATTEMPTS = 6
DEADLINE_SECONDS = 60.0
FIRST_WAIT = 0.2
MAX_WAIT = 10.0

sleep: Callable[[float], None] = time.sleep
stats: Counter[str] = Counter()

TRANSIENT_CODES = frozenset(
    {
        "ServiceUnavailable",
        "InternalError",
        "UnknownError",
        "RequestTimeout",
        # SLB: "a previous configuration is pending; please try again later"
        "BackendServer.configuring",
        "ServiceIsConfiguring",
        "VServerGroupProcessing",
        "OperationBusy",
        "SystemBusy",
        # ALB / NLB: the server group (load balancer) is still applying an earlier change (its job is running)
        "IncorrectStatus.ServerGroup",
        "IncorrectStatus.serverGroup",
        "IncorrectStatus.LoadBalancer",
        "IncorrectStatus.loadBalancer",
        "Conflict.Lock",
        # aliyunsdkcore transport errors (ClientException codes)
        "SDK.HttpError",
        "SDK.ServerUnreachable",
        "SDK.UnknownServerError",
        # aliyun-mns-sdk network errors (MNSClientNetworkException types)
        "NetWorkException",
        "RespDataDamaged",
        "UnkownError",
    }
)
NOT_FOUND_PREFIXES = ("ResourceNotFound.",)  # ALB / NLB: ResourceNotFound.ServerGroup, .BackendServer, ...
NOT_FOUND_CODES = frozenset(
    {"QueueNotExist", "MessageNotExist", "ReceiptHandleError", "InvalidEventId.NoInquiringEventFound"}
)
CONFLICT_PREFIXES = (
    "IncorrectInstanceStatus",
    "IncorrectDiskStatus",
    "OperationConflict",
    "IdempotentProcessing",
    "InstanceLockedForSecurity",
    "InstanceExpiredOrInArrears",
    "OperationFail.InstanceStatusNotSupported",
    "OperationFail.DiskStatusNotSupported",
)
TRANSPORT_ERRORS = (ConnectionError, socket.timeout, socket.gaierror, http.client.HTTPException, TimeoutError)


def error_facts(exc: BaseException) -> tuple[str, str, int | None, str | None] | None:
    """(code, message, HTTP status, request id) of an SDK or transport exception; None for anything else."""
    from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
    from mns.mns_exception import MNSClientNetworkException, MNSExceptionBase, MNSServerException

    if isinstance(exc, CloudCallError):
        return exc.code, exc.message, exc.status, exc.request_id
    if isinstance(exc, ServerException):
        return str(exc.get_error_code()), str(exc.get_error_msg() or ""), exc.get_http_status(), exc.get_request_id()
    if isinstance(exc, ClientException):
        return str(exc.get_error_code()), str(exc.get_error_msg() or ""), None, None
    if isinstance(exc, MNSServerException):
        return str(exc.type), str(exc.message or ""), None, exc.req_id
    if isinstance(exc, MNSClientNetworkException):
        return str(exc.type), str(exc.message or ""), None, None
    if isinstance(exc, MNSExceptionBase):
        return str(exc.type), str(exc.message or ""), None, None
    if isinstance(exc, TRANSPORT_ERRORS):
        return type(exc).__name__, str(exc), None, None
    return None


def classify(exc: BaseException) -> Kind:
    """``transient`` | ``conflict`` | ``not_found`` | ``fatal`` (anything not recognised is fatal)."""
    if isinstance(exc, TransientError):
        return "transient"
    if isinstance(exc, ConflictError):
        return "conflict"
    if isinstance(exc, NotFoundError):
        return "not_found"
    if isinstance(exc, TRANSPORT_ERRORS):
        return "transient"
    facts = error_facts(exc)
    if facts is None or isinstance(exc, ActionError):
        return "fatal"
    code, message, status, _ = facts
    if code.startswith("Throttling") or code in TRANSIENT_CODES or (status is not None and status >= 500):
        return "transient"
    if code.endswith(".NotFound") or code in NOT_FOUND_CODES or code.startswith(NOT_FOUND_PREFIXES):
        return "not_found"
    if code == "InvalidParameter" and "does not exist" in message:  # SLB's answer for a missing VServer group
        return "not_found"
    if code.startswith(CONFLICT_PREFIXES):
        return "conflict"
    return "fatal"


_CLASSES: dict[Kind, type[CloudCallError]] = {
    "transient": TransientError,
    "conflict": ConflictError,
    "not_found": NotFoundError,
    "fatal": ActionError,
}


def translate(exc: BaseException, what: str) -> CloudCallError | None:
    """The ``CloudCallError`` for an SDK/transport exception of call ``what`` (``Product.Action``); None if
    ``exc`` is not one (a bug of ours: re-raise it as it is)."""
    if isinstance(exc, CloudCallError):
        return exc
    facts = error_facts(exc)
    if facts is None:
        return None
    code, message, status, request_id = facts
    product, _, action = what.partition(".")
    return _CLASSES[classify(exc)](product, action or what, code, message, status=status, request_id=request_id)


def _is_transient(exc: BaseException) -> bool:
    return classify(exc) == "transient"


def _sleep(seconds: float) -> None:
    sleep(seconds)  # looked up at call time, so a test's patch of ``retry.sleep`` applies


def call(fn: Callable[[], T], *, what: str, attempts: int = ATTEMPTS, deadline: float = DEADLINE_SECONDS) -> T:
    """``fn()`` retried on transient errors (at most ``attempts`` tries and ``deadline`` seconds, waits from
    ``FIRST_WAIT`` doubling up to ``MAX_WAIT``, jittered). ``fn`` must build a new SDK request each time.
    Raises the translated ``CloudCallError`` (``TransientError`` once retries are exhausted)."""

    def count(state: tenacity.RetryCallState) -> None:
        stats[what] += 1
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        log.warning("retrying %s after %s (attempt %d)", what, _short(error), state.attempt_number)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts) | tenacity.stop_after_delay(deadline),
        wait=tenacity.wait_exponential(multiplier=FIRST_WAIT, max=MAX_WAIT) + tenacity.wait_random(0, FIRST_WAIT),
        retry=tenacity.retry_if_exception(_is_transient),
        sleep=_sleep,
        before_sleep=count,
        reraise=True,
    )
    try:
        return retrying(fn)
    except Exception as exc:
        error = translate(exc, what)
        if error is None or error is exc:
            raise
        raise error from exc


def _short(error: BaseException | None) -> str:
    if error is None:
        return "nothing"
    facts = error_facts(error)
    return facts[0] if facts else type(error).__name__
