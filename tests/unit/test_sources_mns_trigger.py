"""The FC 3.0 MNS queue trigger source: its CloudEvents (one, an array, RawData ``data`` objects) unwrapped to the
CloudMonitor notification or the engine's timer wake in ``data.messageBody``, raw or base64; a foreign CloudEvent is
refused in one line. Envelopes are written out here as the reference shows them (wire facts round 3, 1.1)."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ecs_events.cli import main
from ecs_events.errors import EventValidationError, InputError, InvalidJsonError, UnknownFormatError
from ecs_events.models import InstanceSystemEvent
from ecs_events.sources import Source, parse_events, unwrap

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
NOTICE = (SAMPLES / "cloudmonitor" / "instance-systemmaintenance-reboot-scheduled.json").read_text()
WAKE = '{"ecs-events":"wake","saga":"saga/i-1/e-1","at":"2026-11-28T00:30:00Z"}'

# The FC runtime SDK's sample, verbatim but for the body.
ENVELOPE: dict[str, Any] = {
    "id": "c2g71017-6f65-fhcf-a814-a396fc8d****", "source": "MNS-Function-mnstrigger", "specversion": "1.0",
    "type": "mns:Queue:SendMessage", "datacontenttype": "application/json; charset=utf-8",
    "subject": "acs:mns:cn-hangzhou:164901546557****:queues/zeus", "time": "2021-04-08T06:28:17.093Z",
    "aliyunaccountid": "1649015465574023", "aliyunregionid": "cn-chengdu",
    "aliyuneventbusname": "MNS-Function-mnstrigger",
    "data": {"requestId": "606EA3074344430D4C81****", "messageId": "C6DB60D1574661357FA227277445****",
             "messageBody": "TEST"},
}  # fmt: skip


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _event(body: str, message_id: str = "m-1") -> dict[str, Any]:
    out = copy.deepcopy(ENVELOPE)
    out["data"].update(messageBody=body, messageId=message_id)
    return out


@pytest.mark.parametrize("body", [NOTICE, _b64(NOTICE)], ids=["IsBase64Decode-on", "IsBase64Decode-off"])
def test_a_reboot_notice_in_the_message_body_is_the_reboot_event(body: str) -> None:
    (delivery,) = unwrap(json.dumps(_event(body)))
    assert delivery.source is Source.MNS_QUEUE_TRIGGER
    assert isinstance(delivery.event, InstanceSystemEvent)
    assert delivery.event.name == "Instance:SystemMaintenance.Reboot:Scheduled"
    assert delivery.event.not_before == datetime(2026, 11, 28, 1, tzinfo=timezone.utc)
    assert delivery.message_id == "m-1"
    assert delivery.record()["kind"] == "instance_system_event"


@pytest.mark.parametrize("wire", [str, str.encode], ids=["str", "bytes"])
def test_a_message_without_its_id_is_named_by_the_notification_id(wire: Any) -> None:
    """The delivery's message id is the MNS message's, else the notification's own ``id`` (RawData without
    ``messageId``), whichever way the body came (FC's bytes take the fast path, a str the full one)."""
    (delivery,) = unwrap(wire(json.dumps({"requestId": "r", "messageBody": NOTICE})))
    assert delivery.source is Source.MNS_QUEUE_TRIGGER and delivery.index == 0
    assert delivery.message_id == json.loads(NOTICE)["id"]


def test_an_array_and_raw_data_items_each_give_their_event() -> None:
    raw_data = {"requestId": "r", "messageId": "m-3", "messageBody": _b64(NOTICE)}
    deliveries = unwrap(json.dumps([_event(NOTICE, "m-1"), _event(_b64(NOTICE), "m-2"), raw_data]))
    assert [d.source for d in deliveries] == [Source.MNS_QUEUE_TRIGGER] * 3
    assert [d.message_id for d in deliveries] == ["m-1", "m-2", "m-3"]
    assert [d.index for d in deliveries] == [0, 1, 2]
    assert all(isinstance(d.event, InstanceSystemEvent) for d in deliveries)
    (single,) = unwrap(json.dumps(raw_data))
    assert isinstance(single.event, InstanceSystemEvent) and single.message_id == "m-3"


@pytest.mark.parametrize("body", [WAKE, _b64(WAKE)], ids=["raw", "base64"])
def test_an_engine_timer_wake_in_the_message_body_is_a_wake(body: str) -> None:
    (delivery,) = unwrap(json.dumps(_event(body)))
    assert delivery.event is None and delivery.error is None
    assert delivery.wake is not None
    assert (delivery.wake.saga, delivery.wake.at) == (
        "saga/i-1/e-1",
        datetime(2026, 11, 28, 0, 30, tzinfo=timezone.utc),
    )
    assert delivery.record()["kind"] == "wake"
    assert parse_events(json.dumps(_event(body))) == []  # no event


def test_one_bad_item_never_loses_the_others() -> None:
    bad_notice = json.loads(NOTICE)
    bad_notice["content"]["notBefore"] = "soon"
    items = [_event(NOTICE), _event("TEST"), _event(json.dumps(bad_notice)), _event(WAKE), {"type": ENVELOPE["type"]}]
    deliveries = unwrap(json.dumps(items))
    assert [d.error is None for d in deliveries] == [True, False, False, True, False]
    errors = [str(d.error) for d in deliveries if d.error is not None]
    assert errors[0] == "mns-queue-trigger: field [1].data.messageBody: neither JSON nor base64 JSON: 'TEST'"
    assert errors[1].startswith("mns-queue-trigger: field [2].data.messageBody.content.notBefore: ")
    assert errors[2] == "mns-queue-trigger: field [4].data: missing or not an object"
    assert "'soon'" in errors[1]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"data": "x"}, EventValidationError, "mns-queue-trigger: field data: missing or not an object"),
        ({"data": {"messageId": "m"}}, EventValidationError, "field data.messageBody: missing, expected the message"),
        ({"data": {"messageBody": 42}}, EventValidationError, "field data.messageBody: a int, expected the message"),
        ({"data": {"messageBody": " "}}, EventValidationError, "field data.messageBody: empty"),
        ({"data": {"messageBody": NOTICE, "messageId": 7}}, EventValidationError, "field data.messageId: expected"),
        ({"data": {"messageBody": "[1]"}}, UnknownFormatError, "field data.messageBody: expected a JSON object"),
        ({"data": {"messageBody": json.dumps(ENVELOPE)}}, UnknownFormatError, "a queue trigger message inside"),
        ({"data": {"messageBody": '{"hello": 1}'}}, UnknownFormatError, "field data.messageBody: not a CloudMonitor"),
    ],
)
def test_a_bad_trigger_event_is_one_line_naming_the_field(
    change: dict[str, Any], error: type[InputError], message: str
) -> None:
    with pytest.raises(error) as caught:
        unwrap(json.dumps({**ENVELOPE, **change}))
    assert message in str(caught.value)
    assert caught.value.source == "mns-queue-trigger"
    assert "\n" not in str(caught.value)


def test_the_sdk_sample_body_is_refused_not_read_as_an_unknown_event() -> None:
    with pytest.raises(InvalidJsonError, match=r"mns-queue-trigger: field data\.messageBody: neither JSON"):
        unwrap(json.dumps(ENVELOPE))


@pytest.mark.parametrize("source", ["acs.oss", "MNS-Function-mnstrigger", None])
def test_a_cloud_event_that_is_not_acs_ecs_is_refused(source: str | None) -> None:
    ecs = json.loads((SAMPLES / "delivery" / "eventbridge-cloudevent.json").read_bytes())
    foreign = {**ecs, "source": source, "type": "oss:ObjectCreated:PutObject"}
    with pytest.raises(UnknownFormatError) as caught:
        unwrap(json.dumps(foreign))
    assert str(caught.value) == (
        f"eventbridge: a CloudEvent from source {source!r} of type 'oss:ObjectCreated:PutObject' is neither an ECS "
        "event (source 'acs.ecs') nor an MNS queue trigger message"
    )
    (ok,) = unwrap(json.dumps(ecs))  # the same event from acs.ecs is one
    assert ok.event is not None


def test_parse_cli_prints_the_reboot_and_refuses_a_foreign_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trigger = tmp_path / "trigger.json"
    trigger.write_text(json.dumps([_event(_b64(NOTICE)), _event(WAKE)]))
    assert main(["parse", "--json", str(trigger)]) == 0
    notice, wake = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (notice["source"], notice["kind"], notice["status"]) == ("mns-queue-trigger", "instance_system_event",
                                                                     "Scheduled")  # fmt: skip
    assert (wake["kind"], wake["saga"]) == ("wake", "saga/i-1/e-1")
    assert main(["parse", str(trigger)]) == 0
    assert "timer wake of saga/i-1/e-1 due 2026-11-28T00:30:00Z" in capsys.readouterr().out

    foreign = tmp_path / "oss.json"
    foreign.write_text(json.dumps({**ENVELOPE, "source": "acs.oss", "type": "oss:ObjectCreated:PutObject"}))
    assert main(["parse", str(foreign)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{foreign}: eventbridge: a CloudEvent from source 'acs.oss' of type 'oss:ObjectCreated:PutObject' is neither "
        "an ECS event (source 'acs.ecs') nor an MNS queue trigger message"
    ]
