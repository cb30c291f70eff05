"""retry.py: the one classification of cloud errors, and the retry policy under localcloud's injected faults."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any

import pytest
from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from mns.mns_exception import MNSClientNetworkException, MNSClientParameterException, MNSServerException

from ecs_events import retry
from ecs_events.actions.errors import ActionError, ConflictError, NotFoundError, TransientError
from ecs_events.runtime.clients import Clients, Credentials
from localcloud.cloud import LocalCloud


def _server(code: str, status: int, message: str = "m") -> ServerException:
    return ServerException(code, message, http_status=status, request_id="R-1")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (_server("Throttling", 400), "transient"),
        (_server("Throttling.User", 429), "transient"),
        (_server("Throttling.Api", 400), "transient"),
        (_server("InternalError", 500), "transient"),
        (_server("ServiceUnavailable", 503), "transient"),
        (_server("UnknownError", 400), "transient"),
        (_server("SomethingNew", 502), "transient"),
        (_server("BackendServer.configuring", 409), "transient"),
        (_server("ServiceIsConfiguring", 400), "transient"),
        (_server("VServerGroupProcessing", 400), "transient"),
        (_server("OperationBusy", 400), "transient"),
        (_server("SystemBusy", 449), "transient"),
        (ClientException("SDK.HttpError", "('Connection aborted.', RemoteDisconnected())"), "transient"),
        (ClientException("SDK.ServerUnreachable", "timed out"), "transient"),
        (MNSServerException("InternalError", "x", "R", "H"), "transient"),
        (MNSServerException("ServiceUnavailable", "x", "R", "H"), "transient"),
        (MNSClientNetworkException("NetWorkException", "reset"), "transient"),
        (ConnectionResetError(104, "reset"), "transient"),
        (http.client.RemoteDisconnected("closed"), "transient"),
        (TimeoutError("slow"), "transient"),
        (_server("IncorrectInstanceStatus", 403), "conflict"),
        (_server("IncorrectDiskStatus.CreatingSnapshot", 403), "conflict"),
        (_server("OperationConflict", 409), "conflict"),
        (_server("IdempotentProcessing", 403), "conflict"),
        (_server("InstanceLockedForSecurity", 403), "conflict"),
        (_server("InvalidInstanceId.NotFound", 404), "not_found"),
        (_server("InvalidDiskId.NotFound", 404), "not_found"),
        (_server("InvalidServerId.NotFound", 400), "not_found"),
        (_server("InvalidEventId.NoInquiringEventFound", 404), "not_found"),
        (_server("InvalidParameter", 400, "The specified VServerGroupId does not exist: rsp-1."), "not_found"),
        (MNSServerException("QueueNotExist", "x", "R", "H"), "not_found"),
        (_server("IncorrectStatus.ServerGroup", 400), "transient"),  # ALB: the group's job is still running
        (_server("IncorrectStatus.serverGroup", 400), "transient"),  # NLB spells it so
        (_server("Conflict.Lock", 400), "transient"),
        (_server("ResourceNotFound.ServerGroup", 404), "not_found"),
        (_server("ResourceNotFound.serverGroup", 404), "not_found"),
        (_server("ResourceNotFound.BackendServer", 404), "not_found"),
        (_server("InvalidParameter", 400), "fatal"),
        (_server("Forbidden.RAM", 403), "fatal"),
        (_server("QuotaExceed.Snapshot", 403), "fatal"),
        (_server("IdempotentParameterMismatch", 403), "fatal"),
        (ClientException("SDK.InvalidCredential", "no key"), "fatal"),
        (MNSClientParameterException("InvalidParameter", "bad"), "fatal"),
        (ValueError("a bug of ours"), "fatal"),
    ],
)
def test_classify(exc: BaseException, kind: str) -> None:
    assert retry.classify(exc) == kind


def test_translate_keeps_the_facts_and_picks_the_class() -> None:
    err = retry.translate(_server("IncorrectInstanceStatus", 403, "not Running"), "Ecs.RebootInstance")
    assert isinstance(err, ConflictError)
    assert (err.product, err.action, err.code, err.message, err.status, err.request_id) == (
        "Ecs",
        "RebootInstance",
        "IncorrectInstanceStatus",
        "not Running",
        403,
        "R-1",
    )
    assert str(err) == "Ecs.RebootInstance: IncorrectInstanceStatus (HTTP 403): not Running [request R-1]"
    assert retry.translate(KeyError("x"), "Ecs.RebootInstance") is None


def test_a_throttled_read_succeeds_and_counts_its_retries(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]], no_sleep: Any
) -> None:
    [instance] = running()
    localcloud.faults.set("Ecs", "DescribeInstances", throttling_rate=0.5)
    ecs = clients.ecs()
    for _ in range(6):
        assert ecs.describe_instance(instance) is not None
    codes = [c.code for c in localcloud.call_log.calls("DescribeInstances")]
    assert codes.count("Throttling") == retry.stats["Ecs.DescribeInstances"] > 0
    assert codes.count("OK") == 6
    assert no_sleep.call_count == retry.stats["Ecs.DescribeInstances"]
    assert all(0.2 <= call.args[0] <= retry.MAX_WAIT + 0.2 for call in no_sleep.call_args_list)


def test_retries_exhausted_is_a_transient_error_after_a_growing_backoff(
    localcloud: LocalCloud, clients: Clients, no_sleep: Any
) -> None:
    localcloud.faults.set("Ecs", "DescribeInstances", throttling_rate=1.0)
    with pytest.raises(TransientError) as info:
        clients.ecs().describe_instance("i-1")
    assert (info.value.code, info.value.status, info.value.action) == ("Throttling", 400, "DescribeInstances")
    assert len(localcloud.call_log.calls("DescribeInstances")) == retry.ATTEMPTS
    waits = [call.args[0] for call in no_sleep.call_args_list]
    assert len(waits) == retry.ATTEMPTS - 1
    for n, wait in enumerate(waits):
        base = min(retry.FIRST_WAIT * 2**n, retry.MAX_WAIT)
        assert base <= wait <= base + retry.FIRST_WAIT
    assert retry.stats["Ecs.DescribeInstances"] == retry.ATTEMPTS - 1


def test_server_errors_and_dropped_connections_are_retried(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    [instance] = running()
    localcloud.faults.set("Ecs", "DescribeInstancesFullStatus", error_rate=0.4, reset_rate=0.3)
    ecs = clients.ecs()
    for _ in range(5):
        assert ecs.full_status(instance) == ("Running", "Ok")
    assert retry.stats["Ecs.DescribeInstancesFullStatus"] > 0


def test_a_non_transient_error_is_sent_once(localcloud: LocalCloud, clients_for: Callable[..., Clients]) -> None:
    wrong = Credentials(localcloud.access_key_id, "not-the-secret")
    with pytest.raises(ActionError) as info:
        clients_for(wrong).ecs().describe_instance("i-1")
    assert info.value.code == "InvalidAccessKeySecret"
    assert len(localcloud.call_log.calls("DescribeInstances")) == 1
    assert retry.stats == {}


def test_an_unknown_access_key_is_not_found_and_not_retried(
    localcloud: LocalCloud, clients_for: Callable[..., Clients]
) -> None:
    with pytest.raises(NotFoundError) as info:
        clients_for(Credentials("LTAI-unknown", "s")).ecs().describe_instance("i-1")
    assert info.value.code == "InvalidAccessKeyId.NotFound"
    assert len(localcloud.call_log.calls("DescribeInstances")) == 1


def test_a_bug_of_ours_is_raised_as_it_is_and_not_retried() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise KeyError("Instances")

    with pytest.raises(KeyError):
        retry.call(broken, what="Ecs.DescribeInstances")
    assert calls == [1]


def test_errors_never_show_a_secret_or_token(localcloud: LocalCloud, clients_for: Callable[..., Clients]) -> None:
    token, secret = "STS.tok3n-VALUE-xyz", "s3cr3t-VALUE"
    creds = Credentials(localcloud.access_key_id, secret, token)
    with pytest.raises(ActionError) as info:
        clients_for(creds).ecs().describe_instance("i-1")
    for text in (str(info.value), repr(info.value), info.value.message):
        assert token not in text and secret not in text
    echoed = _server("SignatureDoesNotMatch", 400, f"string to sign is:GET&%2F&SecurityToken%3D{token}%26x")
    err = retry.translate(echoed, "Ecs.DescribeInstances")
    assert err is not None
    for text in (str(err), repr(err), err.message):
        assert token not in text and "\n" not in text
    leaked = _server("Oops", 400, f"SecurityToken={token}&AccessKeySecret={secret}")
    err = retry.translate(leaked, "Ecs.DescribeInstances")
    assert err is not None and token not in str(err) and secret not in repr(err)
