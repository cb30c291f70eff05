"""Instance:SystemMaintenance.* end to end on localcloud: the real SDKs, the real store, the queue consumer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.functional.conftest import World
from tests.notify.notify_support import HOOK, Receiver

from ecs_events.engine.saga import Saga


def _phases(receiver: Receiver) -> list[str]:
    return [r.json["phase"] for r in receiver.at(HOOK)]


def test_scheduled_reboot_is_avoided_with_drain_snapshot_and_restore(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK), receiver.robot_url()))
    web = world.ids("web")[0]
    before = world.weights()
    not_before = world.cloud.clock.now() + timedelta(hours=2)
    event_id = world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)

    world.run(seconds=2 * 3600, step=30, app=app)

    assert world.event_statuses(event_id)[-1] == "Avoided"
    reboots = world.calls("RebootInstance")
    assert [c.params["InstanceId"] for c in reboots] == [web]
    assert reboots[0].time < not_before
    snapshots = world.calls("CreateSnapshot")
    assert len(snapshots) == 2 and all(c.params.get("ClientToken") for c in snapshots)  # system + data disk
    drains = world.calls("SetBackendServers") + world.calls("SetVServerGroupAttribute")
    assert len(drains) == 4  # default group + VServer group, drain then restore
    first_drain = min(c.time for c in drains)
    assert not_before - timedelta(minutes=31) <= first_drain <= not_before - timedelta(minutes=29)  # lead 30 min
    assert first_drain <= snapshots[0].time <= reboots[0].time
    assert world.weights() == before
    assert _phases(receiver) == ["received", "planned", "started", "succeeded"]
    assert len(receiver.at("/robot/send")) == 4  # the signed DingTalk robot got the same four
    saga = Saga.from_doc(app.store.scan("saga/")[0].value)
    assert saga.status.value == "succeeded" and not saga.drained
    assert app.store.scan("drain/") == [] and app.store.scan("budget/") == []


def test_reboot_happens_inside_the_maintenance_window(world: World, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("window: {daily: '03:00-04:00', timezone: UTC}\nlead: 30m\n")
    app = world.make_app(policy=policy)
    web = world.ids("web")[1]
    start = world.cloud.clock.now()  # 02:00 UTC
    not_before = start + timedelta(hours=26)  # tomorrow 04:00: today's 03:00-04:00 slot ends early enough
    world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)

    world.run(seconds=2 * 3600, step=60, app=app)

    reboot = world.calls("RebootInstance")
    assert len(reboot) == 1
    assert start.replace(hour=3) <= reboot[0].time < start.replace(hour=4)


def test_inquiring_event_is_notified_and_not_touched_by_default(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    web = world.ids("web")[0]
    world.cloud.ecs.create_system_event(
        web, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(hours=4), status="Inquiring"
    )
    world.run(seconds=600, step=60, app=app)
    assert world.mutating_calls() == []
    assert world.calls("AcceptInquiredSystemEvent") == []
    assert "asks for consent" in receiver.at(HOOK)[-1].json["title"]


def test_inquiring_event_is_accepted_in_the_window_when_the_policy_says_so(world: World, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("accept_inquiring: true\nwindow: {daily: '03:00-05:00', timezone: UTC}\n")
    app = world.make_app(policy=policy)
    web = world.ids("web")[0]
    event_id = world.cloud.ecs.create_system_event(
        web, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(hours=30), status="Inquiring"
    )
    world.run(seconds=3 * 3600, step=60, app=app)
    accepts = world.calls("AcceptInquiredSystemEvent")
    assert len(accepts) == 1 and accepts[0].time.hour == 3
    # accepted -> Scheduled -> our reboot inside the same window -> Avoided
    assert world.event_statuses(event_id)[-1] == "Avoided"
    assert len(world.calls("RebootInstance")) == 1


def test_event_canceled_after_the_drain_restores_the_weights(world: World) -> None:
    app = world.make_app()
    web = world.ids("web")[2]
    before = world.weights()
    not_before = world.cloud.clock.now() + timedelta(minutes=40)  # start at once (notBefore - 30 min is 10 min away)
    event_id = world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)
    world.run(seconds=11 * 60, step=10, app=app)
    assert world.weights_of(web) == [0, 0]  # drained, waiting out the drain period
    world.cloud.ecs.cancel_system_event(event_id)
    world.run(seconds=120, step=10, app=app)
    assert world.event_statuses(event_id)[-1] == "Canceled"
    assert world.calls("RebootInstance") == []
    assert world.weights() == before


def test_redeploy_drains_and_snapshots_then_restores_after_the_platform(world: World) -> None:
    app = world.make_app()
    db = world.ids("db")[0]
    web = world.ids("web")[0]
    before = world.weights()
    not_before = world.cloud.clock.now() + timedelta(hours=1)
    event_id = world.cloud.ecs.create_system_event(web, "SystemMaintenance.Redeploy", not_before)
    world.cloud.ecs.create_system_event(db, "SystemMaintenance.Stop", not_before + timedelta(hours=3))
    world.run(seconds=40 * 60, step=30, app=app)
    assert world.weights_of(web) == [0, 0]  # drained ahead of the platform
    assert {c.params["DiskId"] for c in world.calls("CreateSnapshot")}  # snapshots before notBefore
    world.run(seconds=30 * 60, step=30, app=app)
    assert world.event_statuses(event_id)[-2:] == ["Executing", "Executed"]
    assert world.calls("RebootInstance") == []  # the platform redeploys, we do not
    assert world.weights() == before


def test_platform_failed_maintenance_restores_and_alerts(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    web = world.ids("web")[0]
    before = world.weights()
    content = {"eventId": "e-failed1", "eventType": "SystemMaintenance.Reboot", "instanceId": web}
    name = "Instance:SystemMaintenance.Reboot:"
    world.send_notification(world.notification(web, name + "Executing", {**content, "eventStatus": "Executing"}))
    world.run(seconds=30, step=10, app=app)
    assert world.weights_of(web) == [0, 0]  # the platform is acting: drained
    world.send_notification(world.notification(web, name + "Failed", {**content, "eventStatus": "Failed"}))
    world.run(seconds=30, step=10, app=app)
    assert world.weights() == before
    last = receiver.at(HOOK)[-1].json
    assert last["phase"] == "failed" and last["level"] == "critical"


def test_failed_snapshot_aborts_before_the_reboot(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    web = world.ids("web")[0]
    before = world.weights()
    for disk in world.cloud.ecs.instance(web).disk_ids:
        world.cloud.ecs.fail_snapshots(disk)
    world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(hours=1))
    world.run(seconds=40 * 60, step=30, app=app)
    assert world.calls("RebootInstance") == []
    assert world.weights() == before
    assert receiver.at(HOOK)[-1].json["phase"] == "failed"


def test_pre_reboot_command_runs_first_and_its_failure_aborts(world: World, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("pre_reboot_command: {content: 'systemctl stop app', timeout: 30s}\n")
    app = world.make_app(policy=policy)
    ok, bad = world.ids("web")[:2]
    world.cloud.ecs.set_command_output(bad, "app refused to stop", exit_code=3)
    for instance in (ok, bad):
        world.cloud.ecs.create_system_event(
            instance, "SystemMaintenance.Reboot", world.cloud.clock.now() + timedelta(minutes=35)
        )
    world.run(seconds=30 * 60, step=15, app=app)
    commands = world.calls("RunCommand")
    assert sorted(c.params["InstanceId.1"] for c in commands) == sorted([ok, bad])
    assert [c.params["InstanceId"] for c in world.calls("RebootInstance")] == [ok]
    assert all(w > 0 for w in world.weights_of(bad))
