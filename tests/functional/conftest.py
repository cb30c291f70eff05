"""Functional tests: the engine end to end, the real SDKs over HTTP against localcloud, a real store.

``world`` gives a fleet behind a load balancer (a default server group and a VServer group), CloudMonitor events
routed to the events queue, and ``world.run(seconds)`` that moves the cloud clock forward in steps, running the
queue consumer after each step until it is idle: what a timer-triggered consumer does in production.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.notify.notify_support import Receiver, serve_receiver

from ecs_events.runtime.app import App, build_app
from ecs_events.runtime.consumer import Report
from ecs_events.runtime.settings import Settings
from ecs_events.tools.subscribe import subscribe
from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetSummary

QUEUE = "ecs-events"
TAG = {"ecs-events:managed": "true"}

FLEET: dict[str, Any] = {
    "instances": [
        {"name": "web", "count": 3, "tags": {"app": "web", **TAG}, "disks": [{"size": 100, "category": "cloud_essd"}]},
        {"name": "db", "count": 1, "tags": {"app": "db", **TAG}, "disks": [{"size": 500, "category": "cloud_essd"}]},
        {"name": "batch", "count": 1, "preemptible": True, "tags": {"app": "batch", **TAG}},
        {"name": "stray", "count": 1, "tags": {"app": "web"}},
    ],
    "load_balancers": [
        {
            "name": "web-lb",
            "backends": [{"instances": "web", "weight": 100}, {"instances": "stray", "weight": 50},
                         {"instances": "batch", "weight": 30}],
            "vserver_groups": [{"name": "web-8080", "backends": [{"instances": "web", "port": 8080, "weight": 80}]}],
        }
    ],
}  # fmt: skip


@dataclass
class World:
    cloud: LocalCloud
    fleet: FleetSummary
    make_app: Callable[..., App]
    app: App
    reports: list[Report] = field(default_factory=list)

    def ids(self, group: str) -> list[str]:
        return self.fleet.instances[group]

    def consume(self, app: App | None = None) -> Report:
        report = (app or self.app).consumer.run(until_idle=True, wait_seconds=0)
        self.reports.append(report)
        return report

    def run(self, seconds: float, step: float = 5.0, app: App | None = None) -> None:
        """Advance the clock ``seconds`` in ``step``s, consuming until idle after each step."""
        self.consume(app)
        moved = 0.0
        while moved < seconds:
            self.cloud.advance(min(step, seconds - moved))
            moved += step
            self.consume(app)

    def weights(self) -> dict[tuple[str, int | None, str], int]:
        """(load balancer or VServer group, port, server) -> weight, read off the fake's state, not our records."""
        slb, account, region = self.cloud.slb, self.cloud.account_id, self.cloud.region_id
        out: dict[tuple[str, int | None, str], int] = {}
        for lb_id in slb.load_balancer_ids(account, region):
            for server_id, weight in slb.backends(account, region, lb_id).items():
                out[(lb_id, None, server_id)] = weight
            for group_id in slb.vserver_groups(account, region, lb_id):
                for (server_id, port), weight in slb.group_backends(account, region, group_id).items():
                    out[(group_id, port, server_id)] = weight
        return out

    def weights_of(self, instance_id: str) -> list[int]:
        return [w for (_, _, server), w in sorted(self.weights().items(), key=str) if server == instance_id]

    def calls(self, action: str) -> list[Any]:
        return self.cloud.call_log.calls(action)

    def mutating_calls(self) -> list[Any]:
        """Every call that changes the fleet (not MNS, not Describe*/Get*)."""
        return [
            c
            for c in self.cloud.call_log.calls()
            if c.product in ("Ecs", "Slb") and not c.action.startswith(("Describe", "Get"))
        ]

    def event_statuses(self, event_id: str) -> list[str]:
        return [e["content"]["eventStatus"] for e in self.cloud.emitted if e["content"].get("eventId") == event_id]

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every message in the dead-letter queue (read through the MNS SDK, then left invisible)."""
        queue = self.cloud.mns_account().get_queue(f"{QUEUE}-dlq")
        out: list[dict[str, Any]] = []
        try:
            while True:
                for message in queue.batch_receive_message(16, 0):
                    out.append(json.loads(message.message_body))
        except Exception as exc:  # MessageNotExist: the queue is drained
            if getattr(exc, "type", "") != "MessageNotExist":
                raise
        return out

    def send_notification(self, notification: dict[str, Any]) -> None:
        """Deliver a CloudMonitor notification to the events queue the way CloudMonitor does (base64 JSON): for
        statuses localcloud cannot produce by itself."""
        queue = self.cloud.mns_account().get_queue(QUEUE)
        from mns.queue import Message

        queue.send_message(Message(json.dumps(notification)))

    def notification(self, instance_id: str, name: str, content: dict[str, Any]) -> dict[str, Any]:
        account, region = self.cloud.account_id, self.cloud.region_id
        return {
            "ver": "1.0",
            "id": f"test-{len(self.cloud.emitted)}-{name}",
            "product": "ECS",
            "resourceId": f"acs:ecs:{region}:{account}:instance/{instance_id}",
            "level": "CRITICAL",
            "name": name,
            "userId": account,
            "eventTime": "20261126T100000.000+0800",
            "regionId": region,
            "content": content,
        }


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real local webhook / DingTalk receiver (see tests/notify/notify_support.py)."""
    with serve_receiver() as received:
        yield received


@pytest.fixture
def world(localcloud: LocalCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mocker: Any) -> Iterator[World]:
    mocker.patch("ecs_events.retry.sleep")  # retries never wait for real in tests
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID", raising=False)
    fleet = localcloud.load_fleet(FLEET)
    localcloud.advance(60)  # everything Running
    localcloud.mns.create_queue(localcloud.account_id, QUEUE)  # events reach it through the CloudMonitor rule
    localcloud.mns.create_queue(localcloud.account_id, f"{QUEUE}-dlq")

    apps: list[App] = []

    def make_app(**overrides: Any) -> App:
        values: dict[str, Any] = {
            "account_id": localcloud.account_id,
            "region": localcloud.region_id,
            "queue": QUEUE,
            "store": f"sqlite:///{tmp_path / 'store.sqlite3'}",
            "localcloud": localcloud.url,
        }
        values.update(overrides)
        app = build_app(Settings(**values))
        apps.append(app)
        return app

    world = World(localcloud, fleet, make_app, make_app())
    assert subscribe(world.app.settings) == "created"  # the rule `ecs-events subscribe` puts, as in production
    localcloud.call_log.clear()  # the setup (fleet, rule) is the operator's, not the engine's: tests see only theirs
    try:
        yield world
    finally:
        for app in apps:
            app.close()
