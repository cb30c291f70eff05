"""Queue consumer throughput: messages/s through ``ecs_events.runtime.consumer.Consumer`` (BatchReceiveMessage of 16,
one BatchDeleteMessage per batch) against a one-message-at-a-time loop (ReceiveMessage, handle, DeleteMessage) doing the
same handler work with the same engine and store, side by side in one run.

    .venv/bin/python bench/consumer.py [--rounds 5] [--messages 2000] [--saga-messages 200] [--served] [--quick]

In-process LocalCloud (real SDKs over HTTP on loopback; ``--served``: in a subprocess, so the fake's own CPU does not
share this process's GIL). Each round pre-fills a fresh queue with K new messages for each side, then runs baseline
and subject in an order that alternates per round; best and median of the rounds.

- cheap: ``Instance:StateChange`` Running of fleet instances with no saga (the engine reads the store and ignores
  it): the queue mechanics dominate. Target: subject >= 5x baseline.
- sagas: ``SystemMaintenance.Reboot`` Scheduled (notBefore in 2 days), one new saga per message (DescribeInstances,
  saga and notices committed, a timer sent): the handler work dominates; no target, read it as the floor.

The baseline sends the notices of its events once at the end of its loop; the subject's Consumer delivers them after
every batch, as it does in production. Engine, outbox and consumer are wired as ``ecs_events.runtime.app.build_app``
wires them, except the clock: the in-process cloud's own (served: the wall clock, as on FC), not an HTTP read of the
localcloud clock per ``now()``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

# bench/localcloud.py is named like the package: keep bench/ off the import path so `localcloud` is the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from ecs_events.engine.engine import Engine  # noqa: E402
from ecs_events.engine.timers import Timers, parse_wake  # noqa: E402
from ecs_events.models.times import iso_utc  # noqa: E402
from ecs_events.notify.outbox import Outbox  # noqa: E402
from ecs_events.notify.senders import senders_from_urls  # noqa: E402
from ecs_events.policy import load_policy  # noqa: E402
from ecs_events.runtime.app import LOCALCLOUD_KEY  # noqa: E402
from ecs_events.runtime.clients import Clients, Credentials  # noqa: E402
from ecs_events.runtime.clock import system_now  # noqa: E402
from ecs_events.runtime.consumer import Consumer  # noqa: E402
from ecs_events.runtime.settings import load_settings  # noqa: E402
from ecs_events.sources import Source, TimerTick, unwrap  # noqa: E402
from ecs_events.store import Store, open_store  # noqa: E402
from localcloud.cloud import LocalCloud  # noqa: E402
from localcloud.core import DEFAULT_ACCOUNT_ID, DEFAULT_REGION  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "events" / "samples" / "cloudmonitor"
TAG = {"ecs-events:managed": "true"}
FLEET: dict[str, Any] = {
    "instances": [{"name": "web", "count": 8, "tags": {"app": "web", **TAG}}, {"name": "other", "count": 2}],
    "load_balancers": [{"name": "web-lb", "backends": [{"instances": "web", "weight": 100}]}],
}
TIMERS, DLQ = "bench-timers", "bench-dlq"  # saga timers land in their own queue: the measured queues hold only work
TARGET = 5.0


class Cloud:
    """The cloud the bench talks to: an in-process LocalCloud (default), or with ``--served`` a
    ``python -m localcloud`` subprocess, so the fake's own CPU does not share this process's GIL (as a remote MNS's
    would not). Either way the SDKs go over HTTP on loopback."""

    def __init__(self, served: bool) -> None:
        self.local: LocalCloud | None = None
        self.proc: subprocess.Popen[str] | None = None
        if served:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "localcloud", "--manual-clock", "--port", "0", "--idle-timeout", "300"],
                cwd=tempfile.gettempdir(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                if line.startswith("endpoint: "):
                    self.url = line.split()[1]
                if line.startswith("control: "):
                    break
            fleet = self._control("/fleet", FLEET)
            self._control("/clock", {"advance": 60})  # everything Running
            self.web, self.every = fleet["instances"]["web"], fleet["instance_ids"]
            self.account_id, self.region_id, self.now = DEFAULT_ACCOUNT_ID, DEFAULT_REGION, system_now
        else:
            self.local = LocalCloud(seed=0, idle_timeout=300).start()
            summary = self.local.load_fleet(FLEET)
            self.local.advance(60)
            self.web, self.every = summary.instances["web"], summary.instance_ids
            self.url, self.account_id, self.region_id = self.local.url, self.local.account_id, self.local.region_id
            self.now = self.local.clock.now
        self.settings = load_settings(
            account_id=self.account_id, region=self.region_id, localcloud=self.url, queue=TIMERS
        )
        self.clients = Clients(self.settings, Credentials(*LOCALCLOUD_KEY, None))

    def _control(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(f"{self.url}/_localcloud{path}", data=json.dumps(body).encode())
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read())

    def fill(self, name: str, bodies: list[str]) -> None:
        """A fresh queue holding ``bodies`` base64-encoded, as CloudMonitor writes them (not measured)."""
        if self.local is not None:
            self.local.mns.create_queue(self.account_id, name)
            for body in bodies:
                self.local.mns.send_message(self.account_id, name, base64.b64encode(body.encode()).decode())
            return
        from mns.queue import Message, QueueMeta

        queue = self.clients.mns_account().get_queue(name)
        queue.create(QueueMeta())
        for start in range(0, len(bodies), 16):
            queue.batch_send_message([Message(body) for body in bodies[start : start + 16]])

    def close(self) -> None:
        if self.local is not None:
            self.local.stop()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


@dataclass
class Wiring:
    cloud: Cloud
    clients: Clients
    engine: Engine
    outbox: Outbox
    store: Store


def wire(cloud: Cloud, store_url: str) -> Wiring:
    """Engine and outbox as ``build_app`` wires them, on the cloud's clock (in-process: its own; served: the wall
    clock, as on FC) rather than an HTTP read of it per ``now()``."""
    clients, settings = cloud.clients, cloud.settings
    store = open_store(store_url)
    engine = Engine(
        store=store,
        ecs=clients.ecs(),
        slb=clients.slb(),
        timers=Timers(clients.queue(TIMERS)),
        policy=load_policy(None),
        account_id=cloud.account_id,
        tag=(settings.tag_key, settings.tag_value),
        now=cloud.now,
    )
    outbox = Outbox(store, senders_from_urls([]), cloud.now)
    return Wiring(cloud, clients, engine, outbox, store)


# -- messages ------------------------------------------------------------------------------------------------------
def _notification(sample: str, cloud: Cloud, instance_id: str, **content: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLES / sample).read_text())
    doc.update(id=str(uuid.uuid4()).upper(), userId=cloud.account_id, regionId=cloud.region_id,
               resourceId=f"acs:ecs:{cloud.region_id}:{cloud.account_id}:instance/{instance_id}")  # fmt: skip
    doc["content"].update(content)
    return doc


def state_changes(cloud: Cloud, instances: list[str], count: int) -> list[str]:
    """Running notices of fleet instances (no saga: read and ignored)."""
    return [
        json.dumps(_notification("instance-statechange-running.json", cloud, iid, resourceId=iid))
        for iid in (instances[i % len(instances)] for i in range(count))
    ]


def maintenances(cloud: Cloud, instances: list[str], count: int) -> list[str]:
    """A scheduled reboot 2 days ahead per message, each its own platform event (its own saga)."""
    not_before = iso_utc(cloud.now() + timedelta(days=2))
    publish = iso_utc(cloud.now())
    return [
        json.dumps(_notification("instance-systemmaintenance-reboot-scheduled.json", cloud, iid, instanceId=iid,
                                 eventId=f"e-bench{uuid.uuid4().hex[:12]}", notBefore=not_before,
                                 publishTime=publish))
        for iid in (instances[i % len(instances)] for i in range(count))
    ]  # fmt: skip


# -- the two sides -------------------------------------------------------------------------------------------------
def subject(w: Wiring, name: str) -> int:
    """The production consumer until the queue is idle (no long poll at the end: wait 0)."""
    consumer = Consumer(w.clients.queue(name), w.clients.queue(DLQ), w.engine, w.outbox, now=w.cloud.now)
    report = consumer.run(until_idle=True, wait_seconds=0)
    if report.retried or report.dead_lettered:
        raise SystemExit(f"consumer: subject retried {report.retried}, dead-lettered {report.dead_lettered}")
    return report.handled


def baseline(w: Wiring, name: str) -> int:
    """ReceiveMessage, the same handling as the consumer's (wake or events into the engine), DeleteMessage."""
    from mns.mns_exception import MNSServerException

    queue = w.clients.mns_account().get_queue(name)
    queue.set_encoding(False)  # the body as on the wire, as the consumer reads it
    handled = 0
    while True:
        try:
            message = queue.receive_message(0)
        except MNSServerException as exc:
            if exc.type == "MessageNotExist":
                break
            raise
        body = message.message_body
        body = body.decode() if isinstance(body, bytes) else body
        wake = parse_wake(body)
        if wake is not None:
            w.engine.wake(wake.saga)
        else:
            for delivery in unwrap(body, hint=Source.MNS_QUEUE):
                if delivery.error is not None:
                    raise SystemExit(f"consumer: baseline could not parse a message: {delivery.error}")
                if delivery.event is not None and not isinstance(delivery.event, TimerTick):
                    w.engine.handle(delivery.event)
        queue.delete_message(message.receipt_handle)
        handled += 1
    w.outbox.deliver()
    return handled


@dataclass
class Side:
    name: str
    run: Callable[[Wiring, str], int]
    rates: list[float] = field(default_factory=list)


def bench(w: Wiring, variant: str, make: Callable[[int], list[str]], count: int, rounds: int) -> tuple[Side, Side]:
    sides = [Side("one at a time", baseline), Side("Consumer (batch 16)", subject)]
    base, ours = sides
    for number in range(rounds):
        for side in sides if number % 2 == 0 else sides[::-1]:
            queue = f"bench-{variant}-{number}-{'base' if side is base else 'ours'}"
            w.cloud.fill(queue, make(count))
            start = time.perf_counter()
            handled = side.run(w, queue)
            elapsed = time.perf_counter() - start
            if handled != count:
                raise SystemExit(f"consumer: {side.name} handled {handled} of {count} messages")
            side.rates.append(count / elapsed)
    return base, ours


def report(variant: str, count: int, base: Side, ours: Side, target: float | None) -> None:
    best, median = max(ours.rates) / max(base.rates), statistics.median(ours.rates) / statistics.median(base.rates)
    for side in (base, ours):
        print(
            f"  {variant:<8}{count:>7}  {side.name:<22}{max(side.rates):>12.0f}{statistics.median(side.rates):>14.0f}"
        )
    verdict = "" if target is None else f"  target >= {target}x: {'MET' if best >= target else 'MISSED'}"
    print(f"  {variant:<8}{'':>7}  {'ratio':<22}{best:>11.2f}x{median:>13.2f}x{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds, both sides once per round (default 5)")
    parser.add_argument("--messages", type=int, default=2000, help="cheap messages per round and side")
    parser.add_argument("--saga-messages", type=int, default=200, help="saga messages per round and side (0: skip)")
    parser.add_argument("--store", default="memory://", help="store URL (default memory://; e.g. sqlite:///PATH)")
    parser.add_argument("--served", action="store_true", help="localcloud in a subprocess, not in this process")
    parser.add_argument("--quick", action="store_true", help="3 rounds, 500 cheap and 100 saga messages")
    args = parser.parse_args()
    rounds, cheap, sagas = (3, 500, 100) if args.quick else (args.rounds, args.messages, args.saga_messages)
    cloud = Cloud(args.served)
    try:
        for name in (TIMERS, DLQ):
            cloud.fill(name, [])
        w = wire(cloud, args.store)
        where = "served localcloud (subprocess)" if args.served else "in-process localcloud"
        print(
            f"consumer: {rounds} rounds, {where}, store {args.store}, python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        )
        print(f"  {'variant':<8}{'msgs':>7}  {'':<22}{'best msg/s':>12}{'median msg/s':>14}")
        base, ours = bench(w, "cheap", lambda n: state_changes(cloud, cloud.every, n), cheap, rounds)
        report("cheap", cheap, base, ours, TARGET)
        if sagas:
            base, ours = bench(w, "sagas", lambda n: maintenances(cloud, cloud.web, n), sagas, rounds)
            report("sagas", sagas, base, ours, None)
        w.store.close()
    finally:
        cloud.close()


if __name__ == "__main__":
    main()
