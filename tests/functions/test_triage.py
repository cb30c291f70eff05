"""``ecs_events.runtime.triage.no_op`` answers the events a store read decides exactly as the engine does (outcome,
reason, saga), and leaves every other event to the engine. The engine here is the real one, built by ``build_app`` over
a memory store; none of these events makes it call the cloud."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecs_events.engine.errors import RejectedError
from ecs_events.models import EcsEvent
from ecs_events.runtime.app import App, build_app
from ecs_events.runtime.settings import Settings
from ecs_events.runtime.triage import no_op
from ecs_events.sources import TimerTick, unwrap
from ecs_events.store import Write

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples" / "cloudmonitor"
ACCOUNT = "1234567890123456"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-never-used")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "never-used")
    built = build_app(Settings(account_id=ACCOUNT, store="memory://", localcloud=None, policy=None))
    yield built
    built.close()


def event(sample: str, **changes: Any) -> EcsEvent:
    payload = json.loads((SAMPLES / sample).read_text())
    payload.update(changes)
    [delivery] = unwrap(json.dumps(payload).encode())
    assert delivery.error is None and delivery.event is not None and not isinstance(delivery.event, TimerTick)
    return delivery.event


DECIDED = [
    "snapshot-createsnapshotcompleted-accomplished.json",
    "instance-statechange-running.json",
    "instance-statechange-starting.json",
    "instance-statechange-stopping.json",
    "instance-statechange-pending.json",
    "instance-statechange-deleted.json",
    "instance-unknown-future-event.json",
]


@pytest.mark.parametrize("sample", DECIDED)
def test_what_it_decides_is_what_the_engine_says(app: App, sample: str) -> None:
    e = event(sample)
    verdict = no_op(e, app.store, ACCOUNT)
    assert verdict is not None, "a store read decides this event"
    assert not app.built("engine")
    result = app.engine.handle(e)
    assert (verdict.outcome, verdict.reason, verdict.saga) == (result.outcome, result.reason, result.saga)
    assert verdict.outcome == "ignored"


def test_a_snapshot_of_ours_goes_to_the_engine(app: App) -> None:
    e = event("snapshot-createsnapshotcompleted-accomplished.json")
    app.store.commit([Write(f"index/snapshot/{e.snapshot_id}", {"saga": "saga/i-x/e-x"}, 0)])
    assert no_op(e, app.store, ACCOUNT) is None


@pytest.mark.parametrize("sample", ["instance-statechange-running.json", "instance-statechange-deleted.json"])
def test_a_state_change_of_an_instance_with_a_saga_goes_to_the_engine(app: App, sample: str) -> None:
    e = event(sample)
    app.store.commit([Write(f"saga/{e.instance_id}/e-1", {"any": "saga"}, 0)])
    assert no_op(e, app.store, ACCOUNT) is None


def test_a_stop_goes_to_the_engine_even_without_a_saga(app: App) -> None:
    """An unexpected Stopped of a managed instance is notified: the engine reads the instance's tags for that."""
    assert no_op(event("instance-statechange-stopped.json"), app.store, ACCOUNT) is None


def test_what_it_cannot_decide_for_certain_goes_to_the_engine(app: App) -> None:
    for sample in ("instance-systemmaintenance-reboot-scheduled.json", "disk-stalled-executing-ongoing.json",
                   "instance-preemptibleinstanceinterruption.json"):  # fmt: skip
        assert no_op(event(sample), app.store, ACCOUNT) is None, sample


@pytest.mark.parametrize(
    "changes",
    [
        {"userId": "9999999999999999"},  # another account
        {"resourceId": "acs:ecs:cn-hangzhou:9999999999999999:snapshot/s-bp1z2x3c4v5b6n7m8l9k"},  # ARN disagrees
    ],
)
def test_the_account_guard_stays_the_engines(app: App, changes: dict[str, Any]) -> None:
    e = event("snapshot-createsnapshotcompleted-accomplished.json", **changes)
    assert no_op(e, app.store, ACCOUNT) is None
    with pytest.raises(RejectedError):
        app.engine.handle(e)
