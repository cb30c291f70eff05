"""The events queue consumed by an FC 3.0 MNS queue trigger instead of the timer-driven consumer: localcloud's trigger
(``localcloud.mns.trigger``) pushes every message of the queue, CloudMonitor's notices and the engine's own delayed
timers alike, to ``functions/consumer/index.py`` as FC would call it; the clock moves in steps and the trigger
delivers what became visible after each. The queue consumer never runs here (``world.reports`` stays empty)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import QUEUE, World

from ecs_events.cli.replay_cmd import load_function
from ecs_events.runtime import fc, handlers
from localcloud.mns.trigger import TriggerConfig

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def trigger_config(*, decode: bool, schema: str, mode: str) -> TriggerConfig:
    """The FC3 triggerConfig of the consumer's MNS queue trigger, as s.yaml would carry it."""
    return TriggerConfig.parse({
        "eventSourceConfig": {"eventSourceType": "MNS", "eventSourceParameters": {
            "sourceMNSParameters": {"QueueName": QUEUE, "RegionId": "cn-hangzhou", "IsBase64Decode": decode}}},
        "eventSinkConfig": {"deliveryOption": {"eventSchema": schema}},
        "runOptions": {"mode": mode, "batchWindow": {"CountBasedWindow": 10, "TimeBasedWindow": 3},
                       "retryStrategy": {"PushRetryStrategy": "BACKOFF_RETRY"}, "errorsTolerance": "ALL",
                       "deadLetterQueue": {"Arn": f"acs:mns:cn-hangzhou:1234567890123456:/queues/{QUEUE}-dlq"}},
    })  # fmt: skip


@pytest.fixture
def consumer(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bytes], Any]]:
    """The consumer function loaded as FC loads it, configured by the environment FC would pass (the world's store,
    queue and localcloud); ``consumer(event_bytes)`` is one invocation."""
    settings = world.app.settings
    for name in ("ECS_EVENTS_DLQ", "ECS_EVENTS_POLICY", "ECS_EVENTS_WEBHOOKS", "ECS_EVENTS_DRY_RUN", "ECS_EVENTS_TAG",
                 "FC_FUNCTION_NAME", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECS_EVENTS_ACCOUNT_ID", settings.account_id)
    monkeypatch.setenv("ECS_EVENTS_REGION", settings.region)
    monkeypatch.setenv("ECS_EVENTS_QUEUE", settings.queue)
    monkeypatch.setenv("ECS_EVENTS_STORE", settings.store)
    monkeypatch.setenv("ECS_EVENTS_LOCALCLOUD", world.cloud.url)
    monkeypatch.setattr(handlers, "_logs_ready", True)  # the test's logging stays as pytest set it
    handlers.reset()
    module = load_function("consumer", FUNCTIONS)
    context = fc.Context(request_id="req-trigger", credentials=fc.Credentials(),
                         function=fc.FunctionMeta(name="consumer", timeout=60), service=fc.ServiceMeta(),
                         region=settings.region, account_id=None)  # fmt: skip
    module.initialize(context)
    try:
        yield lambda event: fc.invoke(module.handler, event, context)
    finally:
        handlers.reset()


def advance(world: World, seconds: int, step: int = 30) -> None:
    for _ in range(seconds // step):
        world.cloud.advance(step)  # the registered trigger delivers what became visible


@pytest.mark.parametrize(
    ("decode", "schema", "mode"),
    [(True, "CloudEvents", "event-streaming"), (False, "RawData", "event-driven")],
    ids=["cloudevents-batch-decoded", "rawdata-single-base64"],
)
def test_reboot_notice_through_the_queue_trigger_is_avoided_and_weights_restored(
    world: World, consumer: Callable[[bytes], Any], decode: bool, schema: str, mode: str
) -> None:
    trigger = world.cloud.add_queue_trigger(trigger_config(decode=decode, schema=schema, mode=mode), consumer)
    web = world.ids("web")[0]
    before = world.weights()
    not_before = world.cloud.clock.now() + timedelta(hours=2)
    # the platform schedules the reboot; the CloudMonitor rule writes the notice to the queue (base64)
    event_id = world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)

    advance(world, 2 * 3600)

    assert world.event_statuses(event_id)[-1] == "Avoided"
    reboots = world.calls("RebootInstance")
    assert [c.params["InstanceId"] for c in reboots] == [web]
    assert reboots[0].time < not_before
    assert world.weights() == before
    results = [i.result for i in trigger.invocations]
    assert all(i.ok for i in trigger.invocations), [i.error for i in trigger.invocations if not i.ok]
    handled = [r for result in results for r in result["results"]]
    assert any(r["event"] == "Instance:SystemMaintenance.Reboot:Scheduled" and r["outcome"] == "acted"
               for r in handled)  # fmt: skip
    assert sum(result["wakes"] for result in results) >= 2  # the saga's timers came back through the trigger
    assert sum(result["dead_lettered"] for result in results) == 0 and world.dead_letters() == []
    assert world.reports == []  # the timer-driven consumer never ran
    assert world.cloud.mns.queue_messages(world.cloud.account_id, QUEUE) == []


def test_poison_through_the_trigger_is_dead_lettered_by_the_function_and_acknowledged(
    world: World, consumer: Callable[[bytes], Any]
) -> None:
    trigger = world.cloud.add_queue_trigger(
        trigger_config(decode=True, schema="CloudEvents", mode="event-streaming"), consumer
    )
    web = world.ids("web")[0]
    from mns.queue import Message

    queue = world.cloud.mns_account().get_queue(QUEUE)
    bad = queue.send_message(Message("not an event")).message_id
    world.send_notification(world.notification(web, "Instance:SystemMaintenance.Reboot:Scheduled", {
        "eventId": "e-poison-neighbour", "eventType": "SystemMaintenance.Reboot", "eventStatus": "Scheduled",
        "instanceId": web, "notBefore": (world.cloud.clock.now() + timedelta(hours=5)).isoformat()}))  # fmt: skip

    [invocation] = trigger.drain()

    assert invocation.ok  # poison never makes the trigger retry
    assert (invocation.result["events"], invocation.result["acted"], invocation.result["dead_lettered"]) == (2, 1, 1)
    [record] = world.dead_letters()
    assert record["source"] == "mns-queue-trigger" and record["message_id"] == bad
    assert record["reason"].startswith("mns-queue-trigger: field [0].data.messageBody: neither JSON")
    assert json.loads(record["body"])["data"]["messageBody"] == "not an event"
    assert trigger.dead_lettered == 0  # the trigger's own dead-letter queue was not needed


def test_a_transient_failure_is_retried_by_the_trigger_and_handled_once(
    world: World, consumer: Callable[[bytes], Any]
) -> None:
    trigger = world.cloud.add_queue_trigger(
        trigger_config(decode=True, schema="CloudEvents", mode="event-streaming"), consumer
    )
    web = world.ids("web")[0]
    world.cloud.faults.set("Ecs", "DescribeInstances", error_rate=1.0)
    world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(hours=5))

    [failed] = trigger.drain()
    assert failed.error is not None and "DescribeInstances" in failed.error
    world.cloud.faults.clear()
    world.cloud.advance(20)  # BACKOFF_RETRY: the retry is due 10-20 s later

    retried = trigger.invocations[1]
    assert retried.ok and retried.attempt == 2 and retried.event == failed.event
    assert retried.result["acted"] == 1
    assert world.dead_letters() == []
