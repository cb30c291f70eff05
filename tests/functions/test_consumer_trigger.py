"""The consumer function tells its two triggers apart (handlers.handle_consumer): a timer tick (or a body that is no
trigger invocation) drains the queue; an MNS queue trigger invocation goes item by item through the engine with the
push failure policy."""

from __future__ import annotations

import json

from tests.functions.conftest import SAMPLES, Functions, timer_event

TRIGGER_BAD = SAMPLES / "bad" / "mns-queue-trigger-body-not-json.json"
TRIGGER_BATCH = SAMPLES / "delivery" / "mns-queue-trigger-batch-base64.json"


def test_a_timer_tick_and_a_manual_invoke_drain_the_queue(functions: Functions) -> None:
    for body in (timer_event({"wait_seconds": 0}), b"{}"):
        report = functions.invoke("consumer", body)
        assert "received" in report and report["batches"] >= 1  # the queue consumer's report


def test_a_trigger_batch_goes_through_the_engine_item_by_item(functions: Functions) -> None:
    result = functions.invoke("consumer", TRIGGER_BATCH)
    assert "received" not in result  # not a drain: a push summary
    assert (result["events"], result["wakes"], result["dead_lettered"]) == (3, 1, 0)
    assert [(r["event"], r["source"]) for r in result["results"]] == [
        ("Instance:SystemMaintenance.Reboot:Scheduled", "mns-queue-trigger"),
        ("Instance:StateChange", "mns-queue-trigger"),
        ("wake", "mns-queue-trigger"),
    ]
    assert result["results"][2]["reason"] == "no such saga"


def test_a_bad_single_trigger_event_is_dead_lettered_naming_its_message(functions: Functions) -> None:
    result = functions.invoke("consumer", TRIGGER_BAD, request_id="req-bad")
    assert (result["dead_lettered"], result["events"]) == (1, 0)
    [record] = functions.dlq()
    assert record["message_id"] == "C6DB60D1574661357FA227277445****"
    assert record["reason"] == "mns-queue-trigger: field data.messageBody: neither JSON nor base64 JSON: 'TEST'"
    assert json.loads(record["body"]) == json.loads(TRIGGER_BAD.read_text())


def test_an_array_of_garbage_is_a_trigger_invocation_not_a_tick(functions: Functions) -> None:
    result = functions.invoke("consumer", b"[42]")
    assert result["dead_lettered"] == 1
    [record] = functions.dlq()
    assert record["reason"] == "eventbridge: field [0]: expected a JSON object, got int"
