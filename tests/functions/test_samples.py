"""Every file of events/samples/ through the function its trigger would reach, against localcloud.

- bad/: dead-lettered (through the MNS SDK we read the DLQ) with the reason the sources give, the original payload
  kept, the invocation acknowledged (no exception: MNS must not retry poison);
- seed/: the seed document's masked account (169070*****30) is not ours: rejected by the engine, dead-lettered;
- cloudmonitor/, delivery/: our account, but instances localcloud does not have: handled (ignored, with a reason).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from tests.functions.conftest import SAMPLES, Functions, read_dlq

from ecs_events.cli.replay_cmd import pick_function

FILES = sorted(p for folder in ("seed", "cloudmonitor", "delivery", "bad") for p in (SAMPLES / folder).iterdir())
EXPECTED: dict[str, Any] = {
    folder: json.loads((SAMPLES / f"{folder}.expected.json").read_text())
    for folder in ("seed", "cloudmonitor", "delivery", "bad")
}
# Written out here (not derived from the code under test): the trigger each kind of event is routed to.
FUNCTION_OF_KIND = {
    "instance_system_event": "maintenance",
    "preemptible_interruption": "preemption",
    "disk_system_event": "disk",
    "disk_operation": "disk",
    "state_change": "lifecycle",
    "snapshot_completed": "snapshot",
    "unknown": "maintenance",
    "timer": "consumer",
    "wake": "consumer",
}


def _ids(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def expected_function(path: Path) -> str:
    if path.parent.name == "bad":
        if path.name.startswith("mns-queue-trigger"):
            return "consumer"
        return "eventbridge" if path.name.startswith("eventbridge") else "maintenance"
    records = EXPECTED[path.parent.name][path.name]
    if any(r["source"] == "mns-queue-trigger" for r in records):  # the consumer's MNS queue trigger
        return "consumer"
    if any(r["source"] == "eventbridge" for r in records):
        return "eventbridge"
    return FUNCTION_OF_KIND[records[0]["kind"]]


def test_every_sample_folder_is_covered() -> None:
    assert len(FILES) >= 70
    for path in FILES:
        assert path.name in EXPECTED[path.parent.name], f"{_ids(path)} has no expectation"


@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_replay_picks_the_function_of_the_trigger(path: Path) -> None:
    assert pick_function(path.read_bytes()) == expected_function(path)


@pytest.mark.parametrize("path", [p for p in FILES if p.parent.name == "bad"], ids=_ids)
def test_bad_payload_is_dead_lettered_and_acknowledged(functions: Functions, path: Path) -> None:
    name = expected_function(path)
    result = functions.invoke(name, path, request_id="req-bad")

    assert (result["dead_lettered"], result["acted"], result["ignored"]) == (1, 0, 0)
    [record] = functions.dlq()
    for part in EXPECTED["bad"][path.name]["message_contains"]:
        assert part in record["reason"]
    assert result["reasons"] == [record["reason"]]
    assert (record["function"], record["request_id"]) == (name, "req-bad")
    raw = path.read_bytes()
    if record.get("truncated"):  # too big for an MNS message: whole in the store, the head in the DLQ
        from ecs_events.runtime import handlers

        stored = handlers.initialize().store.get(record["store_key"])
        assert stored is not None and stored.value["body"] == raw.decode()
        assert record["body"] == raw.decode()[:1000]
    elif record["body"] is None:  # not UTF-8: kept byte for byte
        assert base64.b64decode(record["body_base64"]) == raw
    else:
        assert record["body"] == raw.decode()


@pytest.mark.parametrize("path", [p for p in FILES if p.parent.name == "seed"], ids=_ids)
def test_seed_sample_of_a_foreign_account_is_rejected_to_the_dlq(functions: Functions, path: Path) -> None:
    result = functions.invoke(expected_function(path), path)

    assert result["dead_lettered"] == 1 and result["acted"] == 0
    [record] = functions.dlq()
    assert record["reason"] == (
        f"event of account 169070*****30, not ECS_EVENTS_ACCOUNT_ID {functions.cloud.account_id}: not acted on"
    )
    assert record["body"] == path.read_text()


@pytest.mark.parametrize("path", [p for p in FILES if p.parent.name in ("cloudmonitor", "delivery")], ids=_ids)
def test_good_sample_is_handled(functions: Functions, path: Path) -> None:
    name = expected_function(path)
    result = functions.invoke(name, path)

    assert result["function"] == name
    records = EXPECTED[path.parent.name][path.name]
    if records[0]["kind"] == "timer":  # the timer tick: the (empty) queue drained
        assert (result["received"], result["handled"], result["dead_lettered"], result["batches"]) == (0, 0, 0, 1)
    else:
        assert result["events"] == len(records)
        assert (result["dead_lettered"], result["acted"] + result["ignored"]) == (0, len(records))
        assert [r["event"] for r in result["results"]] == [r["name"] for r in records]
        assert result.get("wakes", 0) == sum(r["kind"] == "wake" for r in records)
        for item in result["results"]:
            assert item["outcome"] in ("acted", "ignored") and item["reason"]
    assert read_dlq(functions.cloud) == []
