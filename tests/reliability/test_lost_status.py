"""A status the platform sends while the cloud API fails is not lost to its saga (found by the invariants at 50
steps: I1). The notification of a newer status (Executing, Executed) re-plans the saga and runs it; when the run keeps
failing (a load balancer API down for hours) the message is dead-lettered after ``max_receives`` deliveries. The
saga must have the new status on record by then, or it acts on the old one once the API answers again: it drained
the instance for max_drain, hours after the platform had finished, for a redeploy that was over."""

from __future__ import annotations

from datetime import timedelta

from tests.reliability.invariants_support import History, check


def test_a_status_dead_lettered_during_an_outage_still_reaches_its_saga(h: History) -> None:
    web = h.ids["web"][0]
    event = h.cloud.ecs.create_system_event(web, "SystemMaintenance.Redeploy", h.now() + timedelta(hours=2))
    h.run_until(h.now() + timedelta(minutes=10))  # the saga is planned: snapshot, then drain 30 minutes before
    h.outage("Slb")
    h.run_until(h.now() + timedelta(hours=4))  # the platform redeploys meanwhile: Executing, Executed
    assert h.cloud.ecs.backend(*h._where()).events.events[event].status == "Executed"
    assert {r["reason"].split(":")[0] for r in h.dead.values()} == {"gave up after 5 deliveries"}
    back = h.now()
    h.clear_faults()
    h.finish()
    saga = h.app.store.get(f"saga/{web}/{event}")
    assert saga is not None
    assert (saga.value["event_status"], saga.value["outcome"]) == ("Executed", "succeeded")
    restores = [
        c.time
        for c in h.cloud.call_log.calls("SetBackendServers", "Slb")
        if c.code == "OK" and web in c.params["BackendServers"] and '"Weight": "0"' not in c.params["BackendServers"]
    ]
    assert restores and max(restores) <= back + timedelta(minutes=10), restores  # not max_drain later
    assert check(h) == []
