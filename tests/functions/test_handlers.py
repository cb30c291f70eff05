"""ecs_events.runtime.handlers through the functions: failure policy (poison acknowledged, transient raised having
dead-lettered nothing), the App once per instance, the initializer's one-line errors, the consumer's deadline."""

from __future__ import annotations

import base64
import io
import json
import threading
from typing import Any

import pytest
from tests.functions.conftest import QUEUE, SAMPLES, Functions, context, sample, timer_event

from ecs_events.actions.errors import TransientError
from ecs_events.runtime import fc, handlers
from ecs_events.runtime.app import App
from ecs_events.runtime.settings import SettingsError
from ecs_events.store.base import StoreError
from localcloud.cloud import LocalCloud

SCHEDULED = SAMPLES / "cloudmonitor" / "instance-systemmaintenance-reboot-scheduled.json"
CLOUD_EVENT = SAMPLES / "delivery" / "eventbridge-cloudevent.json"


def json_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


# -- failure policy ---------------------------------------------------------------------------------------------------
def test_transient_failure_raises_for_the_trigger_to_retry_and_dead_letters_nothing(functions: Functions) -> None:
    functions.cloud.faults.set("Ecs", "DescribeInstances", error_rate=1.0)

    with pytest.raises(TransientError) as info:
        functions.invoke("maintenance", SCHEDULED)

    assert info.value.action == "DescribeInstances"
    assert info.value.code in ("InternalError", "ServiceUnavailable")
    assert functions.dlq() == []
    # the trigger's retry, once the cloud is back, is handled
    functions.cloud.faults.clear()
    retried = functions.invoke("maintenance", SCHEDULED)
    assert retried["results"][0]["reason"] == "instance i-bp1a2b3c4d5e6f7g8h9i not found"


def test_transient_failure_in_a_batch_dead_letters_not_even_its_poison_item(functions: Functions) -> None:
    functions.cloud.faults.set("Ecs", "DescribeInstances", error_rate=1.0)
    batch = json.dumps([{"not": "an event"}, json.loads(CLOUD_EVENT.read_text())])

    with pytest.raises(TransientError):
        functions.invoke("eventbridge", batch)

    assert functions.dlq() == []  # the retry dead-letters it, once


def test_poison_item_of_a_batch_is_dead_lettered_alone_and_the_rest_handled(functions: Functions) -> None:
    batch = json.dumps([json.loads(CLOUD_EVENT.read_text()), {"not": "an event"}])

    result = functions.invoke("eventbridge", batch, request_id="req-batch")

    assert (result["events"], result["ignored"], result["dead_lettered"]) == (2, 1, 1)
    [record] = functions.dlq()
    assert record["reason"].startswith("eventbridge: field [1]: not a CloudMonitor notification")
    assert (record["index"], json.loads(record["body"])) == (1, {"not": "an event"})
    assert (record["source"], record["function"], record["request_id"]) == ("eventbridge", "eventbridge", "req-batch")


def test_poison_is_acknowledged_with_its_original_bytes(functions: Functions) -> None:
    payload = b'{"name": "Instance:SystemMaintenance.Reboot:Scheduled", "content": \xff}'

    result = functions.invoke("maintenance", payload)

    assert result["dead_lettered"] == 1
    [record] = functions.dlq()
    assert record["reason"].startswith("body: not UTF-8")
    assert record["body"] is None and base64.b64decode(record["body_base64"]) == payload
    assert record["at"] == "2026-11-26T02:00:00Z"  # localcloud's clock, as the engine sees it


def test_rejected_event_is_dead_lettered(functions: Functions) -> None:
    foreign = sample("cloudmonitor/instance-systemmaintenance-reboot-scheduled.json")
    foreign["userId"] = "999"

    result = functions.invoke("maintenance", json.dumps(foreign))

    assert result["dead_lettered"] == 1
    [record] = functions.dlq()
    assert record["reason"] == "inconsistent event: ARN account 1234567890123456 != userId 999"
    assert json.loads(record["body"]) == foreign


def test_unexpected_kind_is_handled_and_logged_at_warning(functions: Functions) -> None:
    logs = io.StringIO()
    handlers.configure_logs("INFO", logs)

    result = functions.invoke("lifecycle", SCHEDULED)

    assert (result["unexpected"], result["ignored"]) == (1, 1)
    assert result["results"][0]["reason"] == "instance i-bp1a2b3c4d5e6f7g8h9i not found"
    [warning] = [line for line in json_lines(logs) if line["level"] == "WARNING"]
    assert "instance_system_event event Instance:SystemMaintenance.Reboot:Scheduled" in warning["message"]
    assert "filtered to (state_change)" in warning["message"]


def test_an_instance_event_type_nobody_knows_yet_is_expected_by_maintenance(functions: Functions) -> None:
    result = functions.invoke("maintenance", SAMPLES / "cloudmonitor" / "instance-unknown-future-event.json")

    assert (result["unexpected"], result["ignored"]) == (0, 1)
    assert result["results"][0]["reason"] == "no playbook for Instance:SomeFutureEvent.Thing:Scheduled"


def test_a_timer_tick_pushed_to_a_push_function_is_ignored(functions: Functions) -> None:
    result = functions.invoke("maintenance", timer_event())
    assert (result["events"], result["ignored"], result["dead_lettered"]) == (1, 1, 0)


# -- the App, once per instance ---------------------------------------------------------------------------------------
def test_initialize_is_idempotent_and_shared_by_concurrent_invocations(functions: Functions) -> None:
    functions.modules["maintenance"].initialize(context("maintenance"))
    first = handlers.initialize()
    functions.modules["consumer"].initialize(context("consumer"))
    apps: list[App] = []

    def init() -> None:
        apps.append(handlers.initialize(context("disk")))

    threads = [threading.Thread(target=init) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(apps) == 8 and all(app is first for app in apps)


def test_concurrent_first_invocations_build_one_app(functions: Functions) -> None:
    apps: list[App] = []
    threads = [threading.Thread(target=lambda: apps.append(handlers.initialize(context("disk")))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(apps) == 8 and len({id(app) for app in apps}) == 1


def test_rotated_credentials_rebuild_the_clients_around_the_same_store(functions: Functions) -> None:
    cloud = functions.cloud
    cloud.ctx.credentials.add("STS.rotated", "rotated-secret", cloud.account_id)
    old = fc.Credentials(cloud.access_key_id, cloud.access_key_secret, None)
    new = fc.Credentials("STS.rotated", "rotated-secret", "token-2")
    first = handlers.initialize(context("maintenance", credentials=old))
    assert handlers.initialize(context("maintenance", credentials=old)) is first

    result = functions.invoke("maintenance", SCHEDULED, credentials=new)

    second = handlers.initialize()
    assert second is not first and second.store is first.store
    assert second.clients.credentials.access_key_id == "STS.rotated"
    assert result["results"][0]["reason"] == "instance i-bp1a2b3c4d5e6f7g8h9i not found"  # signed with the new key


def test_initialize_surfaces_the_sqlite_refusal_on_fc_in_one_line(
    functions: Functions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FC_FUNCTION_NAME", "ecs-events-maintenance")  # what FC sets

    with pytest.raises(StoreError) as info:
        functions.modules["maintenance"].initialize(context("maintenance"))

    assert str(info.value) == (
        "ECS_EVENTS_STORE: sqlite cannot be shared by concurrent Function Compute instances; use redis://..."
    )
    with pytest.raises(StoreError):  # no initializer configured: the invocation fails the same way
        functions.invoke("maintenance", SCHEDULED)
    assert functions.dlq() == []


def test_initialize_without_an_account_names_the_variable(
    functions: Functions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECS_EVENTS_ACCOUNT_ID")

    with pytest.raises(SettingsError, match=r"^ECS_EVENTS_ACCOUNT_ID: required to act"):
        functions.modules["consumer"].initialize(context("consumer"))


# -- the consumer -----------------------------------------------------------------------------------------------------
def _send(cloud: LocalCloud, body: str) -> None:
    from mns.queue import Message

    queue = cloud.mns_account().get_queue(QUEUE)
    queue.set_encoding(True)
    queue.send_message(Message(body))


def test_consumer_drains_events_and_timers_from_the_queue(functions: Functions) -> None:
    _send(functions.cloud, SCHEDULED.read_text())  # CloudMonitor -> queue (base64, as CloudMonitor writes)
    _send(functions.cloud, json.dumps({"ecs-events": "wake", "saga": "saga/i-x/e-x", "at": "2026-11-26T02:00:00Z"}))
    _send(functions.cloud, "not an event")

    report = functions.invoke("consumer", timer_event({"wait_seconds": 0}), request_id="req-tick")

    assert (report["received"], report["handled"], report["dead_lettered"]) == (3, 2, 1)
    assert (report["function"], report["request_id"]) == ("consumer", "req-tick")
    [record] = functions.dlq()
    assert record["reason"].startswith("mns-queue")
    assert base64.b64decode(record["body"]) == b"not an event"  # the consumer keeps the body as on the wire


def test_consumer_takes_no_batch_when_the_timeout_leaves_no_time(functions: Functions) -> None:
    _send(functions.cloud, SCHEDULED.read_text())

    report = functions.invoke("consumer", timer_event(), timeout=5)  # 5 s less a 5 s margin: nothing to spend

    assert (report["batches"], report["received"]) == (0, 0)
    again = functions.invoke("consumer", timer_event({"wait_seconds": 0}), timeout=60)
    assert (again["received"], again["handled"]) == (1, 1)  # left for the next tick, not lost


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (None, handlers.TimerOptions()),
        ('{"wait_seconds": 0, "until_idle": false}', handlers.TimerOptions(until_idle=False, wait_seconds=0)),
        ('{"wait_seconds": 99}', handlers.TimerOptions()),
        ('{"until_idle": "yes"}', handlers.TimerOptions()),
        ("[1, 2]", handlers.TimerOptions()),
        ("not json", handlers.TimerOptions()),
    ],
)
def test_timer_payload_options(payload: str | None, expected: handlers.TimerOptions) -> None:
    tick: dict[str, Any] = {"triggerTime": "2026-11-26T02:00:00Z", "triggerName": "consume"}
    if payload is not None:
        tick["payload"] = payload
    assert handlers.timer_options(json.dumps(tick).encode()) == expected


def test_timer_options_of_a_non_timer_invocation_are_the_defaults() -> None:
    assert handlers.timer_options(b"") == handlers.TimerOptions()
    assert handlers.timer_options(SCHEDULED.read_bytes()) == handlers.TimerOptions()


@pytest.mark.parametrize(
    ("timeout", "deadline"),
    [(60, 1000 + 60 - 6), (20, 1000 + 20 - 5), (300, 1000 + 300 - 30), (600, 1000 + 600 - 60)],
)
def test_deadline_leaves_ten_percent_or_five_seconds(timeout: int, deadline: float) -> None:
    assert fc.deadline(context("consumer", timeout=timeout), 1000.0) == pytest.approx(deadline)


def test_deadline_without_a_function_timeout_assumes_sixty_seconds() -> None:
    assert fc.timeout_of(object()) == 60.0
    assert fc.deadline(None, 0.0) == pytest.approx(54.0)

    class Function:
        timeout = "soon"

    class Ctx:
        function = Function()

    assert fc.timeout_of(Ctx()) == 60.0
