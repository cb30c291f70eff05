"""``ecs-events consume`` and ``ecs-events status`` end to end: the CLI run in-process with its settings from the
environment, the real SDKs over HTTP against localcloud, a real sqlite store."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import QUEUE, World

from ecs_events.cli import main
from ecs_events.notify.notice import Notice
from ecs_events.notify.outbox import outbox_writes
from ecs_events.store import Write, open_store

LEAD = timedelta(minutes=30)  # the default policy's


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """``consume`` configures JSON logging on the ``ecs_events`` logger (and stops it propagating): put it back so
    later tests' caplog still sees records."""
    logger = logging.getLogger("ecs_events")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    logger.handlers[:], logger.propagate, logger.level = saved[0], saved[1], saved[2]


@pytest.fixture
def cli_env(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment the CLI reads (its own store file); returns the store URL."""
    url = f"sqlite:///{tmp_path / 'cli' / 'store.sqlite3'}"
    for name in ("ECS_EVENTS_POLICY", "ECS_EVENTS_WEBHOOKS", "ECS_EVENTS_TAG", "ECS_EVENTS_DLQ"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECS_EVENTS_ACCOUNT_ID", world.cloud.account_id)
    monkeypatch.setenv("ECS_EVENTS_REGION", world.cloud.region_id)
    monkeypatch.setenv("ECS_EVENTS_LOCALCLOUD", world.cloud.url)
    monkeypatch.setenv("ECS_EVENTS_STORE", url)
    monkeypatch.setenv("ECS_EVENTS_QUEUE", QUEUE)
    return url


def _consume(capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["consume", "--until-idle", "--wait", "0", *extra]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("consumed ")
    return out[0]


def _status(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["status", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.splitlines()) == 1
    value: dict[str, Any] = json.loads(out)
    return value


def test_consume_then_status_through_a_maintenance_reboot(
    world: World, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    web = world.ids("web")[0]
    before = world.weights()
    not_before = world.cloud.clock.now() + timedelta(hours=2)
    world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)

    summary = _consume(capsys)
    assert "received 1, handled 1, retried 0, dead-lettered 0" in summary

    status = _status(capsys)
    (saga,) = status["in_flight"]
    assert saga["instance_id"] == web and saga["playbook"] == "maintenance"
    assert saga["event"] == "Instance:SystemMaintenance.Reboot:Scheduled" and saga["event_status"] == "Scheduled"
    assert saga["step"] == "wait"
    assert datetime.fromisoformat(saga["next_due"]) == not_before - LEAD  # the timer armed for the drain
    assert datetime.fromisoformat(saga["not_before"]) == not_before
    assert status["drained"] == [] and status["budgets"] == [] and status["finished"] == []

    world.cloud.advance((not_before - LEAD - world.cloud.clock.now()).total_seconds() + 10)  # past the drain start
    _consume(capsys)

    status = _status(capsys)
    (saga,) = status["in_flight"]
    assert saga["drained"] is True and saga["drain_deadline"]
    (drained,) = status["drained"]
    assert drained["instance_id"] == web and drained["holders"] == [saga["key"]]
    originals = sorted((m["group_id"] is None, m["port"], m["weight"]) for m in drained["memberships"])
    assert originals == [(False, 8080, 80), (True, None, 100)]  # the weights before the drain, not 0
    assert world.weights_of(web) == [0, 0]
    (budget,) = status["budgets"]
    assert list(budget["holders"]) == [web]
    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert "in flight (1):" in text and "drained (1):" in text and "original weight 100" in text

    for _ in range(240):  # the drain period, snapshots, the reboot, health: 30 s at a time, as a timer trigger would
        world.cloud.advance(30)
        _consume(capsys)
        if not _status(capsys)["in_flight"]:
            break

    status = _status(capsys)
    assert status["in_flight"] == [] and status["drained"] == [] and status["budgets"] == []
    (finished,) = status["finished"]
    assert finished["key"] == saga["key"] and finished["status"] == "succeeded"
    assert finished["outcome"] == "succeeded" and finished["last"] == "close: closed: succeeded"
    assert world.weights() == before
    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert "finished (latest 1):" in text and f"{saga['key']}  succeeded/succeeded" in text
    assert f"    {finished['last']}" in text.splitlines()
    assert "in flight" not in text and "drained" not in text


def test_consume_max_batches(world: World, cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consume", "--max-batches", "2", "--wait", "0"]) == 0
    assert capsys.readouterr().out == (
        "consumed 2 batches: received 0, handled 0, retried 0, dead-lettered 0, notices sent 0\n"
    )


def test_status_on_an_empty_store_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none" / "store.sqlite3"
    monkeypatch.setenv("ECS_EVENTS_STORE", f"sqlite:///{missing}")
    monkeypatch.delenv("ECS_EVENTS_LOCALCLOUD", raising=False)
    assert main(["status"]) == 0
    assert capsys.readouterr().out == "no sagas\n"
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "in_flight": [],
        "finished": [],
        "drained": [],
        "budgets": [],
        "outbox": {"pending": 0, "dead": []},
        "unreadable": [],
    }
    assert not missing.parent.exists()


def test_status_shows_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    monkeypatch.setenv("ECS_EVENTS_STORE", url)
    monkeypatch.delenv("ECS_EVENTS_LOCALCLOUD", raising=False)
    at = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
    notices = [
        Notice(id=f"n-{i}", phase="info", level="info", title=f"notice {i}", text="", at=at, event_id="e-1",
               instance_id="i-1", saga=None, fields={})
        for i in range(3)
    ]  # fmt: skip
    store = open_store(url)
    try:
        assert store.commit(outbox_writes(notices))
        doc = store.get("outbox/n-2")
        assert doc is not None
        value = {**doc.value, "status": "dead", "attempts": 10, "last_error": "webhook: HTTP 500"}
        assert store.commit([Write(doc.key, value, doc.version)])
    finally:
        store.close()
    status = _status(capsys)
    assert status["outbox"] == {
        "pending": 2,
        "dead": [{"key": "outbox/n-2", "title": "notice 2", "attempts": 10, "last_error": "webhook: HTTP 500"}],
    }
    assert main(["status"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "no sagas",
        "outbox: 2 pending, 1 dead",
        "  dead outbox/n-2: notice 2: webhook: HTTP 500",
    ]


def test_bad_settings_are_one_line_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ECS_EVENTS_ACCOUNT_ID", raising=False)
    monkeypatch.setenv("ECS_EVENTS_STORE", "memory://")
    assert main(["consume", "--until-idle"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "ecs-events: consume: ECS_EVENTS_ACCOUNT_ID: required to act (the account whose events are handled)\n"

    assert main(["consume", "--wait", "forever"]) == 2
    assert capsys.readouterr().err == "ecs-events: consume: --wait: expected a whole number 0..30, got 'forever'\n"

    monkeypatch.setenv("ECS_EVENTS_ACCOUNT_ID", "1234567890123456")
    monkeypatch.setenv("ECS_EVENTS_POLICY", "/nonexistent/policy.yaml")
    assert main(["consume"]) == 2
    assert capsys.readouterr().err == "ecs-events: consume: /nonexistent/policy.yaml: no such file\n"

    monkeypatch.setenv("ECS_EVENTS_STORE", "postgres://db/ecs")
    for command in ("status", "consume"):
        assert main([command]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ecs-events: {command}: ECS_EVENTS_STORE: unsupported store URL")
        assert len(err.splitlines()) == 1

    monkeypatch.setenv("ECS_EVENTS_STORE", "memory://")
    assert main(["status", "--limit", "-1"]) == 2
    assert capsys.readouterr().err == "ecs-events: status: --limit: expected a whole number >= 0, got '-1'\n"


def test_ctrl_c_stops_after_the_current_batch(world: World, cli_env: str) -> None:
    """A real process and a real SIGINT: the batch in hand finishes, the summary is printed, exit 0."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from ecs_events.cli import main; sys.exit(main())",
            "consume",
            "--wait",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        first = process.stderr.readline()  # the JSON log line saying it is consuming: the signal handler is in place
        assert json.loads(first)["message"] == "consuming queue ecs-events (Ctrl-C stops)"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "stopping after the current batch" in err and "Traceback" not in err
    assert out.startswith("consumed ") and "received 0" in out and len(out.splitlines()) == 1


def test_status_shows_a_snapshot_wait_s_backstop_look_not_a_spent_timer(
    world: World, cli_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that news wakes has no timer of its own (issue "performance"): its next look is its backstop, which
    the reconciler takes; the time of the last timer, long past, is no answer to "when next"."""
    from localcloud.emit import rules_router

    deliver = rules_router(world.cloud.cms, world.cloud.mns)
    lossy = [lambda n: None if str(n.get("name", "")).startswith("Snapshot:") else deliver(n)]  # CloudMonitor loses
    monkeypatch.setattr(world.cloud.ctx.events, "routers", lossy)  # them; the shared localcloud gets its own back
    web = world.ids("web")[0]
    not_before = world.cloud.clock.now() + timedelta(minutes=40)
    world.cloud.ecs.create_system_event(web, "SystemMaintenance.Reboot", not_before)
    _consume(capsys)
    for _ in range(40):  # past the drain start and the drain period: the snapshots are taken
        world.cloud.advance(30)
        _consume(capsys)
        (saga,) = _status(capsys)["in_flight"]
        if saga["step"] == "snapshot":
            break
    world.cloud.advance(30)
    _consume(capsys)
    (saga,) = _status(capsys)["in_flight"]
    assert saga["step"] == "snapshot"
    assert datetime.fromisoformat(saga["next_due"]) > world.cloud.clock.now()  # the backstop look, to come
