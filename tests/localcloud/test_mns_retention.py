"""MNS MessageRetentionPeriod through the real aliyun-mns-sdk: the attribute round-trips, its range is enforced,
and a message is deleted once it has been in the queue longer than the retention period, whether it is delayed,
inactive or active; so a message sent with a DelaySeconds beyond the retention is never delivered."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest
from mns.queue import Message, QueueMeta

from ecs_events.cli import localcloud_cmd
from localcloud.cloud import LocalCloud
from localcloud.remote import RemoteCloud, RemoteCloudError
from localcloud.serve import serve
from localcloud.testing import last_call, make_queue
from localcloud.testing import mns_error as server_error

# The SDK marks the queue counters (ActiveMessages, ...) deprecated but still reads them.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_retention_round_trips_through_get_queue_attributes(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, msg_ttl=3600)
    assert queue.get_attributes().message_retention_period == 3600
    queue.set_attributes(QueueMeta(msg_ttl=60))
    assert queue.get_attributes().message_retention_period == 60
    queue.set_attributes(QueueMeta(msg_ttl=604800))
    assert queue.get_attributes().message_retention_period == 604800


@pytest.mark.parametrize("seconds", [59, 604801])
def test_retention_out_of_range_is_invalid_argument_at_create_and_set(localcloud: LocalCloud, seconds: int) -> None:
    err = server_error(localcloud.mns_account().get_queue("q1").create, QueueMeta(msg_ttl=seconds))
    assert (err.type, last_call(localcloud, "CreateQueue").status) == ("InvalidArgument", 400)
    assert err.message == "The value of MessageRetentionPeriod should between 60 and 604800 seconds."
    queue = make_queue(localcloud, name="q2")
    err = server_error(queue.set_attributes, QueueMeta(msg_ttl=seconds))
    assert err.type == "InvalidArgument"
    assert queue.get_attributes().message_retention_period == 345600


def test_a_delay_beyond_the_retention_is_never_delivered_and_a_shorter_one_is(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, msg_ttl=3600)
    queue.send_message(Message("timer-7200", delay_seconds=7200))
    queue.send_message(Message("timer-60", delay_seconds=60))
    assert queue.get_attributes().delay_messages == 2
    localcloud.clock.advance(60)
    got = queue.receive_message(0)
    assert got.message_body == b"timer-60"
    queue.delete_message(got.receipt_handle)
    localcloud.clock.advance(3540)  # 3600 s after the send: the delayed one is deleted unseen
    meta = queue.get_attributes()
    assert (meta.active_messages, meta.inactive_messages, meta.delay_messages) == (0, 0, 0)
    localcloud.clock.advance(3600)  # past its DelaySeconds: still nothing
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"
    assert server_error(queue.peek_message).type == "MessageNotExist"


def test_a_delayed_message_lives_until_exactly_the_retention(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, msg_ttl=3600)
    queue.send_message(Message("edge", delay_seconds=3599))
    localcloud.clock.advance(3599)
    assert queue.receive_message(0).message_body == b"edge"


def test_received_and_active_messages_expire_at_the_retention_too(localcloud: LocalCloud) -> None:
    queue = make_queue(localcloud, msg_ttl=120, vis_timeout=43200)
    queue.send_message(Message("held"))
    queue.send_message(Message("waiting"))
    held = queue.receive_message(0)
    assert held.message_body == b"held"
    localcloud.clock.advance(119)
    meta = queue.get_attributes()
    assert (meta.active_messages, meta.inactive_messages) == (1, 1)
    localcloud.clock.advance(1)
    meta = queue.get_attributes()
    assert (meta.active_messages, meta.inactive_messages) == (0, 0)
    assert server_error(queue.delete_message, held.receipt_handle).type == "MessageNotExist"


def test_get_queue_attributes_carries_the_twelve_keys_the_sdk_decoder_requires(localcloud: LocalCloud) -> None:
    meta = make_queue(localcloud, msg_ttl=600, delay_sec=5, polling_wait_sec=3, vis_timeout=40).get_attributes()
    assert (meta.queue_name, meta.message_retention_period, meta.delay_seconds) == ("q1", 600, 5)
    assert (meta.polling_wait_seconds, meta.visibility_timeout, meta.maximum_message_size) == (3, 40, 65536)
    assert meta.create_time == meta.last_modify_time == int(localcloud.clock.now().timestamp())
    assert (meta.active_messages, meta.inactive_messages, meta.delay_messages) == (0, 0, 0)
    assert meta.logging_enabled is False


# -- where queues are declared: route_events_to_queue, the control API, --events-queue-retention -------------------


def test_events_queue_retention_is_set_on_a_new_or_an_existing_queue(localcloud: LocalCloud) -> None:
    localcloud.route_events_to_queue("ev", retention=3600)
    queue = localcloud.mns_account().get_queue("ev")
    assert queue.get_attributes().message_retention_period == 3600
    localcloud.route_events_to_queue("ev2")
    assert localcloud.mns.queue_retention(localcloud.account_id, "ev2") == 345600
    localcloud.route_events_to_queue("ev2", retention=600)
    assert localcloud.mns_account().get_queue("ev2").get_attributes().message_retention_period == 600


def test_control_api_route_takes_a_retention_and_checks_its_range(localcloud: LocalCloud) -> None:
    remote = RemoteCloud(localcloud.url)
    remote.route_events_to_queue("ev", retention=7200)
    assert localcloud.mns_account().get_queue("ev").get_attributes().message_retention_period == 7200
    remote.route_events_to_queue("ev", retention=120)  # already routed: the retention still changes
    assert localcloud.mns.queue_retention(localcloud.account_id, "ev") == 120
    for bad in (59, 604801, 90.5, "1h"):
        with pytest.raises(RemoteCloudError) as info:
            remote.route_events_to_queue("ev", retention=bad)  # type: ignore[arg-type]
        assert info.value.status == 400 and "retention" in info.value.message


def test_cli_events_queue_retention_is_parsed_and_checked() -> None:
    parser = argparse.ArgumentParser(prog="ecs-events")
    localcloud_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["localcloud", "--events-queue", "ev", "--events-queue-retention", "3600"])
    assert (args.events_queue, args.events_queue_retention) == ("ev", 3600)
    for argv in (["--events-queue", "ev", "--events-queue-retention", "30"], ["--events-queue-retention", "3600"]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            assert serve(parser.parse_args(["localcloud", *argv, "--port", "0"])) == 2
        assert err.getvalue().count("\n") == 1 and "--events-queue-retention" in err.getvalue()
