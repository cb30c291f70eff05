"""Guardrails, dedupe and concurrency: the opt-in tag, the account guard, dry-run, the disruption budget, repeated and
reordered deliveries, the same event from several consumers at once (sqlite and a real Redis)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from tests.functional.conftest import QUEUE, TAG, World

from ecs_events.models import parse_notification
from ecs_events.runtime.app import App


def test_an_untagged_instance_is_never_touched(world: World) -> None:
    stray = world.ids("stray")[0]
    world.cloud.ecs.create_system_event(stray, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(hours=1))
    world.cloud.ecs.create_system_event(stray, "SystemFailure.Reboot", world.cloud.clock.now())
    world.run(seconds=3600, step=60)
    assert world.mutating_calls() == []
    assert world.app.store.scan("saga/") == []


def test_a_foreign_account_event_is_dead_lettered_and_never_acted_on(world: World) -> None:
    web = world.ids("web")[0]
    content = {
        "eventId": "e-foreign",
        "eventType": "SystemFailure.Reboot",
        "eventStatus": "Executing",
        "instanceId": web,
    }
    foreign = world.notification(web, "Instance:SystemFailure.Reboot:Executing", content)
    foreign["userId"] = "9999999999999999"
    foreign["resourceId"] = foreign["resourceId"].replace(world.cloud.account_id, "9999999999999999")
    mismatched = {**world.notification(web, "Instance:SystemFailure.Reboot:Executing", content), "id": "mismatch"}
    mismatched["userId"] = "9999999999999999"  # the ARN still names our account
    world.send_notification(foreign)
    world.send_notification(mismatched)
    world.run(seconds=30, step=10)
    assert world.mutating_calls() == []
    reasons = sorted(d["reason"] for d in world.dead_letters())
    assert len(reasons) == 2
    assert "not ECS_EVENTS_ACCOUNT_ID" in reasons[0] and "inconsistent event" in reasons[1]


def test_dry_run_makes_no_mutating_call(world: World) -> None:
    app = world.make_app(dry_run=True)
    web, batch = world.ids("web")[0], world.ids("batch")[0]
    before = world.weights()
    world.cloud.ecs.create_system_event(
        web, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(minutes=40)
    )
    world.cloud.ecs.interrupt_preemptible(batch)
    world.run(seconds=40 * 60, step=30, app=app)
    mutating = [c for c in world.mutating_calls() if c.params.get("DryRun", "").lower() != "true"]
    assert mutating == []
    assert [(c.params["DryRun"], c.code) for c in world.calls("RebootInstance")] == [("True", "DryRunOperation")]
    assert world.weights() == before


def test_repeated_and_reordered_deliveries_act_once(world: World) -> None:
    web = world.ids("web")[0]
    not_before = world.cloud.clock.now() + timedelta(minutes=35)
    event_id = world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)
    scheduled = next(e for e in world.cloud.emitted if e["content"].get("eventId") == event_id)
    for _ in range(3):  # CloudMonitor retries: the same notification three more times
        world.send_notification(scheduled)
    world.run(seconds=35 * 60, step=15)
    avoided = [e for e in world.cloud.emitted if e["content"].get("eventStatus") == "Avoided"]
    world.send_notification(scheduled)  # a late, stale Scheduled after the Avoided
    world.send_notification(avoided[0])
    world.run(seconds=120, step=15)
    assert len(world.calls("RebootInstance")) == 1
    assert len(world.calls("CreateSnapshot")) == 2
    assert len(world.app.store.scan("saga/")) == 1
    assert world.dead_letters() == []


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_the_same_event_from_four_consumers_at_once_reboots_once(world: World, backend: str, request: Any) -> None:
    store = world.app.settings.store if backend == "sqlite" else request.getfixturevalue("redis_url")
    if backend == "redis":
        request.getfixturevalue("redis_store")  # flushed
    apps: list[App] = [world.make_app(store=store) for _ in range(4)]
    web = world.ids("web")[0]
    content = {"eventId": "e-race", "eventType": "SystemFailure.Reboot", "eventStatus": "Executing", "instanceId": web}
    notification = world.notification(web, "Instance:SystemFailure.Reboot:Executing", content)
    event = parse_notification(notification)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def handle(app: App) -> None:
        barrier.wait()
        try:
            app.engine.handle(event)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=handle, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(type(e).__name__ == "BusyError" for e in errors)  # the losers are told to come back later
    drains = world.calls("SetBackendServers")
    assert len(drains) == 1 and len(world.calls("DescribeInstances")) <= 4
    assert len(apps[0].store.scan("saga/")) == 1


def test_the_budget_holds_at_every_moment_and_all_finish_in_time(world: World) -> None:
    fleet = world.cloud.load_fleet(
        {
            "instances": [{"name": "api", "count": 10, "tags": TAG}],
            "load_balancers": [{"name": "api-lb", "backends": [{"instances": "api", "weight": 100}]}],
        }
    )
    world.cloud.advance(60)
    world.cloud.call_log.clear()
    api = fleet.instances["api"]
    lb = fleet.load_balancers["api-lb"]
    not_before = world.cloud.clock.now() + timedelta(hours=2)
    events = [world.cloud.ecs.create_system_event(i, "SystemMaintenance.Reboot", not_before) for i in api]
    world.run(seconds=2 * 3600, step=15)

    weights = dict.fromkeys(api, 100)
    worst = 0
    for call in world.calls("SetBackendServers"):  # the budget from the cloud's own call log, call by call
        assert call.params["LoadBalancerId"] == lb
        for server in json.loads(call.params["BackendServers"]):
            weights[server["ServerId"]] = int(server["Weight"])
        worst = max(worst, sum(1 for w in weights.values() if w == 0))
    assert worst == 1  # budget: max(1, 10% of 10)
    assert all(w == 100 for w in weights.values())
    assert all(world.event_statuses(e)[-1] == "Avoided" for e in events)
    assert max(c.time for c in world.calls("RebootInstance")) < not_before
    assert len(world.calls("RebootInstance")) == 10


def test_the_drain_deadline_restores_whatever_happened(world: World, tmp_path: Any) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("max_drain: 10m\n")
    app = world.make_app(policy=policy)
    web = world.ids("web")[0]
    before = world.weights()
    world.cloud.ecs.set_health(web, "Impaired")  # never healthy after the platform acts
    world.cloud.ecs.create_system_event(web, "SystemFailure.Reboot", world.cloud.clock.now())
    world.run(seconds=9 * 60, step=30, app=app)
    assert world.weights_of(web) == [0, 0]
    world.run(seconds=2 * 60, step=30, app=app)
    assert world.weights() == before
    saga = app.store.scan(f"saga/{web}/")[0].value
    assert (saga["status"] == "failed" and "max_drain reached" in saga["history"][-1]["what"]) or any(
        "max_drain reached" in h["what"] for h in saga["history"]
    )


def test_queue_name_is_the_settings_queue(world: World) -> None:
    assert world.app.settings.queue == QUEUE and world.app.settings.dlq_name == f"{QUEUE}-dlq"


def test_a_message_whose_saga_stays_busy_is_requeued_not_dead_lettered(world: World) -> None:
    app = world.make_app(max_receives=1)
    web = world.ids("web")[0]
    world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(hours=2))
    world.run(seconds=10, step=5, app=app)
    key = app.store.scan("saga/")[0].key

    def hold(value: dict[str, Any] | None) -> dict[str, Any] | None:
        assert value is not None
        return {**value, "lease_owner": "elsewhere:1", "lease_wall": 4e9}  # another consumer, far from done

    app.store.update(key, hold)
    queue = app.clients.queue("ecs-events")
    delayed_before = queue.peek_counts()[2]  # the saga's own timer
    world.send_notification({"ecs-events": "wake", "saga": key, "at": "2026-11-26T02:00:10Z"})
    report = world.consume(app)
    assert report.retried == 1 and report.dead_lettered == 0
    assert queue.peek_counts()[2] == delayed_before + 1  # the copy, delayed
    assert world.dead_letters() == []
    app.store.update(key, lambda v: {**(v or {}), "lease_owner": None, "lease_wall": 0})  # the holder finished
    world.run(seconds=40, step=10, app=app)  # the copy comes back after BUSY_REQUEUE and is handled
    assert queue.peek_counts() == (0, 0, delayed_before)
    assert world.dead_letters() == []


def crash_after_reboot(mocker: Any, cloud: Any) -> None:
    """The next RebootInstance goes out, then its consumer dies before recording it, and the notifications that
    follow are lost (the CloudMonitor rule is off from then on): only the cloud knows the reboot happened."""
    from ecs_events.actions.ecs import Ecs

    original = Ecs.reboot
    (rule,) = cloud.cms.rules(cloud.account_id, cloud.region_id).values()

    def reboot_then_die(self: Ecs, instance_id: str) -> None:
        rule.state = "DISABLED"
        original(self, instance_id)
        mocker.patch.object(Ecs, "reboot", original)  # only this one dies
        raise RuntimeError("consumer killed after RebootInstance")

    mocker.patch.object(Ecs, "reboot", reboot_then_die)


def test_a_reboot_sent_before_a_crash_is_not_sent_again(world: World, mocker: Any) -> None:
    """The successor finds the instance Running again and asks DescribeInstanceHistoryEvents instead of rebooting
    a second time."""
    app = world.make_app()
    web = world.ids("web")[0]
    world.cloud.ecs.set_delays(stop=0, start=0)  # the instance is Running again before anyone looks
    crash_after_reboot(mocker, world.cloud)
    event_id = world.cloud.ecs.create_system_event(
        web, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(minutes=35)
    )
    world.run(seconds=30 * 60, step=15, app=app)
    assert len(world.calls("RebootInstance")) == 1
    assert [c.params["InstanceId"] for c in world.calls("DescribeInstanceHistoryEvents")] == [web]
    assert world.event_statuses(event_id)[-1] == "Avoided"
    saga = app.store.scan(f"saga/{web}/")[0].value
    assert saga["status"] == "succeeded" and not saga["drained"]
