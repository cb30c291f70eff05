"""localcloud's FC 3.0 MNS queue trigger: messages sent through the real MNS SDK reach a registered callable in the
trigger's event format (CloudEvents or RawData, array or one per invocation, IsBase64Decode on or off), batched by
CountBasedWindow, delayed ones once visible, failures retried under the retry strategy then dead-lettered with a
reason (errorsTolerance ALL) or blocking the trigger (NONE). Expected shapes are the reference's (wire facts round
3, section 1), written out here."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from localcloud.mns.trigger import QueueTrigger, TriggerConfig, TriggerConfigError

QUEUE = "events"
DLQ = "events-dlq"


def config(**run_options: Any) -> dict[str, Any]:
    """The FC3 triggerConfig object as s.yaml carries it (keys cased as the SDK writes them)."""
    params = {"QueueName": QUEUE, "RegionId": "cn-hangzhou", "IsBase64Decode": run_options.pop("decode", True)}
    schema = run_options.pop("schema", "CloudEvents")
    return {
        "triggerEnable": True,
        "asyncInvocationType": False,
        "eventRuleFilterPattern": "{}",
        "eventSourceConfig": {"eventSourceType": "MNS", "eventSourceParameters": {"sourceMNSParameters": params}},
        "eventSinkConfig": {"deliveryOption": {"eventSchema": schema, "concurrency": 1}},
        "runOptions": {
            "mode": "event-streaming",
            "batchWindow": {"CountBasedWindow": 10, "TimeBasedWindow": 3},
            "retryStrategy": {"PushRetryStrategy": "BACKOFF_RETRY"},
            "errorsTolerance": "ALL",
            "deadLetterQueue": {"Arn": f"acs:mns:cn-hangzhou:1234567890123456:/queues/{DLQ}"},
            **run_options,
        },
    }


class Recorder:
    """The function: records every event it gets; fails the first ``fail`` invocations (or always, ``-1``)."""

    def __init__(self, fail: int = 0) -> None:
        self.events: list[Any] = []
        self.fail = fail

    def __call__(self, event: bytes) -> dict[str, int]:
        self.events.append(json.loads(event))
        if self.fail < 0 or len(self.events) <= self.fail:
            raise RuntimeError("function error")
        return {"ok": len(self.events)}


def send(cloud: LocalCloud, body: str, *, encode: bool = True, delay: int = 0) -> str:
    from mns.queue import Message

    queue = cloud.mns_account().get_queue(QUEUE)
    queue.set_encoding(encode)  # True: base64 on the wire, as CloudMonitor writes
    return str(queue.send_message(Message(body, delay)).message_id)


def dead_letters(cloud: LocalCloud) -> list[dict[str, Any]]:
    return [json.loads(base64.b64decode(m.body)) for m in cloud.mns.queue_messages(cloud.account_id, DLQ)]


@pytest.fixture
def cloud(localcloud: LocalCloud) -> LocalCloud:
    localcloud.mns.create_queue(localcloud.account_id, QUEUE)
    localcloud.mns.create_queue(localcloud.account_id, DLQ)
    return localcloud


def test_the_reference_config_parses() -> None:
    parsed = TriggerConfig.parse(json.dumps(config()))  # the API's form: a JSON string
    assert parsed == TriggerConfig(queue=QUEUE, region="cn-hangzhou", base64_decode=True, schema="CloudEvents",
                                   mode="event-streaming", batch_count=10, batch_seconds=3, strategy="BACKOFF_RETRY",
                                   tolerance="ALL", dead_letter_queue=DLQ, enabled=True)  # fmt: skip
    bare = {"eventSourceConfig": {"eventSourceType": "MNS",
                                  "eventSourceParameters": {"sourceMNSParameters": {"QueueName": "q"}}}}  # fmt: skip
    assert TriggerConfig.parse(bare) == TriggerConfig(queue="q")  # IsBase64Decode true, tolerance NONE, no DLQ


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"batchWindow": {"CountBasedWindow": 0}}, "runOptions.batchWindow.CountBasedWindow: 0 is not in 1..10000"),
        ({"batchWindow": {"TimeBasedWindow": 16}}, "runOptions.batchWindow.TimeBasedWindow: 16 is not in 0..15"),
        ({"mode": "streaming"}, "runOptions.mode: 'streaming' is not one of event-streaming, event-driven"),
        ({"errorsTolerance": True}, "runOptions.errorsTolerance: expected str, got bool"),
        ({"deadLetterQueue": {"Arn": "dlq"}}, "runOptions.deadLetterQueue.Arn: 'dlq' is no MNS queue ARN"),
        ({"decode": "yes"}, "sourceMNSParameters.IsBase64Decode: expected bool, got str"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(TriggerConfigError) as caught:
        TriggerConfig.parse(config(**change))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_base64_message_arrives_as_the_trigger_cloud_event_decoded(cloud: LocalCloud) -> None:
    recorder = Recorder()
    trigger = cloud.add_queue_trigger(TriggerConfig.parse(config()), recorder, trigger_name="events-queue")
    sent_at = cloud.clock.now()
    message_id = send(cloud, '{"hello": "world"}')  # base64 on the queue

    [invocation] = trigger.drain()

    assert invocation.ok and invocation.result == {"ok": 1}
    [[event]] = recorder.events  # event streaming: an array
    assert set(event) == {"id", "source", "specversion", "type", "datacontenttype", "subject", "time",
                          "aliyunaccountid", "aliyunpublishtime", "aliyunoriginalaccountid", "aliyuneventbusname",
                          "aliyunregionid", "aliyunpublishaddr", "data"}  # fmt: skip
    assert event["type"] == "mns:Queue:SendMessage" and event["specversion"] == "1.0"
    assert event["source"] == event["aliyuneventbusname"] == "MNS-consumer-events-queue"
    assert event["subject"] == f"acs:mns:cn-hangzhou:{cloud.account_id}:queues/{QUEUE}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["time"])
    assert datetime.fromisoformat(event["time"].replace("Z", "+00:00")) == sent_at
    assert set(event["data"]) == {"requestId", "messageId", "messageBody"}
    assert event["data"]["messageId"] == message_id
    assert event["data"]["messageBody"] == '{"hello": "world"}'
    assert cloud.mns.queue_messages(cloud.account_id, QUEUE) == []  # deleted after the successful push


def test_is_base64_decode_off_delivers_the_body_as_it_sat_on_the_queue(cloud: LocalCloud) -> None:
    recorder = Recorder()
    trigger = cloud.add_queue_trigger(TriggerConfig.parse(config(decode=False)), recorder)
    send(cloud, '{"hello": "world"}')
    send(cloud, "plain text", encode=False)
    trigger.drain()
    bodies = [item["data"]["messageBody"] for item in recorder.events[0]]
    assert bodies == [base64.b64encode(b'{"hello": "world"}').decode(), "plain text"]


def test_raw_data_event_driven_is_one_bare_data_object_per_invocation(cloud: LocalCloud) -> None:
    recorder = Recorder()
    trigger = cloud.add_queue_trigger(TriggerConfig.parse(config(schema="RawData", mode="event-driven")), recorder)
    ids = [send(cloud, f'{{"n": {n}}}') for n in range(3)]
    assert len(trigger.drain()) == 3
    assert [set(e) for e in recorder.events] == [{"requestId", "messageId", "messageBody"}] * 3
    assert [e["messageId"] for e in recorder.events] == ids
    assert [e["messageBody"] for e in recorder.events] == ['{"n": 0}', '{"n": 1}', '{"n": 2}']


def test_batches_hold_at_most_the_count_window(cloud: LocalCloud) -> None:
    recorder = Recorder()
    trigger = cloud.add_queue_trigger(TriggerConfig.parse(config(batchWindow={"CountBasedWindow": 10})), recorder)
    for n in range(25):
        send(cloud, f'{{"n": {n}}}')
    trigger.drain()
    assert [len(batch) for batch in recorder.events] == [10, 10, 5]


def test_a_delayed_message_is_pushed_once_it_becomes_visible(cloud: LocalCloud) -> None:
    recorder = Recorder()
    trigger = cloud.add_queue_trigger(TriggerConfig.parse(config()), recorder)
    send(cloud, '{"ecs-events": "wake"}', delay=120)
    assert trigger.drain() == []
    cloud.advance(119)
    assert recorder.events == []
    cloud.advance(2)  # the registered trigger delivers on every advance
    assert [item["data"]["messageBody"] for item in recorder.events[0]] == ['{"ecs-events": "wake"}']


def test_a_failed_push_is_retried_with_the_same_events_and_then_succeeds(cloud: LocalCloud) -> None:
    recorder = Recorder(fail=1)
    trigger = cloud.add_queue_trigger(TriggerConfig.parse(config()), recorder)
    send(cloud, '{"n": 1}')
    [first] = trigger.drain()
    assert first.error == "RuntimeError: function error"
    [due] = trigger.pending_retries()
    assert timedelta(seconds=10) <= due - first.at <= timedelta(seconds=20)  # BACKOFF_RETRY: random 10-20 s
    cloud.advance(60)  # past the retry and the queue's 30 s visibility timeout: still held for the retry only
    assert len(recorder.events) == 2 and recorder.events[0] == recorder.events[1]  # the same CloudEvent, same id
    assert [i.attempt for i in trigger.invocations] == [1, 2] and trigger.invocations[1].ok
    assert cloud.mns.queue_messages(cloud.account_id, QUEUE) == []


def test_backoff_retry_gives_up_after_three_retries_and_dead_letters_with_the_reason(cloud: LocalCloud) -> None:
    recorder = Recorder(fail=-1)
    trigger = cloud.add_queue_trigger(TriggerConfig.parse(config()), recorder)
    message_id = send(cloud, '{"n": 1}')
    for _ in range(20):
        cloud.advance(5)
    assert [i.attempt for i in trigger.invocations] == [1, 2, 3, 4]
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(trigger.invocations, trigger.invocations[1:], strict=False)]
    assert all(10 <= gap <= 25 for gap in gaps)  # 10-20 s apart, seen at 5 s steps
    [record] = dead_letters(cloud)
    assert record["reason"] == "BACKOFF_RETRY: gave up after 4 attempts: RuntimeError: function error"
    assert (record["source"], record["message_id"], record["attempts"]) == ("mns-queue-trigger", message_id, 4)
    assert json.loads(record["body"])["data"]["messageBody"] == '{"n": 1}'
    assert cloud.mns.queue_messages(cloud.account_id, QUEUE) == []


def test_errors_tolerance_none_blocks_the_trigger_and_keeps_the_message(cloud: LocalCloud) -> None:
    recorder = Recorder(fail=-1)
    trigger = cloud.add_queue_trigger(TriggerConfig.parse(config(errorsTolerance="NONE")), recorder)
    send(cloud, '{"n": 1}')
    for _ in range(20):
        cloud.advance(5)
    assert trigger.blocked is not None and "gave up after 4 attempts" in trigger.blocked
    send(cloud, '{"n": 2}')
    cloud.advance(60)
    assert len(recorder.events) == 4  # nothing more is delivered
    assert dead_letters(cloud) == []
    assert len(cloud.mns.queue_messages(cloud.account_id, QUEUE)) == 2


def test_exponential_decay_retry_doubles_from_one_second() -> None:
    import random

    from localcloud.mns.trigger import retry_delays

    delays = retry_delays("EXPONENTIAL_DECAY_RETRY", random.Random(0))
    assert len(delays) == 176
    assert delays[:11] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 512]
    assert 86_000 <= sum(delays) <= 87_000  # about a day


def test_a_trigger_without_registration_delivers_only_when_drained(cloud: LocalCloud) -> None:
    recorder = Recorder()
    trigger = QueueTrigger(cloud.mns_account(), TriggerConfig.parse(config()), recorder, now=cloud.clock.now,
                           account_id=cloud.account_id, region_id=cloud.region_id)  # fmt: skip
    send(cloud, '{"n": 1}')
    cloud.advance(5)
    assert recorder.events == []
    assert len(trigger.drain()) == 1
