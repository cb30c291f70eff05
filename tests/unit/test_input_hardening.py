"""Issue 6, input path: each defect found in the parser reproduced as a test (sources, models, errors, fc)."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ecs_events.errors import (
    BodyTooLargeError,
    EcsEventsError,
    EventValidationError,
    InputError,
    InvalidJsonError,
    UnknownFormatError,
)
from ecs_events.models import parse_notification, parse_time
from ecs_events.models.times import iso_utc
from ecs_events.runtime.fc import Context
from ecs_events.sources import MAX_BATCH_ITEMS, Source, unwrap
from ecs_events.sources.decode import MAX_BODY_BYTES

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
SCHEDULED = json.loads((SAMPLES / "cloudmonitor" / "instance-systemmaintenance-reboot-scheduled.json").read_bytes())
CLOUD_EVENT = json.loads((SAMPLES / "delivery" / "eventbridge-cloudevent.json").read_bytes())


def _scheduled(**content: Any) -> dict[str, Any]:
    payload = copy.deepcopy(SCHEDULED)
    payload["content"].update(content)
    return payload


def _one_line(message: str) -> None:
    assert not any(ch in message for ch in "\n\r\x1b\x00\x85\x7f"), repr(message)


# -- 3/4: times: one parser, aware, in a range that prints -------------------------------------------------------


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+05:00", "1969-12-31T00:00:00Z"])
def test_time_out_of_the_printable_range_is_refused(text: str) -> None:
    with pytest.raises(EventValidationError, match=r"content\.notBefore"):
        parse_notification(_scheduled(notBefore=text))


def test_date_only_not_before_is_refused_not_naive() -> None:
    with pytest.raises(EventValidationError, match=r"content\.notBefore: .*'2019-04-12'"):
        parse_notification(_scheduled(notBefore="2019-04-12"))


def test_every_accepted_time_is_aware_and_prints() -> None:
    for text in ("2019-04-12T01:01:01", "2019-04-12 01:01:01.123456789+08:00", "20190409T121826.922+0800"):
        event = parse_notification(_scheduled(notBefore=text))
        assert event.not_before is not None and event.not_before.tzinfo is not None
        assert event.not_before == parse_time(text)
        assert iso_utc(event.not_before) is not None


def test_time_error_quotes_the_value_as_sent_not_a_rewrite() -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_notification(_scheduled(notBefore="tomorrow"))
    assert "'tomorrow'" in str(caught.value)
    assert "tomorrowZ" not in str(caught.value)


def test_unicode_digits_are_not_a_time() -> None:
    with pytest.raises(ValueError):
        parse_time("\u0662019-04-12T01:01:01Z")


@pytest.mark.parametrize(
    ("change", "field"),
    [(("data", "notBefore", "soon"), "data.notBefore"), (("time", None, "later"), "time"),
     (("subject", None, "nope"), "subject")],
)  # fmt: skip
def test_eventbridge_errors_name_the_eventbridge_field(change: tuple[str, str | None, str], field: str) -> None:
    body = copy.deepcopy(CLOUD_EVENT)
    key, sub, value = change
    if sub:
        body[key][sub] = value
    else:
        body[key] = value
    if key == "subject":
        body["subject"] = "acs:nope"
    with pytest.raises(EventValidationError) as caught:
        unwrap(json.dumps(body))
    assert caught.value.source == "eventbridge"
    assert caught.value.field == field


# -- 5: validation holes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Instance:SystemMaintenance.Reboot:Exploded", "Disk:Stalled:Exploded"])
def test_status_from_the_name_is_validated_for_system_events(name: str) -> None:
    payload = copy.deepcopy(SCHEDULED)
    payload["name"] = name
    del payload["content"]["eventStatus"]
    if name.startswith("Disk"):
        payload["content"]["diskId"] = "d-1"
    with pytest.raises(EventValidationError) as caught:
        parse_notification(payload)
    assert caught.value.field == "name"
    assert "'Exploded'" in str(caught.value)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused(literal: str) -> None:
    body = json.dumps(SCHEDULED).replace('"ver": "1.0"', f'"ver": {literal}')
    with pytest.raises(InvalidJsonError):
        unwrap(body)
    with pytest.raises(InvalidJsonError):
        unwrap(base64.b64encode(body.encode()))


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('{"name": "Instance:StateChange", "name": "Instance:SystemMaintenance.Reboot:Scheduled"}', "name"),
        ('[{"a": {"b": 1, "b" : 2}}]', "b"),
        ('{"x": [{"k": 1, "k":\n2}]}', "k"),
    ],
)
def test_duplicate_keys_are_refused_at_any_depth(body: str, key: str) -> None:
    with pytest.raises(InvalidJsonError, match=f"duplicate key '{key}'"):
        unwrap(body)


def test_a_duplicate_key_inside_a_real_notification_is_refused() -> None:
    text = json.dumps(SCHEDULED, separators=(",", ":"))
    forged = text[:-1] + ',"name":"Instance:StateChange"}'
    with pytest.raises(InvalidJsonError, match="duplicate key 'name'"):
        unwrap(forged)


def test_strings_that_look_like_keys_are_not_duplicates() -> None:
    payload = copy.deepcopy(SCHEDULED)
    payload["content"]["note"] = 'a\\":"b" : and "x":'
    (delivery,) = unwrap(json.dumps(payload))
    assert delivery.error is None


@pytest.mark.parametrize(("body", "type_name"), [("42", "int"), ('"x"', "str"), ("true", "bool"), ("1.5", "float")])
def test_a_json_scalar_says_so(body: str, type_name: str) -> None:
    with pytest.raises(UnknownFormatError, match=f"expected a JSON object or array, got {type_name}"):
        unwrap(body)


def test_utf8_bom_is_stripped() -> None:
    body = b"\xef\xbb\xbf" + json.dumps(SCHEDULED).encode()
    (delivery,) = unwrap(body)
    assert delivery.error is None
    (delivery,) = unwrap(body.decode("utf-8"))
    assert delivery.error is None


def test_topic_message_limit_counts_bytes_and_is_body_too_large() -> None:
    inner = json.dumps(SCHEDULED)
    pad = (MAX_BODY_BYTES - len(inner.encode())) // 3 + 10
    message = inner[:-1] + ', "pad": "' + "\u4e2d" * pad + '"}'
    assert len(message) <= MAX_BODY_BYTES < len(message.encode())
    topic = {"TopicOwner": "1", "TopicName": "t", "MessageId": "m", "Message": message}
    (delivery,) = unwrap(json.dumps([topic], ensure_ascii=False))  # only a batch can carry it (6 MiB)
    assert isinstance(delivery.error, BodyTooLargeError)
    assert "field [0].Message: " in str(delivery.error)


def test_error_sources_inside_a_batch_are_the_batch_source() -> None:
    bad_event = copy.deepcopy(CLOUD_EVENT)
    del bad_event["data"]
    bad_notification = copy.deepcopy(SCHEDULED)
    bad_notification["level"] = "LOUD"
    deliveries = unwrap(json.dumps([bad_event, 42, {"hello": 1}, bad_notification]))
    sources = {d.error.source for d in deliveries if d.error is not None}
    assert sources == {"eventbridge"}
    assert {d.source for d in deliveries} == {Source.EVENTBRIDGE}


def test_mismatched_arn_is_visible_on_the_model() -> None:
    assert parse_notification(SCHEDULED).mismatches == ()
    payload = copy.deepcopy(SCHEDULED)
    payload["userId"] = "456"
    payload["regionId"] = "cn-beijing"
    payload["content"]["instanceId"] = "i-other"
    event = parse_notification(payload)
    assert event.mismatches == (
        "ARN account 1234567890123456 != userId 456",
        "ARN region cn-hangzhou != regionId cn-beijing",
        "ARN instance i-bp1a2b3c4d5e6f7g8h9i != content.instanceId i-other",
    )
    assert event.account == "456"


def test_every_good_sample_is_consistent() -> None:
    for folder in ("seed", "cloudmonitor", "delivery"):
        for path in (SAMPLES / folder).iterdir():
            for delivery in unwrap(path.read_bytes()):
                event = delivery.event
                assert getattr(event, "mismatches", ()) == (), path.name


# -- 2: batch blow-up ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", [b"1,", b"{},", b"[],", b'{"a":1},'])
def test_a_batch_over_the_item_cap_is_one_error_not_one_per_item(unit: bytes) -> None:
    body = b"[" + unit * (MAX_BATCH_ITEMS + 1)
    body = body[:-1] + b"]"
    with pytest.raises(BodyTooLargeError, match=f"over the {MAX_BATCH_ITEMS}-item limit"):
        unwrap(body)


def test_a_batch_at_the_item_cap_is_accepted() -> None:
    deliveries = unwrap(b"[" + b",".join([b"1"] * MAX_BATCH_ITEMS) + b"]")
    assert len(deliveries) == MAX_BATCH_ITEMS


# -- 6: one-line messages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["evil\nsecond line", "\x1b[31mred", "cr\rhere", "c1\x85\x9b", "del\x7f"])
def test_error_messages_are_one_line_whatever_the_value(value: str) -> None:
    for payload in (_scheduled(notBefore=value), _scheduled(eventStatus=value), {**SCHEDULED, "resourceId": value},
                    {**SCHEDULED, "name": f"Instance:SystemMaintenance.Reboot:{value}", "content": {}}):  # fmt: skip
        with pytest.raises(InputError) as caught:
            parse_notification(payload)
        _one_line(str(caught.value))
    with pytest.raises(InputError) as caught:
        unwrap(json.dumps({value: 1}))
    _one_line(str(caught.value))
    with pytest.raises(InputError) as caught:
        unwrap(value.encode())
    _one_line(str(caught.value))


def test_input_error_escapes_whatever_it_is_given() -> None:
    error = InputError("bad\nthing\x1b", source="x\ry", field="a\nb")
    _one_line(str(error))
    assert error.reason == "bad\nthing\x1b"


# -- 7: smaller smells ---------------------------------------------------------------------------------------------


def test_within_keeps_the_cause() -> None:
    try:
        try:
            raise ValueError("root")
        except ValueError as root:
            raise EventValidationError("bad", source="cloudmonitor", field="x") from root
    except EventValidationError as exc:
        outer = exc.within("mns-topic", "Message")
    assert isinstance(outer, EventValidationError)
    assert str(outer) == "mns-topic: field Message.x: bad"
    assert isinstance(outer.__cause__, ValueError)


@pytest.mark.parametrize("name", ["FC_FUNCTION_MEMORY_SIZE", "FC_FUNCTION_TIMEOUT"])
def test_malformed_fc_numbers_are_an_error_naming_the_variable(name: str) -> None:
    with pytest.raises(EcsEventsError, match=name) as caught:
        Context.from_env({name: "lots\n"})
    assert "\n" not in str(caught.value)


def test_models_table_and_union_tags_agree() -> None:
    from typing import get_args

    from ecs_events import models

    union = get_args(get_args(models.EcsEvent)[0])
    tags = {get_args(member)[1].tag: get_args(member)[0] for member in union}
    assert {kind.value: model for kind, model in models._MODELS.items()} == tags


def test_parse_time_keeps_the_offset() -> None:
    when = parse_time("2026-11-26T10:00:00.123+08:00")
    assert when == datetime(2026, 11, 26, 2, 0, 0, 123000, tzinfo=timezone.utc)
