"""The outbox against a real local HTTP receiver: delivery, per-sender progress, backoff, dead items, leases, and
exactly-once sends from concurrent consumers (counted at the receiver)."""

from __future__ import annotations

import io
import logging
import threading
from collections import Counter
from datetime import timedelta

from notify_support import HOOK, ROBOT, SECRET, TOKEN, Clock, LogCapture, Receiver, make_notice

from ecs_events.logs import configure
from ecs_events.notify import (
    DingTalkSender,
    Notice,
    Outbox,
    OutboxReport,
    Sender,
    WebhookSender,
    dead,
    outbox_writes,
    pending,
    requeue,
    senders_from_urls,
)
from ecs_events.store.base import Store, Write


def senders(receiver: Receiver, timeout: float = 5.0) -> list[Sender]:
    return senders_from_urls([receiver.robot_url(), receiver.url(HOOK)], timeout=timeout)


def enqueue(store: Store, *notices: Notice) -> None:
    assert store.commit(outbox_writes(notices))


def outbox(store: Store, receiver: Receiver, clock: Clock, **kwargs: object) -> Outbox:
    return Outbox(store, senders(receiver), clock, **kwargs)  # type: ignore[arg-type]


def robot_titles(receiver: Receiver) -> Counter[str]:
    return Counter(r.json["markdown"]["title"] for r in receiver.at(ROBOT))


# -- writes -------------------------------------------------------------------------------------------------------
def test_outbox_writes_are_must_be_absent_items_due_at_the_notice_time() -> None:
    notice = make_notice(1)
    (write,) = outbox_writes([notice, notice])  # the same id twice is written once
    assert write == Write(
        "outbox/n-0001",
        {
            "notice": notice.to_doc(),
            "attempts": 0,
            "next_at": "2025-03-01T07:59:00+00:00",
            "status": "pending",
            "done": [],
            "lease_until": None,
            "last_error": None,
        },
        0,
    )


def test_writing_the_same_notice_again_fails_the_whole_commit(store: Store) -> None:
    enqueue(store, make_notice(1))
    assert not store.commit([Write("saga/i-1/e-1", {"step": "x"}, 0), *outbox_writes([make_notice(1)])])
    assert store.get("saga/i-1/e-1") is None


# -- delivery -----------------------------------------------------------------------------------------------------
def test_deliver_sends_to_every_sender_then_removes_the_item(
    store: Store, receiver: Receiver, clock: Clock, captured: LogCapture
) -> None:
    enqueue(store, make_notice(1), make_notice(2))
    report = outbox(store, receiver, clock).deliver()
    assert report == OutboxReport(sent=2, retried=0, dead=0)
    assert robot_titles(receiver) == {make_notice(1).title: 1, make_notice(2).title: 1}
    assert all(r.sign_ok for r in receiver.at(ROBOT))
    assert sorted(r.json["id"] for r in receiver.at(HOOK)) == ["n-0001", "n-0002"]
    assert [r.getMessage()[:9] for r in captured.records if r.name == "ecs_events.notice"] == ["started: "] * 2
    assert store.scan("outbox/") == []
    assert outbox(store, receiver, clock).deliver() == OutboxReport()


def test_an_item_not_yet_due_is_left_alone(store: Store, receiver: Receiver, clock: Clock) -> None:
    enqueue(store, make_notice(1, at=clock() + timedelta(minutes=5)))
    assert outbox(store, receiver, clock).deliver() == OutboxReport()
    assert receiver.requests == []
    clock.advance(300)
    assert outbox(store, receiver, clock).deliver().sent == 1


def test_limit_caps_the_items_handled_in_one_run(store: Store, receiver: Receiver, clock: Clock) -> None:
    enqueue(store, *(make_notice(n) for n in range(1, 6)))
    assert outbox(store, receiver, clock).deliver(limit=2).sent == 2
    assert len(pending(store)) == 3


def test_a_failing_dingtalk_is_retried_with_backoff_without_resending_to_the_webhook(
    store: Store, receiver: Receiver, clock: Clock, captured: LogCapture
) -> None:
    receiver.errcode(ROBOT, 2, 310000, "keywords not in content")
    enqueue(store, make_notice(1))
    box = outbox(store, receiver, clock)

    assert box.deliver() == OutboxReport(retried=1)
    (item,) = pending(store)
    assert item.attempts == 1
    assert item.next_at == clock() + timedelta(seconds=30)
    assert item.lease_until is None
    assert set(item.done) == {box.senders[1].name, "log"}
    assert item.last_error == f"{box.senders[0].name}: errcode 310000: keywords not in content"
    (warning,) = [r for r in captured.at(logging.WARNING) if r.name == "ecs_events.outbox"]
    assert "attempt 1 of 10 failed" in warning.getMessage()
    assert warning.__dict__["code"] == "outbox.retry"

    clock.advance(29)  # not due yet: nothing is sent
    assert box.deliver() == OutboxReport()
    assert len(receiver.at(ROBOT)) == 1

    clock.advance(1)
    assert box.deliver() == OutboxReport(retried=1)
    assert pending(store)[0].next_at == clock() + timedelta(seconds=60)  # 30 s * 2

    clock.advance(60)
    assert box.deliver() == OutboxReport(sent=1)
    assert len(receiver.at(ROBOT)) == 3
    assert [r.sign_ok for r in receiver.at(ROBOT)] == [True, True, True]
    assert len(receiver.at(HOOK)) == 1  # the healthy webhook got it exactly once
    assert len([r for r in captured.records if r.name == "ecs_events.notice"]) == 1
    assert store.scan("outbox/") == []


def test_a_failing_webhook_does_not_resend_to_dingtalk(store: Store, receiver: Receiver, clock: Clock) -> None:
    receiver.fail(HOOK, 1, 503)
    enqueue(store, make_notice(1))
    box = outbox(store, receiver, clock)
    assert box.deliver() == OutboxReport(retried=1)
    assert pending(store)[0].last_error == f"{box.senders[1].name}: HTTP 503"
    clock.advance(30)
    assert box.deliver() == OutboxReport(sent=1)
    assert len(receiver.at(ROBOT)) == 1
    assert len(receiver.at(HOOK)) == 2


def test_backoff_doubles_and_stops_at_one_hour(store: Store, receiver: Receiver, clock: Clock) -> None:
    box = outbox(store, receiver, clock)
    assert [box.backoff(n) for n in (1, 2, 3, 7, 8, 20)] == [30, 60, 120, 1920, 3600, 3600]


def test_after_max_attempts_the_item_is_dead_kept_and_logged(
    store: Store, receiver: Receiver, clock: Clock, captured: LogCapture
) -> None:
    receiver.fail(HOOK, 100, 500)
    enqueue(store, make_notice(1))
    box = outbox(store, receiver, clock, max_attempts=3)
    reports = []
    for _ in range(3):
        reports.append(box.deliver())
        clock.advance(3600)
    assert reports == [OutboxReport(retried=1), OutboxReport(retried=1), OutboxReport(dead=1)]
    assert pending(store) == []
    (item,) = dead(store)
    assert item.status == "dead"
    assert item.attempts == 3
    assert item.notice == make_notice(1)
    assert item.last_error == f"{box.senders[1].name}: HTTP 500"
    (error,) = captured.at(logging.ERROR)
    assert error.getMessage() == f"outbox: outbox/n-0001: dead after 3 attempt(s): {box.senders[1].name}: HTTP 500"
    assert error.__dict__["code"] == "outbox.dead"
    assert error.__dict__["instance_id"] == "i-bp1abc0001"

    clock.advance(86400)
    assert box.deliver() == OutboxReport()  # dead items are never sent again by themselves
    assert len(receiver.at(HOOK)) == 3
    assert len(receiver.at(ROBOT)) == 1

    receiver.script.clear()  # the webhook is fixed; an operator requeues the item
    assert requeue(store, "n-0001", clock())
    assert not requeue(store, "n-0001", clock())  # pending now, not dead
    assert not requeue(store, "n-9999", clock())
    assert box.deliver() == OutboxReport(sent=1)
    assert len(receiver.at(ROBOT)) == 1


def test_a_timed_out_sender_is_not_retried_for_other_items_in_the_same_run(
    store: Store, receiver: Receiver, clock: Clock
) -> None:
    receiver.hang(HOOK, 1)
    enqueue(store, make_notice(1), make_notice(2), make_notice(3))
    box = Outbox(store, senders(receiver, timeout=0.3), clock)
    assert box.deliver() == OutboxReport(retried=3)
    assert len(receiver.at(HOOK)) == 1  # one timeout per run, not one per notice
    assert len(receiver.at(ROBOT)) == 3  # the others still went out
    attempts = {item.key: item.attempts for item in pending(store)}
    assert attempts == {"outbox/n-0001": 1, "outbox/n-0002": 0, "outbox/n-0003": 0}
    clock.advance(30)
    assert box.deliver() == OutboxReport(sent=3)
    assert len(receiver.at(ROBOT)) == 3
    assert sorted(r.json["id"] for r in receiver.at(HOOK)[1:]) == ["n-0001", "n-0002", "n-0003"]


def test_a_sender_that_raises_a_bug_does_not_stop_the_others(store: Store, receiver: Receiver, clock: Clock) -> None:
    class Broken:
        name = "broken"

        def send(self, notice: Notice) -> None:
            raise KeyError("bug")

    enqueue(store, make_notice(1))
    box = Outbox(store, [Broken(), *senders(receiver)], clock, max_attempts=1)
    assert box.deliver() == OutboxReport(dead=1)
    assert len(receiver.at(ROBOT)) == 1
    assert len(receiver.at(HOOK)) == 1
    assert dead(store)[0].last_error == "broken: KeyError: 'bug'"


def test_our_rate_limit_defers_without_counting_an_attempt(store: Store, receiver: Receiver, clock: Clock) -> None:
    robot = DingTalkSender(
        f"{receiver.url(ROBOT)}?access_token={TOKEN}", SECRET, per_minute=2, rate_clock=clock.seconds
    )
    box = Outbox(store, [robot, WebhookSender(receiver.url(HOOK))], clock)
    enqueue(store, *(make_notice(n) for n in range(1, 4)))
    assert box.deliver() == OutboxReport(sent=2, retried=1)
    (item,) = pending(store)
    assert item.attempts == 0
    assert item.next_at == clock() + timedelta(seconds=60)
    assert item.last_error is None
    clock.advance(60)
    assert box.deliver() == OutboxReport(sent=1)
    assert len(receiver.at(ROBOT)) == 3
    assert len(receiver.at(HOOK)) == 3


# -- leases and concurrency ---------------------------------------------------------------------------------------
def test_a_leased_item_waits_for_its_lease_to_expire(store: Store, receiver: Receiver, clock: Clock) -> None:
    enqueue(store, make_notice(1))
    doc = store.get("outbox/n-0001")
    assert doc is not None
    lease = (clock() + timedelta(seconds=60)).isoformat()  # a consumer claimed it, then died
    assert store.commit([Write(doc.key, {**doc.value, "lease_until": lease}, doc.version)])
    box = outbox(store, receiver, clock)
    assert box.deliver() == OutboxReport()
    assert receiver.requests == []
    clock.advance(60)
    assert box.deliver() == OutboxReport(sent=1)


def test_concurrent_consumers_send_each_notice_exactly_once(store: Store, receiver: Receiver, clock: Clock) -> None:
    notices = [make_notice(n) for n in range(1, 16)]
    enqueue(store, *notices)
    boxes = [outbox(store, receiver, clock) for _ in range(4)]  # each its own senders, as in 4 FC instances
    start = threading.Barrier(4)
    reports: list[OutboxReport] = []
    lock = threading.Lock()

    def consume(box: Outbox) -> None:
        start.wait()
        report = box.deliver()
        with lock:
            reports.append(report)

    threads = [threading.Thread(target=consume, args=(box,)) for box in boxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(reports) == 4
    assert sum(r.sent for r in reports) == 15
    assert robot_titles(receiver) == {n.title: 1 for n in notices}
    assert Counter(r.json["id"] for r in receiver.at(HOOK)) == {n.id: 1 for n in notices}
    assert store.scan("outbox/") == []


def test_an_unreadable_item_is_dead_not_lost(store: Store, receiver: Receiver, clock: Clock) -> None:
    assert store.put_new("outbox/n-bad", {"notice": {"id": "n-bad"}, "attempts": 0, "status": "pending"})
    assert outbox(store, receiver, clock).deliver() == OutboxReport(dead=1)
    (item,) = dead(store)
    assert item.notice is None
    assert str(item.last_error).startswith("unreadable item: notice: field phase: Field required")
    assert receiver.requests == []


def test_pending_lists_items_oldest_first(store: Store, clock: Clock) -> None:
    enqueue(store, make_notice(2, at=clock() + timedelta(hours=1)), make_notice(1, at=clock() + timedelta(hours=2)))
    assert [item.key for item in pending(store)] == ["outbox/n-0002", "outbox/n-0001"]
    assert dead(store) == []


def test_no_secret_reaches_the_log_output_of_a_failing_run(
    store: Store, receiver: Receiver, clock: Clock, captured: LogCapture
) -> None:
    """Everything written as JSON lines while DingTalk echoes its token and secret, times out, and goes dead."""
    stream = io.StringIO()
    configure("DEBUG", stream)
    receiver.errcode(ROBOT, 1, 310000, f"sign not match: access_token={TOKEN}&secret={SECRET}")
    receiver.hang(ROBOT, 1)
    receiver.fail(HOOK, 5, 500)
    enqueue(store, make_notice(1), make_notice(2, level="critical"))
    box = Outbox(store, senders_from_urls([receiver.robot_url(), receiver.url(HOOK)], timeout=0.3), clock,
                 max_attempts=2)  # fmt: skip
    reports = []
    while len(dead(store)) < 2 and len(reports) < 10:
        reports.append(box.deliver())
        clock.advance(3600)
    assert sum(r.dead for r in reports) == 2
    assert sum(r.retried for r in reports) >= 2
    output = stream.getvalue()
    assert "errcode 310000: sign not match: access_token=***&secret=***" in output
    assert "timed out" in output
    assert '"level": "ERROR"' in output
    for secret in (SECRET, TOKEN):
        assert secret not in output
    for item in dead(store):
        assert SECRET not in str(item.last_error)
        assert TOKEN not in str(item.last_error)
    assert all(SECRET not in line and TOKEN not in line for line in captured.lines())
