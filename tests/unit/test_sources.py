from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ecs_events.errors import BodyTooLargeError, EmptyBodyError, InputError, InvalidJsonError, UnknownFormatError
from ecs_events.models import InstanceSystemEvent
from ecs_events.sources import MAX_BODY_BYTES, Source, TimerTick, parse_events, unwrap

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
SCHEDULED = (SAMPLES / "cloudmonitor" / "instance-systemmaintenance-reboot-scheduled.json").read_bytes()


def test_str_and_bytes_give_the_same_event() -> None:
    assert unwrap(SCHEDULED)[0].event == unwrap(SCHEDULED.decode())[0].event


def test_hint_names_the_source_the_caller_knows() -> None:
    (delivery,) = unwrap(SCHEDULED, hint=Source.MNS_QUEUE)
    assert delivery.source is Source.MNS_QUEUE


def test_base64_body_is_an_mns_queue_message() -> None:
    (delivery,) = unwrap(base64.b64encode(SCHEDULED))
    assert delivery.source is Source.MNS_QUEUE
    assert isinstance(delivery.event, InstanceSystemEvent)


def test_base64_with_line_breaks_decodes() -> None:
    wrapped = base64.encodebytes(SCHEDULED)  # 76-column lines, as some publishers send
    assert b"\n" in wrapped.strip()
    assert unwrap(wrapped)[0].event == unwrap(SCHEDULED)[0].event


def test_topic_message_given_as_an_object_is_accepted() -> None:
    body = json.dumps({"TopicOwner": "1", "TopicName": "t", "MessageId": "m", "Message": json.loads(SCHEDULED)})
    (delivery,) = unwrap(body)
    assert delivery.source is Source.MNS_TOPIC
    assert delivery.message_id == "m"


def test_batch_keeps_good_items_and_reports_the_bad_one_with_its_index() -> None:
    good = json.loads((SAMPLES / "delivery" / "eventbridge-cloudevent.json").read_bytes())
    bad = dict(good)
    del bad["data"]
    deliveries = unwrap(json.dumps([good, bad, good]))
    assert [d.error is None for d in deliveries] == [True, False, True]
    error = deliveries[1].error
    assert error is not None
    assert deliveries[1].index == 1
    assert str(error) == "eventbridge: field [1].data: missing or not an object"
    with pytest.raises(InputError, match=r"\[1\]\.data"):
        parse_events(json.dumps([good, bad]))


def test_batch_item_that_is_not_an_object() -> None:
    (delivery,) = unwrap("[42]")
    assert delivery.error is not None
    assert "expected a JSON object, got int" in str(delivery.error)


def test_empty_batch_is_an_error() -> None:
    with pytest.raises(UnknownFormatError, match="empty batch"):
        unwrap("[]")


@pytest.mark.parametrize("body", ['"hello"', "42", "null"])
def test_json_scalar_is_an_error(body: str) -> None:
    with pytest.raises(InputError, match=r"^body: "):
        unwrap(body)


@pytest.mark.parametrize("body", [b"", b"   \n\t", ""])
def test_empty_bodies(body: bytes | str) -> None:
    with pytest.raises(EmptyBodyError, match=r"^body: empty body$"):
        unwrap(body)


def test_size_limit_is_inclusive() -> None:
    payload = json.loads(SCHEDULED)
    payload["pad"] = ""
    base = len(json.dumps(payload).encode())
    payload["pad"] = "x" * (MAX_BODY_BYTES - base)
    exactly = json.dumps(payload).encode()
    assert len(exactly) == MAX_BODY_BYTES
    assert unwrap(exactly)[0].error is None
    with pytest.raises(BodyTooLargeError):
        unwrap(exactly + b" ")


def test_text_that_is_neither_json_nor_base64() -> None:
    with pytest.raises(InvalidJsonError, match="neither JSON nor base64 JSON"):
        unwrap("hello world!")


def test_base64_of_something_that_is_not_json() -> None:
    with pytest.raises(InvalidJsonError):
        unwrap(base64.b64encode(b"plain words"))


def test_timer_tick() -> None:
    (delivery,) = unwrap(b'{"triggerTime":"2023-12-26T07:49:00Z","triggerName":"timer-trigger","payload":"x"}')
    assert delivery.is_timer
    assert isinstance(delivery.event, TimerTick)
    assert delivery.event.trigger_name == "timer-trigger"
    assert parse_events(b'{"triggerTime":"2023-12-26T07:49:00Z","triggerName":"t"}') == []


def test_timer_with_a_bad_time() -> None:
    with pytest.raises(InputError, match="timer: field triggerTime"):
        unwrap(b'{"triggerTime":"soon","triggerName":"t"}')


def test_cloud_event_status_comes_from_data() -> None:
    body = json.loads((SAMPLES / "delivery" / "eventbridge-cloudevent.json").read_bytes())
    body["data"]["eventStatus"] = "Executing"
    (event,) = parse_events(json.dumps(body))
    assert event.status == "Executing"
    assert event.event_type == "SystemMaintenance.Reboot"
    assert event.name == "Instance:SystemMaintenance.Reboot"


def test_cloud_event_without_subject_or_resource_id_in_data() -> None:
    body = json.loads((SAMPLES / "delivery" / "eventbridge-cloudevent.json").read_bytes())
    del body["subject"]
    body["data"] = {"eventStatus": "Scheduled"}
    with pytest.raises(InputError, match="eventbridge: field subject"):
        unwrap(json.dumps(body))
