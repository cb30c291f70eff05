"""Every other row of the playbook table end to end: failures, billing, disks, preemption, lifecycle, unknown."""

from __future__ import annotations

from datetime import timedelta

from tests.functional.conftest import World
from tests.notify.notify_support import HOOK, Receiver


def _last(receiver: Receiver) -> dict[str, str]:
    value: dict[str, str] = receiver.at(HOOK)[-1].json
    return value


def test_system_failure_reboot_drains_now_and_restores_after_the_platform(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    web = world.ids("web")[0]
    before = world.weights()
    event_id = world.cloud.ecs.create_system_event(web, "SystemFailure.Reboot", world.cloud.clock.now())
    world.run(seconds=2, step=1, app=app)
    assert world.weights_of(web) == [0, 0]  # drained at once, while the platform reboots it
    world.run(seconds=120, step=5, app=app)
    assert world.event_statuses(event_id)[-1] == "Executed"
    assert world.calls("RebootInstance") == [] and world.calls("GetInstanceConsoleOutput") == []
    assert world.weights() == before
    assert _last(receiver)["phase"] == "succeeded"


def test_instance_failure_reboot_fetches_the_console_output(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    web = world.ids("web")[1]
    world.cloud.ecs.set_console_output(web, "kernel panic - not syncing")
    world.cloud.ecs.create_system_event(web, "InstanceFailure.Reboot", world.cloud.clock.now())
    world.run(seconds=120, step=5, app=app)
    assert [c.params["InstanceId"] for c in world.calls("GetInstanceConsoleOutput")] == [web]
    saga = app.store.scan(f"saga/{web}/")[0].value
    console = next(s for s in saga["steps"] if s["action"] == "console")
    assert "kernel panic" in console["detail"]
    assert all(w > 0 for w in world.weights_of(web))


def test_system_failure_stop_and_tpm_alert_only_notify(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    web, db = world.ids("web")[0], world.ids("db")[0]
    world.cloud.ecs.create_system_event(web, "SystemFailure.Stop", world.cloud.clock.now() + timedelta(hours=1))
    content = {"eventId": "e-tpm1", "eventType": "Security.TpmAlert", "eventStatus": "Executed", "instanceId": db}
    world.send_notification(world.notification(db, "Instance:Security.TpmAlert:Executed", content))
    world.run(seconds=60, step=10, app=app)
    assert world.mutating_calls() == []
    levels = {(r.json["instance_id"], r.json["level"]) for r in receiver.at(HOOK)}
    assert (web, "critical") in levels and (db, "critical") in levels


def test_expiration_delete_snapshots_data_disks_and_notifies_the_deadline(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    db = world.ids("db")[0]
    deadline = world.cloud.clock.now() + timedelta(days=3)
    world.cloud.ecs.create_system_event(db, "InstanceExpiration.Delete", deadline)
    world.run(seconds=120, step=10, app=app)
    disks = {c.params["DiskId"] for c in world.calls("CreateSnapshot")}
    all_disks = world.cloud.ecs.backend(world.cloud.account_id).disks
    data_disks = {d for d in world.cloud.ecs.instance(db).disk_ids if all_disks[d].disk_type == "data"}
    assert disks == data_disks and len(disks) == 1
    first = receiver.at(HOOK)[0].json
    assert first["level"] == "critical" and "deadline 2026-11-29" in first["title"]
    assert _last(receiver)["phase"] == "succeeded"
    assert world.calls("RebootInstance") == [] and world.calls("SetBackendServers") == []


def test_account_unbalanced_stop_only_notifies(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    db = world.ids("db")[0]
    world.cloud.ecs.create_system_event(db, "AccountUnbalanced.Stop", world.cloud.clock.now() + timedelta(hours=1))
    world.run(seconds=30, step=10, app=app)
    assert world.mutating_calls() == []
    assert _last(receiver)["level"] == "warning"


def test_disk_stall_drains_until_the_event_ends(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    web = world.ids("web")[2]
    before = world.weights()
    disk = world.cloud.ecs.instance(web).disk_ids[-1]
    world.cloud.ecs.inject_disk_event(disk, "Stalled", duration_seconds=300)
    world.run(seconds=60, step=10, app=app)
    assert world.weights_of(web) == [0, 0]
    world.run(seconds=300, step=10, app=app)
    assert world.weights() == before
    assert [r.json["phase"] for r in receiver.at(HOOK)] == ["received", "started", "succeeded"]


def test_disk_degraded_notifies_and_error_detected_snapshots(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    web, db = world.ids("web")[0], world.ids("db")[0]
    degraded = world.cloud.ecs.instance(web).disk_ids[0]
    broken = world.cloud.ecs.instance(db).disk_ids[-1]
    world.cloud.ecs.inject_disk_event(degraded, "Degraded", duration_seconds=60)
    world.cloud.ecs.inject_disk_event(broken, "ErrorDetected", duration_seconds=600)
    world.run(seconds=120, step=10, app=app)
    assert [c.params["DiskId"] for c in world.calls("CreateSnapshot")] == [broken]
    assert world.calls("SetBackendServers") == []
    titles = " ".join(r.json["title"] for r in receiver.at(HOOK))
    assert "Degraded" in titles and "snapshot taken" in titles


def test_preemption_drains_then_removes_before_release(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    batch = world.ids("batch")[0]
    world.cloud.ecs.interrupt_preemptible(batch)
    world.run(seconds=10, step=5, app=app)
    assert world.weights_of(batch) == [0]
    world.run(seconds=120, step=10, app=app)
    assert world.weights_of(batch) == []  # removed after the drain period, never restored
    removes = world.calls("RemoveBackendServers")
    assert len(removes) == 1 and batch in removes[0].params["BackendServers"]
    world.run(seconds=300, step=30, app=app)  # released by the platform: nothing of ours breaks
    assert "Deleted" in [e["content"].get("state") for e in world.cloud.emitted]
    assert _last(receiver)["phase"] == "succeeded"
    assert app.store.scan("drain/") == []


def test_unexpected_stop_of_a_managed_instance_is_notified(world: World, receiver: Receiver) -> None:
    from aliyunsdkecs.request.v20140526.StopInstanceRequest import StopInstanceRequest

    from localcloud.testing import sdk_call

    app = world.make_app(webhooks=(receiver.url(HOOK),))
    db, stray = world.ids("db")[0], world.ids("stray")[0]
    for instance in (db, stray):
        request = StopInstanceRequest()
        request.set_InstanceId(instance)
        sdk_call(world.cloud, request)
    world.run(seconds=30, step=5, app=app)
    notices = [r.json for r in receiver.at(HOOK)]
    assert [(n["instance_id"], n["phase"]) for n in notices] == [(db, "received")]
    assert "Stopped unexpectedly" in notices[0]["title"]


def test_failed_disk_operation_notifies_and_unknown_events_do_nothing(world: World, receiver: Receiver) -> None:
    app = world.make_app(webhooks=(receiver.url(HOOK),))
    account, region = world.cloud.account_id, world.cloud.region_id
    failed = {
        "ver": "1.0",
        "id": "disk-op-1",
        "product": "ECS",
        "resourceId": f"acs:ecs:{region}:{account}:disk/d-bp1broken",
        "level": "WARN",
        "name": "Disk:DiskOperationCompleted",
        "userId": account,
        "eventTime": "20261126T100000.000+0800",
        "regionId": region,
        "content": {"diskId": "d-bp1broken", "operation": "AttachDisk", "result": "failed"},
    }
    unknown = {**failed, "id": "x-1", "name": "Instance:SomethingNew:Happened", "resourceId": failed["resourceId"]}
    world.send_notification(failed)
    world.send_notification(unknown)
    world.run(seconds=20, step=10, app=app)
    assert [r.json["title"] for r in receiver.at(HOOK)] == ["disk d-bp1broken: AttachDisk failed"]
    assert world.mutating_calls() == [] and world.dead_letters() == []
