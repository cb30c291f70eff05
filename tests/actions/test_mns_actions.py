"""The MNS Queue action against localcloud through the real aliyun-mns-sdk."""

from __future__ import annotations

import base64

import pytest

from ecs_events import retry
from ecs_events.actions.errors import NotFoundError, TransientError
from ecs_events.actions.mns import Queue
from ecs_events.runtime.clients import Clients
from localcloud.cloud import LocalCloud


@pytest.fixture
def queue(clients: Clients) -> Queue:
    q = clients.queue("ecs-events")
    q.ensure()
    return q


def _decoded(body: str) -> str:
    return base64.b64decode(body).decode()


def test_ensure_creates_once_and_is_idempotent(localcloud: LocalCloud, clients: Clients) -> None:
    q = clients.queue("timers")
    q.ensure()
    q.ensure()
    assert [c.status for c in localcloud.call_log.calls("CreateQueue")] == [201]
    assert [c.code for c in localcloud.call_log.calls("GetQueueAttributes")] == ["QueueNotExist", "OK"]
    assert q.peek_counts() == (0, 0, 0)


def test_send_base64_and_receive_the_wire_text(queue: Queue) -> None:
    message_id = queue.send('{"ecs-events":"wake","saga":"saga/i-1/s1"}')
    [got] = queue.receive(wait_seconds=0)
    assert got.message_id == message_id
    assert _decoded(got.body) == '{"ecs-events":"wake","saga":"saga/i-1/s1"}'
    assert (got.dequeue_count, got.first_dequeue_time is not None) == (1, True)
    assert got.enqueue_time.tzinfo is not None


def test_a_delayed_message_is_invisible_until_the_delay_passes(localcloud: LocalCloud, queue: Queue) -> None:
    queue.send("later", delay_seconds=600)
    assert queue.receive(wait_seconds=0) == []
    assert queue.peek_counts() == (0, 0, 1)
    localcloud.advance(599)
    assert queue.receive(wait_seconds=0) == []
    localcloud.advance(1)
    [got] = queue.receive(wait_seconds=0)
    assert _decoded(got.body) == "later"


def test_receive_takes_at_most_16_and_delete_takes_them_all(localcloud: LocalCloud, queue: Queue) -> None:
    for n in range(20):
        queue.send(f"m{n}")
    first = queue.receive(batch=16, wait_seconds=0)
    second = queue.receive(batch=16, wait_seconds=0)
    assert (len(first), len(second)) == (16, 4)
    assert queue.peek_counts() == (0, 20, 0)
    failed = queue.delete([m.receipt_handle for m in first + second])
    assert failed == []
    assert [c.action for c in localcloud.call_log.calls("BatchDeleteMessage")] == ["BatchDeleteMessage"] * 2
    assert queue.peek_counts() == (0, 0, 0)


def test_delete_returns_the_handles_that_failed(localcloud: LocalCloud, queue: Queue) -> None:
    queue.send("a")
    queue.send("b")
    got = queue.receive(wait_seconds=0)
    stale = got[0].receipt_handle
    queue.delete([stale])
    failed = queue.delete([stale, got[1].receipt_handle])
    assert failed == [stale]
    assert queue.peek_counts() == (0, 0, 0)
    assert queue.delete([]) == []


def test_change_visibility_returns_a_new_handle_and_the_message_comes_back(
    localcloud: LocalCloud, queue: Queue
) -> None:
    queue.send("retry me")
    [got] = queue.receive(wait_seconds=0)
    handle = queue.change_visibility(got.receipt_handle, 120)
    assert handle and handle != got.receipt_handle
    localcloud.advance(119)
    assert queue.receive(wait_seconds=0) == []
    localcloud.advance(1)
    [again] = queue.receive(wait_seconds=0)
    assert again.message_id == got.message_id
    assert again.dequeue_count == 2
    assert again.first_dequeue_time == got.first_dequeue_time


def test_dequeue_count_grows_with_each_visibility_timeout(localcloud: LocalCloud, queue: Queue) -> None:
    queue.send("poison")
    counts = []
    for _ in range(3):
        [got] = queue.receive(wait_seconds=0)
        counts.append(got.dequeue_count)
        localcloud.advance(31)  # the default visibility timeout is 30 s
    assert counts == [1, 2, 3]


def test_receive_from_an_empty_queue_is_an_empty_list(localcloud: LocalCloud, queue: Queue) -> None:
    assert queue.receive(wait_seconds=0) == []
    assert localcloud.call_log.calls("BatchReceiveMessage")[-1].code == "MessageNotExist"


def test_a_missing_queue_is_not_found(clients: Clients) -> None:
    with pytest.raises(NotFoundError) as info:
        clients.queue("nope").send("x")
    assert (info.value.product, info.value.action, info.value.code) == ("Mns", "SendMessage", "QueueNotExist")
    with pytest.raises(NotFoundError):
        clients.queue("nope").receive(wait_seconds=0)


def test_send_and_receive_survive_errors_and_dropped_connections(localcloud: LocalCloud, queue: Queue) -> None:
    """(The MNS SDK itself re-sends once on a dropped connection; 5xx answers are ours to retry.)"""
    localcloud.faults.set("Mns", "*", error_rate=0.5, reset_rate=0.3)
    sent = {queue.send(f"m{n}") for n in range(5)}
    got: dict[str, str] = {}
    for _ in range(20):
        for m in queue.receive(wait_seconds=0):
            got[m.message_id] = m.receipt_handle
        if len(got) == 5:
            break
    assert set(got) == sent
    assert retry.stats["Mns.SendMessage"] > 0
    assert "ConnectionReset" in {c.code for c in localcloud.call_log.calls(product="Mns")}


def test_mns_retries_exhausted_is_a_transient_error(localcloud: LocalCloud, queue: Queue) -> None:
    localcloud.faults.set("Mns", "SendMessage", error_rate=1.0)
    with pytest.raises(TransientError) as info:
        queue.send("x")
    assert info.value.code in ("InternalError", "ServiceUnavailable")
    assert len(localcloud.call_log.calls("SendMessage")) == retry.ATTEMPTS
