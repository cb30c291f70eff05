"""The I5 bookkeeping of the invariants (tests/reliability/test_invariants.py), one directed history each on the same
driver and fleet (``invariants_support``): an event dead-lettered during an ECS outage counts as accounted for even
once the dead-letter queue's retention (4 days) has deleted its record, long before a history ends; and an event that
the engine drops (no saga, no reason, no record) is still reported lost."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

from tests.reliability.invariants_support import DLQ, History, check, check_no_event_lost

from ecs_events.engine.engine import Engine, Result
from ecs_events.models import EcsEvent

DAY = timedelta(days=1)


def _failure_during_an_ecs_outage(h: History) -> str:
    """A SystemFailure.Reboot of a managed instance while the ECS API fails: the consumer cannot read the instance's
    tags, gives up after ``max_receives`` deliveries and dead-letters each notification; the event is over (Executed)
    before the API answers again, so the reconciler has nothing open to find."""
    web = h.ids["web"][0]
    h.outage("Ecs")
    event = h.cloud.ecs.create_system_event(web, "SystemFailure.Reboot", h.now())
    h.run_until(h.now() + timedelta(hours=1))
    h.clear_faults()
    assert h.cloud.ecs.backend(*h._where()).events.events[event].status == "Executed"
    assert h.app.store.scan("saga/") == []
    return event


def test_an_event_dead_lettered_counts_after_the_queue_dropped_the_record(h: History) -> None:
    event = _failure_during_an_ecs_outage(h)
    assert h.cloud.mns.queue_messages(h.cloud.account_id, DLQ)  # the records, with their reasons
    h.run_until(h.now() + 5 * DAY)  # a history goes on for days (a 10-day notBefore)
    h.finish()
    assert h.cloud.mns.queue_messages(h.cloud.account_id, DLQ) == []  # past the DLQ's MessageRetentionPeriod
    problems = check(h)
    assert not any(event in p for p in problems), problems
    reasons = [r["reason"] for r in h.dead.values()]  # what I5 counted: the records written, with their reasons
    assert reasons and all("DescribeInstances" in r for r in reasons), reasons


def test_an_event_the_engine_drops_is_reported_lost(h: History) -> None:
    """A broken product: the engine answers "acted" for a failure event and does nothing (no saga, no log line,
    nothing dead-lettered), for the consumer and the reconciler alike."""
    real = Engine.handle

    def dropping(engine: Engine, event: EcsEvent) -> Result:
        if event.event_type == "SystemFailure.Reboot":
            return Result("acted", "dropped")
        return real(engine, event)

    web = h.ids["web"][0]
    with mock.patch.object(Engine, "handle", dropping):
        event = h.cloud.ecs.create_system_event(web, "SystemFailure.Reboot", h.now())
        h.finish()
    assert any(line.startswith(f"I5: event {event} ") for line in check_no_event_lost(h)), check_no_event_lost(h)


def test_a_saga_that_wakes_itself_forever_trips_the_livelock_guard(h: History) -> None:
    """A broken product: every wake arms the next one two seconds later and does nothing. The guard counts the
    history's clock stops (never the wall clock): it trips at the same stop on any machine."""

    def restless(engine: Engine, key: str) -> Result:
        now = engine.now()
        engine.timers.arm(key, now + timedelta(seconds=2), now)
        return Result("acted", "again", key)

    h.max_stops = 200
    h.cloud.ecs.create_system_event(h.ids["web"][0], "SystemMaintenance.Reboot", h.now() + timedelta(hours=4))
    h.consume()  # the saga starts and arms its first wake
    with mock.patch.object(Engine, "wake", restless):
        h.run_until(h.now() + DAY)
    assert h.steps == 200
    assert h.errors == [f"200 clock stops by {h.now()}, the bound is 200 (a livelock)"]
