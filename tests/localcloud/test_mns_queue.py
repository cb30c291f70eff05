"""MNS queues through the real aliyun-mns-sdk against localcloud: messages, visibility, batches, long poll."""

from __future__ import annotations

import base64
import hashlib
import threading

import pytest
from mns.queue import Message, QueueMeta

from localcloud.cloud import LocalCloud
from localcloud.testing import last_call, make_queue
from localcloud.testing import mns_error as server_error

# The SDK marks the queue counters (ActiveMessages, ...) deprecated but still reads them.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# -- queue lifecycle ----------------------------------------------------------------------------------------------


def test_create_queue_returns_url_and_get_attributes_shows_defaults(localcloud: LocalCloud) -> None:
    queue = localcloud.mns_account().get_queue("orders")
    url = queue.create(QueueMeta())
    assert url == "http://1234567890123456.mns.cn-hangzhou.aliyuncs.com/queues/orders"
    assert last_call(localcloud, "CreateQueue").status == 201
    meta = queue.get_attributes()
    assert (meta.queue_name, meta.visibility_timeout, meta.maximum_message_size) == ("orders", 30, 65536)
    assert (meta.message_retention_period, meta.delay_seconds, meta.polling_wait_seconds) == (345600, 0, 0)
    assert meta.logging_enabled is False
    assert meta.create_time == int(localcloud.clock.now().timestamp())


def test_create_queue_again_with_same_attributes_is_204_and_different_is_queue_already_exist(
    localcloud: LocalCloud,
) -> None:
    queue = make_queue(localcloud, vis_timeout=60)
    queue.create(QueueMeta(vis_timeout=60))
    assert last_call(localcloud, "CreateQueue").status == 204
    err = server_error(queue.create, QueueMeta(vis_timeout=10))
    assert err.type == "QueueAlreadyExist"
    assert last_call(localcloud, "CreateQueue").status == 409


def test_set_queue_attributes_changes_only_given_fields(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, vis_timeout=60)
    queue.set_attributes(QueueMeta(polling_wait_sec=5, logging_enabled=True))
    meta = queue.get_attributes()
    assert (meta.visibility_timeout, meta.polling_wait_seconds, meta.logging_enabled) == (60, 5, True)


def test_out_of_range_attribute_is_invalid_argument(localcloud: LocalCloud) -> None:
    queue = localcloud.mns_account().get_queue("q1")
    err = server_error(queue.create, QueueMeta(vis_timeout=50000))
    assert err.type == "InvalidArgument"
    assert "VisibilityTimeout" in err.message
    assert last_call(localcloud, "CreateQueue").status == 400


def test_invalid_queue_name_is_invalid_argument(localcloud: LocalCloud) -> None:
    err = server_error(localcloud.mns_account().get_queue("1bad").create, QueueMeta())
    assert err.type == "InvalidArgument"


def test_missing_queue_is_queue_not_exist_404(localcloud: LocalCloud) -> None:
    queue = localcloud.mns_account().get_queue("nope")
    for call in (queue.get_attributes, lambda: queue.send_message(Message("x")), lambda: queue.receive_message(0)):
        assert server_error(call).type == "QueueNotExist"
    assert last_call(localcloud, "ReceiveMessage").status == 404


def test_delete_queue_drops_it_and_is_idempotent(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    queue.delete()
    queue.delete()
    assert last_call(localcloud, "DeleteQueue").status == 204
    assert server_error(queue.get_attributes).type == "QueueNotExist"


def test_list_queue_with_prefix_and_paging(localcloud: LocalCloud) -> None:
    account = localcloud.mns_account()
    for name in ("a1", "a2", "a3", "b1"):
        account.get_queue(name).create(QueueMeta())
    urls, marker = account.list_queue(prefix="a", ret_number=2)
    assert [u.rsplit("/", 1)[1] for u in urls] == ["a1", "a2"]
    assert marker == "a3"
    urls, marker = account.list_queue(prefix="a", ret_number=2, marker=marker)
    assert [u.rsplit("/", 1)[1] for u in urls] == ["a3"]
    assert marker == ""


# -- send, receive, delete ----------------------------------------------------------------------------------------


def test_send_receive_delete_with_base64_encoding(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    sent = queue.send_message(Message("héllo"))
    wire_body = base64.b64encode("héllo".encode()).decode()
    assert sent.message_body_md5 == hashlib.md5(wire_body.encode()).hexdigest().upper()
    got = queue.receive_message(0)
    assert got.message_body == "héllo".encode()
    assert got.message_id == sent.message_id
    assert got.message_body_md5 == sent.message_body_md5
    assert got.dequeue_count == 1
    now_ms = int(localcloud.clock.now().timestamp() * 1000)
    assert got.enqueue_time == got.first_dequeue_time == now_ms
    assert got.next_visible_time == now_ms + 30_000
    assert got.priority == 8
    queue.delete_message(got.receipt_handle)
    assert last_call(localcloud, "DeleteMessage").status == 204
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"


def test_without_encoding_the_body_is_the_raw_text(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, encoding=False)
    sent = queue.send_message(Message("<plain & text>"))
    assert sent.message_body_md5 == hashlib.md5(b"<plain & text>").hexdigest().upper()
    assert queue.receive_message(0).message_body == "<plain & text>"


def test_empty_queue_receive_is_message_not_exist_404(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    err = server_error(queue.receive_message, 0)
    assert (err.type, err.message) == ("MessageNotExist", "Message not exist.")
    assert last_call(localcloud, "ReceiveMessage").status == 404


def test_peek_does_not_change_the_message(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    queue.send_message(Message("p"))
    peeked = queue.peek_message()
    assert (peeked.message_body, peeked.dequeue_count) == (b"p", 0)
    assert queue.receive_message(0).dequeue_count == 1
    assert server_error(queue.peek_message).type == "MessageNotExist"


def test_message_body_longer_than_maximum_is_invalid_argument(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, encoding=False, max_msg_size=1024)
    err = server_error(queue.send_message, Message("x" * 1025))
    assert err.type == "InvalidArgument"


def test_priority_out_of_range_is_invalid_argument(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    assert server_error(queue.send_message, Message("x", priority=17)).type == "InvalidArgument"


# -- visibility ---------------------------------------------------------------------------------------------------


def test_unacked_message_comes_back_after_the_visibility_timeout_with_growing_dequeue_count(
    localcloud: LocalCloud,
) -> None:
    queue = make_queue(localcloud, vis_timeout=30)
    queue.send_message(Message("again"))
    first = queue.receive_message(0)
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"
    localcloud.clock.advance(29)
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"
    localcloud.clock.advance(1)
    second = queue.receive_message(0)
    assert second.message_id == first.message_id
    assert second.dequeue_count == 2
    assert second.first_dequeue_time == first.first_dequeue_time
    assert second.receipt_handle != first.receipt_handle


def test_handle_of_a_message_whose_visibility_ended_is_message_not_exist(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, vis_timeout=10)
    queue.send_message(Message("late ack"))
    got = queue.receive_message(0)
    localcloud.clock.advance(11)
    assert server_error(queue.delete_message, got.receipt_handle).type == "MessageNotExist"
    assert last_call(localcloud, "DeleteMessage").status == 404


def test_change_visibility_returns_a_new_handle_and_the_old_one_is_rejected(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, vis_timeout=30)
    queue.send_message(Message("slow"))
    got = queue.receive_message(0)
    changed = queue.change_message_visibility(got.receipt_handle, 120)
    assert changed.receipt_handle != got.receipt_handle
    assert int(changed.next_visible_time) == int(localcloud.clock.now().timestamp() * 1000) + 120_000
    err = server_error(queue.delete_message, got.receipt_handle)
    assert err.type == "ReceiptHandleError"
    assert last_call(localcloud, "DeleteMessage").status == 400
    localcloud.clock.advance(60)  # past the old 30 s, within the new 120 s: still invisible
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"
    queue.delete_message(changed.receipt_handle)


def test_change_visibility_to_zero_makes_the_message_visible_now(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    queue.send_message(Message("now"))
    got = queue.receive_message(0)
    queue.change_message_visibility(got.receipt_handle, 0)
    assert queue.receive_message(0).dequeue_count == 2


def test_garbage_receipt_handle_is_receipt_handle_error(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    for handle in ("garbage", "1-Zm9vYmFy", "1-MS0xLTEtMQ+/"):
        err = server_error(queue.delete_message, handle)
        assert (err.type, err.message) == ("ReceiptHandleError", "The receipt handle you provide is not valid.")
    assert server_error(queue.change_message_visibility, "garbage", 10).type == "ReceiptHandleError"


def test_handle_of_a_deleted_message_is_message_not_exist(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    queue.send_message(Message("once"))
    got = queue.receive_message(0)
    queue.delete_message(got.receipt_handle)
    assert server_error(queue.delete_message, got.receipt_handle).type == "MessageNotExist"
    assert server_error(queue.change_message_visibility, got.receipt_handle, 5).type == "MessageNotExist"


# -- delay, priority, retention -----------------------------------------------------------------------------------


def test_delayed_message_becomes_visible_when_the_clock_reaches_it(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    queue.send_message(Message("later", delay_seconds=60))
    assert queue.get_attributes().delay_messages == 1
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"
    localcloud.clock.advance(60)
    assert queue.receive_message(0).message_body == b"later"


def test_queue_default_delay_applies_when_the_message_has_none(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, delay_sec=30)
    queue.send_message(Message("d"))
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"
    localcloud.clock.advance(30)
    assert queue.receive_message(0).message_body == b"d"


def test_higher_priority_is_received_first(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    for body, priority in (("normal", 8), ("low", 16), ("urgent", 1), ("normal2", 8)):
        queue.send_message(Message(body, priority=priority))
    got = queue.batch_receive_message(16, 0)
    assert [m.message_body for m in got] == [b"urgent", b"normal", b"normal2", b"low"]
    assert [m.priority for m in got] == [1, 8, 8, 16]


def test_messages_past_the_retention_period_are_dropped(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, msg_ttl=60)
    queue.send_message(Message("old"))
    localcloud.clock.advance(30)
    queue.send_message(Message("young"))
    localcloud.clock.advance(30)
    got = queue.batch_receive_message(16, 0)
    assert [m.message_body for m in got] == [b"young"]


def test_queue_counts_active_inactive_and_delayed(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    queue.send_message(Message("a"))
    queue.send_message(Message("b"))
    queue.send_message(Message("c", delay_seconds=10))
    queue.receive_message(0)
    meta = queue.get_attributes()
    assert (meta.active_messages, meta.inactive_messages, meta.delay_messages) == (1, 1, 1)


# -- batches ------------------------------------------------------------------------------------------------------


def test_batch_send_and_batch_receive_sixteen(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    sent = queue.batch_send_message([Message(f"m{i}") for i in range(16)])
    sent += queue.batch_send_message([Message("m16")])
    assert len({m.message_id for m in sent}) == 17
    got = queue.batch_receive_message(16, 0)
    assert [m.message_body for m in got] == [f"m{i}".encode() for i in range(16)]
    assert all(m.dequeue_count == 1 and m.receipt_handle for m in got)
    assert [m.message_body for m in queue.batch_receive_message(16, 0)] == [b"m16"]


def test_batch_receive_of_more_than_sixteen_is_invalid_argument(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    assert server_error(queue.batch_receive_message, 17, 0).type == "InvalidArgument"


def test_batch_delete_with_partial_errors(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    queue.batch_send_message([Message("a"), Message("b")])
    a, b = queue.batch_receive_message(2, 0)
    err = server_error(queue.batch_delete_message, [a.receipt_handle, "garbage", b.receipt_handle])
    assert err.type == "ReceiptHandleError"
    assert err.sub_errors == [
        {
            "ErrorCode": "ReceiptHandleError",
            "ErrorMessage": "The receipt handle you provide is not valid.",
            "ReceiptHandle": "garbage",
        }
    ]
    assert last_call(localcloud, "BatchDeleteMessage").status == 404
    localcloud.clock.advance(60)
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"  # both real handles were deleted


def test_batch_delete_all_good_is_204(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    queue.batch_send_message([Message("a"), Message("b")])
    queue.batch_delete_message([m.receipt_handle for m in queue.batch_receive_message(2, 0)])
    assert last_call(localcloud, "BatchDeleteMessage").status == 204


# -- long poll ----------------------------------------------------------------------------------------------------


def test_long_poll_returns_when_a_message_is_sent_mid_wait(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    sender = localcloud.mns_account().get_queue("q1")  # its own connection, as another process would have
    timer = threading.Timer(0.2, lambda: sender.send_message(Message("wake up")))
    timer.start()
    try:
        got = queue.receive_message(10)
    finally:
        timer.join()
    assert got.message_body == b"wake up"


def test_long_poll_ends_with_message_not_exist_after_the_wait(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    err = server_error(queue.receive_message, 1)
    assert err.type == "MessageNotExist"
    assert localcloud.call_log.calls("ReceiveMessage", "Mns")[-1].params["waitseconds"] == "1"


def test_long_poll_sees_a_message_the_clock_makes_visible(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    queue.send_message(Message("delayed", delay_seconds=300))
    timer = threading.Timer(0.2, lambda: localcloud.clock.advance(300))
    timer.start()
    try:
        got = queue.receive_message(10)
    finally:
        timer.join()
    assert got.message_body == b"delayed"


def test_long_poll_batch_receive_wakes_on_send(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    timer = threading.Timer(0.2, lambda: localcloud.mns.send_message(localcloud.account_id, "q1", "aW4tcHJvY2Vzcw=="))
    timer.start()
    try:
        got = queue.batch_receive_message(16, 10)
    finally:
        timer.join()
    assert [m.message_body for m in got] == [b"in-process"]


def test_wait_seconds_out_of_range_is_invalid_argument(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud)
    assert server_error(queue.receive_message, 31).type == "InvalidArgument"
