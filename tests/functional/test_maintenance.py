"""Instance:SystemMaintenance.Reboot and friends, end to end on localcloud."""

from __future__ import annotations

from datetime import timedelta

from tests.functional.conftest import World


def test_scheduled_reboot_is_avoided_with_drain_snapshot_and_restore(world: World) -> None:
    web = world.ids("web")[0]
    before = world.weights()
    not_before = world.cloud.clock.now() + timedelta(hours=2)
    event_id = world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)

    world.run(seconds=2 * 3600, step=30)

    statuses = [e["content"]["eventStatus"] for e in world.cloud.emitted if e["content"].get("eventId") == event_id]
    assert statuses[-1] == "Avoided"
    reboots = world.calls("RebootInstance")
    assert [c.params["InstanceId"] for c in reboots] == [web]
    assert reboots[0].time < not_before
    snapshots = world.calls("CreateSnapshot")
    assert len(snapshots) == 2 and all(c.params.get("ClientToken") for c in snapshots)
    drains = [c for c in world.calls("SetBackendServers") + world.calls("SetVServerGroupAttribute")]
    assert any(
        '"Weight": "0"' in c.params["BackendServers"] or '"Weight":"0"' in c.params["BackendServers"] for c in drains
    )
    assert world.weights() == before
    # the drain happened before the snapshot, the snapshot before the reboot
    first_drain = min(c.time for c in drains)
    assert not_before - timedelta(minutes=31) <= first_drain <= not_before - timedelta(minutes=29)  # lead 30 min
    assert first_drain <= snapshots[0].time <= reboots[0].time
