"""``ecs-events replay``: files through the real functions against localcloud, one line per file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.functions.conftest import FUNCTIONS_DIR, SAMPLES, read_dlq

from ecs_events.cli import main
from ecs_events.cli.replay_cmd import find_functions, summarize
from localcloud.cloud import LocalCloud

SCHEDULED = SAMPLES / "cloudmonitor" / "instance-systemmaintenance-reboot-scheduled.json"
BATCH = SAMPLES / "delivery" / "eventbridge-streaming-batch.json"
TIMER = SAMPLES / "delivery" / "fc-timer.json"
EMPTY = SAMPLES / "bad" / "empty.json"


def test_replay_prints_one_line_per_file(fc_env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", str(SCHEDULED), str(BATCH), str(EMPTY), str(TIMER)])

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out == [
        f"{SCHEDULED} -> maintenance: ignored: instance i-bp1a2b3c4d5e6f7g8h9i not found",
        f"{BATCH} -> eventbridge: 3 events: 0 acted, 3 ignored, 0 dead-lettered; "
        "ignored: instance i-bp1a2b3c4d5e6f7g8h9i not found; ignored: instance i-bp1a2b3c4d5e6f7g8h9i not found; "
        "ignored: snapshot s-bp1z2x3c4v5b6n7m8l9k is not one of ours",
        f"{EMPTY} -> maintenance: dead-lettered: body: empty body",
        f"{TIMER} -> consumer: received 0, handled 0, retried 0, dead-lettered 0, notices sent 0",
    ]
    [record] = read_dlq(fc_env)
    assert (record["reason"], record["body"]) == ("body: empty body", "")


def test_replay_json(fc_env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", "--json", str(SCHEDULED)])

    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert code == 0
    assert (record["file"], record["function"]) == (str(SCHEDULED), "maintenance")
    assert record["result"]["results"][0]["outcome"] == "ignored"
    assert record["result"]["function"] == "maintenance"


def test_replay_through_another_function(fc_env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", "--through", "lifecycle", "--json", str(SCHEDULED)])

    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert code == 0
    assert (result["function"], result["result"]["unexpected"]) == ("lifecycle", 1)
    assert "is not what this function's trigger is filtered to" in captured.err  # the WARNING log line


def test_missing_file_exits_2_before_anything_is_invoked(
    fc_env: LocalCloud, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.json"

    code = main(["replay", str(EMPTY), str(missing)])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.strip() == f"ecs-events: replay: {missing}: No such file or directory"
    assert read_dlq(fc_env) == []  # empty.json was not replayed either


def test_transient_failure_is_one_line_and_exit_1(fc_env: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    fc_env.faults.set("Ecs", "DescribeInstances", error_rate=1.0)

    code = main(["replay", "--log-level", "CRITICAL", str(SCHEDULED), str(EMPTY)])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith(f"{SCHEDULED} -> maintenance: failed: Ecs.DescribeInstances: ")
    assert read_dlq(fc_env) == []  # stopped at the first failure


def test_bad_configuration_exits_2(
    fc_env: LocalCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECS_EVENTS_ACCOUNT_ID")

    code = main(["replay", "--log-level", "CRITICAL", str(SCHEDULED)])

    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"{SCHEDULED} -> maintenance: failed: ECS_EVENTS_ACCOUNT_ID: required to act "
        "(the account whose events are handled)"
    )


def test_unknown_function_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["replay", "--through", "nosuch", str(SCHEDULED)])
    assert info.value.code == 2
    assert "invalid choice: 'nosuch'" in capsys.readouterr().err


def test_functions_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert find_functions() == FUNCTIONS_DIR
    assert find_functions(FUNCTIONS_DIR) == FUNCTIONS_DIR

    code = main(["replay", "--functions", str(tmp_path), str(SCHEDULED)])

    assert code == 2
    assert (
        capsys.readouterr().err.strip() == f"ecs-events: replay: --functions {tmp_path}: no maintenance/index.py there"
    )


def test_summarize_cuts_long_results() -> None:
    results = [{"outcome": "ignored", "reason": f"r{i}"} for i in range(5)]
    line = summarize({"events": 6, "acted": 0, "ignored": 5, "dead_lettered": 1, "results": results, "reasons": ["x"]})
    assert line == "6 events: 0 acted, 5 ignored, 1 dead-lettered; ignored: r0; ignored: r1; ignored: r2 (+3 more)"
    assert summarize({"events": 1, "results": [], "reasons": ["bad\x1b[31m"]}) == "dead-lettered: bad\\x1b[31m"


# -- --delivery mns-queue-trigger -------------------------------------------------------------------------------------
TRIGGER_SAMPLE = SAMPLES / "delivery" / "mns-queue-trigger-cloudevent-raw.json"


def test_replay_through_the_queue_trigger(
    fc_env: LocalCloud, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "trigger.yaml"
    config.write_text(
        "eventSourceConfig:\n  eventSourceType: MNS\n  eventSourceParameters:\n"
        "    sourceMNSParameters: {QueueName: ecs-events, IsBase64Decode: false}\n"
        "eventSinkConfig: {deliveryOption: {eventSchema: RawData}}\n"
    )
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("not an event")
    code = main(["replay", "--delivery", "mns-queue-trigger", "--trigger-config", str(config), "--json",
                 str(SCHEDULED), str(garbage)])  # fmt: skip

    captured = capsys.readouterr()
    first, second = (json.loads(line) for line in captured.out.splitlines())
    assert code == 0, captured.err
    assert (first["file"], first["function"], first["delivery"]) == (str(SCHEDULED), "consumer", "mns-queue-trigger")
    [result] = first["result"]["results"]
    assert (result["source"], result["reason"]) == ("mns-queue-trigger", "instance i-bp1a2b3c4d5e6f7g8h9i not found")
    assert second["result"]["dead_lettered"] == 1
    [record] = read_dlq(fc_env)
    assert record["reason"] == "mns-queue-trigger: field [0].messageBody: neither JSON nor base64 JSON: 'not an event'"
    assert json.loads(record["body"])["messageBody"] == "not an event"  # RawData, as it sat on the queue


def test_replay_through_the_trigger_refuses_what_is_already_a_trigger_invocation(
    fc_env: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--delivery", "mns-queue-trigger", str(TRIGGER_SAMPLE)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{TRIGGER_SAMPLE}: already an MNS queue trigger invocation: replay it without --delivery"
    ]
    assert main(["replay", str(TRIGGER_SAMPLE)]) == 0  # directly, it reaches the consumer
    assert capsys.readouterr().out.startswith(f"{TRIGGER_SAMPLE} -> consumer: ignored: instance i-bp1a2b3c4d5e6f7g8h9i")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--through", "maintenance"], "--delivery mns-queue-trigger delivers to the consumer, not maintenance"),
        (["--trigger-config", "/nonexistent.yaml"], "--trigger-config /nonexistent.yaml: No such file or directory"),
    ],
)
def test_replay_through_the_trigger_bad_options_exit_2(
    fc_env: LocalCloud, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["replay", "--delivery", "mns-queue-trigger", *argv, str(SCHEDULED)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"ecs-events: replay: {message}"
