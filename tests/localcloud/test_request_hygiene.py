"""Requests the real cloud refuses and connections that misbehave (issue 6): non-ASCII signatures, bad
Content-Length, short bodies, early disconnects, idle connections, oversized MNS batches, replayed nonces and
stale timestamps. Wire-level defects are sent over raw sockets or http.client; the rest through the real SDKs."""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import socket
import struct
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, formatdate
from urllib.parse import urlencode

import pytest
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from mns.queue import Message

from localcloud.cloud import LocalCloud
from localcloud.mns import auth
from localcloud.rpc import NonceCache, sign
from localcloud.serve import add_arguments
from localcloud.testing import last_call, make_queue, mns_error, sdk_call

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def rpc_params(cloud: LocalCloud, **overrides: str) -> dict[str, str]:
    params = {
        "Action": "DescribeInstances",
        "Version": "2014-05-26",
        "Format": "JSON",
        "RegionId": cloud.region_id,
        "AccessKeyId": cloud.access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": str(uuid.uuid4()),
        "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **overrides,
    }
    params["Signature"] = sign("GET", params, cloud.access_key_secret)
    return params


def get(cloud: LocalCloud, target: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(cloud.endpoint, timeout=10)
    try:
        conn.request("GET", target, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def rpc_get(cloud: LocalCloud, params: dict[str, str]) -> tuple[int, dict[str, str]]:
    status, payload = get(cloud, "/?" + urlencode(params))
    return status, json.loads(payload)


def exchange(cloud: LocalCloud, raw: bytes, half_close: bool = False) -> bytes:
    """Send raw bytes, optionally half-close, and read until the server closes (or 10 s pass)."""
    host, port = cloud.endpoint.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def still_serves(cloud: LocalCloud) -> None:
    assert rpc_get(cloud, rpc_params(cloud))[0] == 200


@pytest.fixture
def short_idle() -> Iterator[LocalCloud]:
    with LocalCloud(seed=0, idle_timeout=0.3) as cloud:
        yield cloud


# -- a. non-ASCII signatures ------------------------------------------------------------------------------------------


def test_non_ascii_rpc_signature_is_signature_does_not_match(localcloud: LocalCloud) -> None:
    params = rpc_params(localcloud)
    params["Signature"] = "sïgnature€"
    status, body = rpc_get(localcloud, params)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert ":" in body["Message"]  # the SDK splits the message on ':' to compare strings to sign


def test_non_ascii_mns_signature_is_signature_does_not_match_403(localcloud: LocalCloud) -> None:
    headers = {"x-mns-version": "2015-06-06", "date": formatdate(usegmt=True), "host": localcloud.endpoint}
    headers["Authorization"] = f"MNS {localcloud.access_key_id}:sïgnature"
    status, payload = get(localcloud, "/queues/q1", headers)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in payload
    raw = (
        (
            f"GET /queues/q1 HTTP/1.1\r\nHost: {localcloud.endpoint}\r\nDate: {headers['date']}\r\n"
            f"x-mns-version: 2015-06-06\r\nConnection: close\r\n"
        ).encode()
        + f"Authorization: MNS {localcloud.access_key_id}:".encode()
        + "sïg€".encode()
        + b"\r\n\r\n"
    )
    answer = exchange(localcloud, raw)
    assert status_of(answer) == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer


# -- b. Content-Length -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", ["abc", "1e3", "-5", "10^12", str(10**12), "", " 12 x", "٣"])
def test_bad_content_length_is_answered_and_the_server_keeps_serving(localcloud: LocalCloud, length: str) -> None:
    raw = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\nAction=DescribeInstances".encode()
    answer = exchange(localcloud, raw, half_close=True)
    assert status_of(answer) in (400, 411, 413), answer[:200]
    assert localcloud.call_log.calls() == []
    still_serves(localcloud)


def test_body_over_the_cap_is_413_without_reading_it(localcloud: LocalCloud) -> None:
    raw = b"POST /queues/q1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" + b"x" * 1000
    assert status_of(exchange(localcloud, raw)) == 413
    still_serves(localcloud)


def test_chunked_body_is_length_required(localcloud: LocalCloud) -> None:
    raw = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    assert status_of(exchange(localcloud, raw)) == 411
    still_serves(localcloud)


# -- c. short bodies ---------------------------------------------------------------------------------------------------


def test_body_shorter_than_its_content_length_is_not_executed(localcloud: LocalCloud) -> None:
    params = rpc_params(localcloud)
    params["Signature"] = sign("POST", {k: v for k, v in params.items() if k != "Signature"}, "localcloud-secret")
    body = urlencode(params).encode()
    head = (
        f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body) + 20}\r\n\r\n"
    ).encode()
    answer = exchange(localcloud, head + body, half_close=True)
    assert status_of(answer) in (0, 400), answer[:200]
    assert localcloud.call_log.calls("DescribeInstances") == []
    still_serves(localcloud)


# -- d. early disconnects ----------------------------------------------------------------------------------------------


def test_a_client_that_resets_mid_body_leaves_no_traceback(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="localcloud")
    with LocalCloud() as cloud:  # its own server: wait_idle waits for every connection, incl. other tests' pools
        host, port = cloud.endpoint.rsplit(":", 1)
        for _ in range(3):
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nAction=")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
            sock.close()
        assert cloud.server.wait_idle(10)
        assert "Traceback" not in capsys.readouterr().err
        assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
        still_serves(cloud)


# -- e. idle connections -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent", [b"", b"GET / HTTP/1.1\r\nHost: x\r\n", b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab"]
)
def test_idle_and_slow_connections_are_closed(short_idle: LocalCloud, sent: bytes) -> None:
    host, port = short_idle.endpoint.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(sent)
        try:
            leftover = sock.recv(65536)
        except ConnectionResetError:
            leftover = b""
        assert b"200 OK" not in leftover
        if leftover:  # a 408/400 answer is fine; then the server closes
            assert sock.recv(65536) == b""
    still_serves(short_idle)


def test_idle_timeout_is_configurable_and_defaults_to_30_seconds(short_idle: LocalCloud) -> None:
    assert short_idle.server.idle_timeout == 0.3
    assert LocalCloud().idle_timeout == 30
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert (parser.parse_args([]).idle_timeout, parser.parse_args([]).strict_requests) == (30, True)
    relaxed = parser.parse_args(["--idle-timeout", "5", "--no-strict-requests"])
    assert (relaxed.idle_timeout, relaxed.strict_requests) == (5, False)


# -- f. MNS batch size -------------------------------------------------------------------------------------------------


def test_batch_send_over_64_kb_in_total_is_refused(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, encoding=False)
    err = mns_error(queue.batch_send_message, [Message("x" * 5000) for _ in range(14)])
    assert err.type == "InvalidArgument"
    assert last_call(localcloud, "BatchSendMessage").status == 400
    assert localcloud.mns.queue_messages(localcloud.account_id, "q1") == []
    assert len(queue.batch_send_message([Message("x" * 4000) for _ in range(16)])) == 16  # 64 000 bytes: fine


# -- g. replays and clocks ---------------------------------------------------------------------------------------------


def test_reused_signature_nonce_is_signature_nonce_used(localcloud: LocalCloud) -> None:
    params = rpc_params(localcloud)
    assert rpc_get(localcloud, params)[0] == 200
    status, body = rpc_get(localcloud, params)
    assert (status, body["Code"], body["Message"]) == (
        400,
        "SignatureNonceUsed",
        "Specified signature nonce was used already.",
    )


@pytest.mark.parametrize("minutes", [-16, 16])
def test_timestamp_more_than_15_minutes_off_is_expired(localcloud: LocalCloud, minutes: int) -> None:
    when = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    status, body = rpc_get(localcloud, rpc_params(localcloud, Timestamp=when.strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert (status, body["Code"], body["Message"]) == (
        400,
        "InvalidTimeStamp.Expired",
        "Specified time stamp or date value is expired.",
    )


def test_garbage_timestamp_is_invalid_format(localcloud: LocalCloud) -> None:
    status, body = rpc_get(localcloud, rpc_params(localcloud, Timestamp="yesterday"))
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Format")


def test_the_sdk_is_fine_whatever_the_manual_clock_says(localcloud: LocalCloud) -> None:
    localcloud.advance(7 * 86400)
    assert sdk_call(localcloud, DescribeInstancesRequest())["TotalCount"] == 0
    queue = make_queue(localcloud)
    queue.send_message(Message("still fresh"))


@pytest.mark.parametrize("minutes", [-16, 16])
def test_mns_date_more_than_15_minutes_off_is_time_expired(localcloud: LocalCloud, minutes: int) -> None:
    date = format_datetime(datetime.now(timezone.utc) + timedelta(minutes=minutes), usegmt=True)
    headers = {"x-mns-version": "2015-06-06", "date": date, "host": localcloud.endpoint}
    headers["Authorization"] = auth.authorization(
        localcloud.access_key_id, localcloud.access_key_secret, "GET", headers, "/queues/q1"
    )
    status, payload = get(localcloud, "/queues/q1", headers)
    assert status == 403
    assert b"<Code>TimeExpired</Code>" in payload and b"The http request you sent is expired." in payload


def test_relaxed_cloud_accepts_replays_and_stale_times() -> None:
    with LocalCloud(strict_requests=False) as cloud:
        stale = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = rpc_params(cloud, Timestamp=stale)
        assert rpc_get(cloud, params)[0] == 200
        assert rpc_get(cloud, params)[0] == 200


def test_nonce_memory_is_bounded_and_forgets_after_15_minutes() -> None:
    now = [1000.0]
    cache = NonceCache(capacity=3, window=900, wall=lambda: now[0])
    assert cache.add("k", "a") and not cache.add("k", "a") and cache.add("other-key", "a")
    for nonce in "bcd":
        assert cache.add("k", nonce)
    assert len(cache) == 3
    now[0] += 901
    assert cache.add("k", "d")  # forgotten after the window
    assert len(cache) == 1
