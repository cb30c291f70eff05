"""Reliability harness: a maintenance storm over a served localcloud, remediated by real consumer processes
(the fixtures are in tests/reliability/conftest.py).

One served localcloud SUBPROCESS per test (``python -m localcloud --manual-clock --port 0``), a real Redis store
(FLUSHDB first), a fleet of N managed instances (each with a data disk) behind 10 load balancers, and every
CloudMonitor notification routed to a RAW queue. The ``pump`` reads the raw queue and sends every notification
THREE times, shuffled, to the events queue: duplicated and reordered delivery, as MNS allows. After each clock
step, 4 ``ecs-events consume --until-idle`` processes run concurrently; time moves in steps until every saga is
finished or a bound is hit. Everything asserted is read off the cloud (its call log, its SDK answers), not off our
own records, except "no saga left unfinished" and "nothing left drained", which are about the store by definition.

Figures go to the terminal summary (``make test`` shows them): ``report(title, lines)``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from localcloud.remote import RemoteCloud

BIN = Path(sys.executable).parent
QUEUE = "ecs-events"
RAW = "ecs-events-raw"
ACCOUNT = "1234567890123456"
REGION = "cn-hangzhou"
KEY = ("LTAI-localcloud", "localcloud-secret")
TAG = {"ecs-events:managed": "true"}
LBS = 10
CONSUMERS = 4
WEIGHT = 100
POLICY = "lead: 3h\n"  # 3 h of lead: at 2 instances per load balancer at a time, the whole fleet fits before notBefore
MNS_ACTIONS = frozenset({"SendMessage", "BatchSendMessage", "ReceiveMessage", "BatchReceiveMessage",
                         "DeleteMessage", "BatchDeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes",
                         "CreateQueue"})  # fmt: skip

FIGURES: list[tuple[str, list[str]]] = []


def soak() -> bool:
    """``ECS_EVENTS_SOAK=1`` (``make soak``): the big storm."""
    return os.environ.get("ECS_EVENTS_SOAK") == "1"


def report(title: str, lines: list[str]) -> None:
    """Figures for the terminal summary, also on stderr right away (visible with ``-s``)."""
    FIGURES.append((title, lines))
    print(f"\n== {title}\n" + "\n".join(f"   {line}" for line in lines), file=sys.stderr)


# -- the served cloud and the store -------------------------------------------------------------------------------
@contextmanager
def serve_localcloud() -> Iterator[RemoteCloud]:
    """``python -m localcloud --manual-clock --port 0`` in its own process; its control API client."""
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "--manual-clock", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        endpoint = ""
        for line in process.stdout:
            if "http://" in line:
                endpoint = line[line.index("http://") :].split()[0].rstrip("/")
                break
        assert endpoint, "localcloud did not print its endpoint"
        # Keep reading its output so a chatty server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
        yield RemoteCloud(endpoint.removesuffix("/_localcloud"), timeout=300)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def flush(redis_url: str) -> str:
    """FLUSHDB: every storm starts from an empty store."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_url


# -- the harness -------------------------------------------------------------------------------------------------------
@dataclass
class Round:
    """One run of the consumer processes."""

    exits: list[int]
    killed: int
    seconds: float


@dataclass
class Storm:
    cloud: RemoteCloud
    store_url: str
    tmp: Path
    n: int
    seed: int = 7
    lease_seconds: float | None = None
    instances: list[str] = field(default_factory=list)
    disks: dict[str, list[str]] = field(default_factory=dict)  # instance -> its disk ids (system + data)
    lbs: list[str] = field(default_factory=list)
    events: dict[str, str] = field(default_factory=dict)  # instance -> event id
    not_before: datetime | None = None
    rounds: list[Round] = field(default_factory=list)
    pumped: int = 0
    clock_seconds: float = 0.0  # wall time spent stepping the clock and pumping
    consumer_seconds: float = 0.0  # wall time the consumer processes ran
    simulated: timedelta = timedelta(0)
    steps: int = 0
    reconciles: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        policy = self.tmp / "policy.yaml"
        policy.write_text(POLICY)
        self.env = {
            **os.environ,
            "ECS_EVENTS_ACCOUNT_ID": ACCOUNT,
            "ECS_EVENTS_LOCALCLOUD": self.cloud.url,
            "ECS_EVENTS_STORE": self.store_url,
            "ECS_EVENTS_QUEUE": QUEUE,
            "ECS_EVENTS_POLICY": str(policy),
        }
        self.env.pop("ALIBABA_CLOUD_ACCESS_KEY_ID", None)
        if self.lease_seconds is not None:
            self.env["ECS_EVENTS_LEASE_SECONDS"] = str(self.lease_seconds)
        from ecs_events.store import open_store

        self.store = open_store(self.store_url)

    # -- setup --
    def build(self) -> None:
        """N instances with a data disk, behind 10 load balancers (N/10 each, default group), events to RAW."""
        per_lb = self.n // LBS
        instances: list[dict[str, Any]] = []
        lbs: list[dict[str, Any]] = []
        for i in range(LBS):
            names = []
            for j in range(0, per_lb, 100):  # a fleet group holds at most 100 instances
                name = f"g{i}-{j // 100}"
                names.append(name)
                count = min(100, per_lb - j)
                instances.append({"name": name, "count": count, "tags": TAG, "disks": [{"size": 40}]})
            lbs.append({"name": f"lb{i}", "backends": [{"instances": n, "weight": WEIGHT} for n in names]})
        fleet = self.cloud.load_fleet({"instances": instances, "load_balancers": lbs})
        self.instances = list(fleet["instance_ids"])
        self.lbs = [fleet["load_balancers"][f"lb{i}"] for i in range(LBS)]
        self.cloud.advance(60)
        self.cloud.route_events_to_queue(RAW)
        account = self.mns()
        for name in (QUEUE, f"{QUEUE}-dlq"):
            account.get_queue(name).create(_queue_meta())
        self.disks = self.read_disks()

    def schedule(self) -> None:
        """A maintenance reboot for every instance at once, notBefore = now + 4 h."""
        self.not_before = self.cloud.now() + timedelta(hours=4)
        for iid in self.instances:
            self.events[iid] = self.cloud.simulate(iid, "SystemMaintenance.Reboot", self.not_before)

    # -- SDK access (the operator's view) --
    def acs(self) -> Any:
        from aliyunsdkcore.client import AcsClient

        client = AcsClient(*KEY, REGION, auto_retry=False)
        for product in ("Ecs", "Slb"):
            client.add_endpoint(REGION, product, self.cloud.url.removeprefix("http://"))
        return client

    def mns(self) -> Any:
        from mns.account import Account

        return Account(self.cloud.url, *KEY)

    def sdk(self, request: Any) -> dict[str, Any]:
        from localcloud.testing import sdk_call

        result: dict[str, Any] = sdk_call(self.acs(), request)
        return result

    def read_disks(self) -> dict[str, list[str]]:
        from aliyunsdkecs.request.v20140526.DescribeDisksRequest import DescribeDisksRequest

        out: dict[str, list[str]] = {}
        page = 1
        while True:
            request = DescribeDisksRequest()
            request.set_PageSize(100)
            request.set_PageNumber(page)
            disks = self.sdk(request)["Disks"]["Disk"]
            for disk in disks:
                out.setdefault(disk["InstanceId"], []).append(disk["DiskId"])
            if len(disks) < 100:
                return out
            page += 1

    # -- the pump: every notification 3 times, shuffled --
    def pump(self) -> int:
        """Move every visible raw notification to the events queue three times, in shuffled order."""
        from mns.queue import Message

        raw, events = self.mns().get_queue(RAW), self.mns().get_queue(QUEUE)
        bodies: list[str] = []
        while True:
            got = _mns_retry(lambda: raw.batch_receive_message(16, 0))
            if not got:
                break
            bodies += [_text(m.message_body) for m in got]
            handles = [m.receipt_handle for m in got]
            _mns_retry(partial(raw.batch_delete_message, handles))
        copies = bodies * 3
        self.rng.shuffle(copies)
        for start in range(0, len(copies), 16):
            chunk = [Message(body) for body in copies[start : start + 16]]
            _mns_retry(partial(events.batch_send_message, chunk))
        self.pumped += len(bodies)
        return len(bodies)

    # -- consumers --
    def consume(self, kill: Callable[[list[subprocess.Popen[str]]], int] | None = None) -> Round:
        """4 ``consume --until-idle`` processes at once; ``kill`` may SIGKILL some while they run."""
        started = time.monotonic()
        procs = [
            subprocess.Popen(
                [str(BIN / "ecs-events"), "consume", "--until-idle", "--wait", "0"],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(CONSUMERS)
        ]
        outputs: list[tuple[str, str]] = [("", "")] * len(procs)

        def collect(i: int) -> None:
            outputs[i] = procs[i].communicate(timeout=600)

        readers = [threading.Thread(target=collect, args=(i,)) for i in range(len(procs))]
        for reader in readers:
            reader.start()
        killed = kill(procs) if kill else 0
        for reader in readers:
            reader.join()
        exits = [p.returncode for p in procs]
        for code, (_, err) in zip(exits, outputs, strict=True):
            if code not in (0, -signal.SIGKILL):
                tail = "\n".join(err.strip().splitlines()[-5:])
                assert code in self.allowed_exits, f"consumer exit {code}:\n{tail}"
        result = Round(exits, killed, time.monotonic() - started)
        self.consumer_seconds += result.seconds
        self.rounds.append(result)
        return result

    allowed_exits: tuple[int, ...] = (0,)

    def settle(self, kill: Callable[[list[subprocess.Popen[str]]], int] | None = None) -> None:
        """At one clock time: pump what the cloud emitted, then one round of consumers. What the consumers' own
        actions make the cloud emit is pumped at the next step (a CloudMonitor a step late)."""
        self._timed(self.pump)
        self.consume(kill)

    def _timed(self, fn: Callable[[], Any]) -> Any:
        started = time.monotonic()
        try:
            return fn()
        finally:
            self.clock_seconds += time.monotonic() - started

    def run(
        self,
        step: float = 60.0,
        bound: int = 400,
        kill: Callable[[int, list[subprocess.Popen[str]]], int] | None = None,
        reconcile_every: float | None = None,
    ) -> None:
        """Step the clock until every saga is finished (or ``bound`` steps). Quiet stretches (no saga due, nothing
        emitted) are crossed in one move to the next saga's due time. ``reconcile_every``: simulated seconds between
        ``ecs-events reconcile --once`` passes (as the deployed reconciler function), after the consumers' round."""
        self.settle()
        last_pass = timedelta(0)
        while self.steps < bound:
            if self.finished():
                return
            seconds = float(self._timed(lambda: self._next_step(step)))
            self._timed(partial(self.cloud.advance, seconds))
            self.simulated += timedelta(seconds=seconds)
            self.steps += 1
            self.settle(partial(kill, self.steps) if kill else None)
            if reconcile_every is not None and (self.simulated - last_pass).total_seconds() >= reconcile_every:
                last_pass = self.simulated
                self.reconcile()

    def reconcile(self) -> None:
        """One reconciler pass, as the deployed ``reconciler`` function runs it."""
        started = time.monotonic()
        command = [str(BIN / "ecs-events"), "reconcile", "--once"]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        self.reconciles += 1
        self.consumer_seconds += time.monotonic() - started

    def _next_step(self, step: float) -> float:
        """``step``, or more when no active saga is due before then and the raw queue is empty."""
        from ecs_events.models.times import parse_time

        if self.pump():  # the cloud emitted something since: deliver it at the next step, no jump
            return step
        now = self.cloud.now()
        due = [parse_time(s["wake_at"]) for s in self.sagas() if s["status"] == "active" and s.get("wake_at")]
        if not due or len(due) < sum(1 for s in self.sagas() if s["status"] == "active"):
            return step
        gap = (min(due) - now).total_seconds()
        return max(step, step * (gap // step)) if gap > step else step

    # -- state --
    def sagas(self) -> list[dict[str, Any]]:
        return [d.value for d in self.store.scan("saga/")]

    def finished(self) -> bool:
        sagas = self.sagas()
        return len(sagas) == len(self.instances) and all(s["status"] != "active" for s in sagas)

    def unfinished(self) -> str:
        """What the sagas still active wait for (for a failure message)."""
        out = []
        for s in self.sagas():
            if s["status"] == "active":
                step = s["steps"][s["cursor"]] if s["cursor"] < len(s["steps"]) else {}
                out.append(
                    f"{s['instance_id']}: {step.get('action')} {step.get('state')} at {step.get('at')}, wake_at "
                    f"{s.get('wake_at')}, lease {s.get('lease_owner')}, last: {s['history'][-1]['what'][:80]}"
                )
        missing = len(self.instances) - len(self.sagas())
        return f"{missing} saga(s) never started; " + "; ".join(out[:5]) + "; dead letters: " + self.dead_letters()

    def dead_letters(self) -> str:
        """The dead-letter queue's reasons (read, then left invisible)."""
        dlq = self.mns().get_queue(f"{QUEUE}-dlq")
        reasons: list[str] = []
        while got := _mns_retry(lambda: dlq.batch_receive_message(16, 0)):
            reasons += [json.loads(_text(m.message_body)).get("reason", "?")[:120] for m in got]
        return f"{len(reasons)} {reasons[:3]}"

    def calls(self) -> list[dict[str, Any]]:
        return self.cloud.calls()


def _text(body: str | bytes) -> str:
    return body.decode() if isinstance(body, bytes) else body


def _queue_meta() -> Any:
    from mns.queue import QueueMeta

    meta = QueueMeta()
    meta.set_visibilitytimeout(30)
    return meta


def _mns_retry(fn: Callable[[], Any]) -> Any:
    """The test's own MNS calls under the same injected faults: retried; MessageNotExist means empty."""
    from mns.mns_exception import MNSExceptionBase

    for attempt in range(30):
        try:
            return fn()
        except MNSExceptionBase as exc:
            if exc.type == "MessageNotExist":
                return []
            if exc.type == "QueueAlreadyExist":
                return None
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("the harness's MNS call kept failing")


# -- end-state checks from the cloud -----------------------------------------------------------------------------------
def replay_budget(calls: list[dict[str, Any]], lbs: list[str]) -> dict[str, int]:
    """Most backends at weight 0 at once per load balancer, replaying the successful SetBackendServers in order."""
    weights: dict[str, dict[str, int]] = {lb: {} for lb in lbs}
    worst: Counter[str] = Counter()
    for call in calls:
        if call["action"] != "SetBackendServers" or call["code"] is not None:
            continue
        lb = call["params"]["LoadBalancerId"]
        for server in json.loads(call["params"]["BackendServers"]):
            weights[lb][server["ServerId"]] = int(server["Weight"])
        worst[lb] = max(worst[lb], sum(1 for w in weights[lb].values() if w == 0))
    return dict(worst)


INJECTED = frozenset({"Throttling", "InternalError", "ServiceUnavailable", "ConnectionReset"})  # fault answers


def slb_changes(calls: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Each server's weights as the successful SetBackendServers calls set them, in order."""
    out: dict[str, list[int]] = {}
    for call in calls:
        if call["action"] == "SetBackendServers" and call["code"] is None:
            for server in json.loads(call["params"]["BackendServers"]):
                out.setdefault(server["ServerId"], []).append(int(server["Weight"]))
    return out


def check_end_state(
    storm: Storm,
    calls: list[dict[str, Any]],
    outcomes: tuple[str, ...] = ("succeeded",),
) -> dict[str, Any]:
    """Every property the storm must end with, from the cloud; returns figures for the report."""
    from aliyunsdkecs.request.v20140526.DescribeInstanceHistoryEventsRequest import (
        DescribeInstanceHistoryEventsRequest,
    )
    from aliyunsdkecs.request.v20140526.DescribeSnapshotsRequest import DescribeSnapshotsRequest
    from aliyunsdkslb.request.v20140515.DescribeLoadBalancerAttributeRequest import (
        DescribeLoadBalancerAttributeRequest,
    )

    storm.cloud.clear_faults()
    ok = [c for c in calls if c["code"] is None]
    # Exactly one RebootInstance per instance: every attempt counts but those an injected fault refused (a second
    # attempt the cloud refused, IncorrectInstanceStatus, is still an attempt to reboot twice).
    tried = [c for c in calls if c["action"] == "RebootInstance" and c["code"] not in INJECTED]
    reboots = Counter(c["params"]["InstanceId"] for c in tried)
    assert set(reboots) == set(storm.instances), f"{len(storm.instances) - len(reboots)} instance(s) never rebooted"
    twice = {i: n for i, n in reboots.items() if n != 1}
    assert not twice, f"rebooted more than once: {sorted(twice.items())[:5]}"
    # One snapshot per disk: the snapshots that exist, read back through the SDK.
    snapshots: Counter[str] = Counter()
    page = 1
    while True:
        request = DescribeSnapshotsRequest()
        request.set_PageSize(100)
        request.set_PageNumber(page)
        found = storm.sdk(request)["Snapshots"]["Snapshot"]
        snapshots.update(s["SourceDiskId"] for s in found)
        if len(found) < 100:
            break
        page += 1
    every_disk = {d for disks in storm.disks.values() for d in disks}
    assert set(snapshots) == every_disk, f"{len(every_disk - set(snapshots))} disk(s) without a snapshot"
    extra = {d: n for d, n in snapshots.items() if n != 1}
    assert not extra, f"more than one snapshot of {sorted(extra.items())[:5]}"
    # Every system event Avoided, and our reboot before its notBefore.
    assert storm.not_before is not None
    avoided: dict[str, str] = {}
    page = 1
    while True:
        request = DescribeInstanceHistoryEventsRequest()
        request.set_PageSize(100)
        request.set_PageNumber(page)
        found = storm.sdk(request)["InstanceSystemEventSet"]["InstanceSystemEventType"]
        avoided.update({e["EventId"]: e["EventCycleStatus"]["Name"] for e in found})
        if len(found) < 100:
            break
        page += 1
    statuses = Counter(avoided.get(e, "not finished") for e in storm.events.values())
    assert statuses == Counter({"Avoided": len(storm.instances)}), statuses
    from ecs_events.models.times import parse_time

    last = max(parse_time(c["time"]) for c in ok if c["action"] == "RebootInstance")
    assert last < storm.not_before, f"a reboot at {last} after notBefore {storm.not_before}"
    # Every weight back, read through the SDK.
    for lb in storm.lbs:
        request = DescribeLoadBalancerAttributeRequest()
        request.set_LoadBalancerId(lb)
        servers = storm.sdk(request)["BackendServers"]["BackendServer"]
        assert {s["Weight"] for s in servers} == {WEIGHT}, f"{lb}: weights not restored"
    # Drained once, restored once: weight 0 then the original, per server (a crash may repeat the idempotent drain).
    changes = slb_changes(calls)
    assert set(changes) == set(storm.instances), "an instance was never drained"
    repeats = 0
    for server, seen in changes.items():
        # A drain or restore whose commit lost a race is repeated (idempotent: the same weights again); a drain
        # AFTER the restore, or weights other than 0 and the original, would be a second remediation.
        shape = [w for i, w in enumerate(seen) if i == 0 or w != seen[i - 1]]
        repeats += len(seen) - len(shape)
        assert shape == [0, WEIGHT], f"{server}: weights set {seen}"
    # The budget at every moment: max(1, 10% of each load balancer's backends).
    limit = max(1, (storm.n // LBS) // 10)
    worst = replay_budget(calls, storm.lbs)
    assert max(worst.values()) <= limit, f"budget {limit} exceeded: {worst}"
    assert max(worst.values()) >= 1
    # Nothing left behind in the store: every saga finished, nothing drained.
    sagas = storm.sagas()
    assert len(sagas) == len(storm.instances)
    finished = Counter(s["status"] for s in sagas)
    assert set(finished) <= set(outcomes), finished
    assert storm.store.scan("drain/") == []
    return {
        "slb_repeats": repeats,
        "budget_limit": limit,
        "budget_worst": max(worst.values()),
        "reboot_last": last,
        "outcomes": finished,
    }


def figures(storm: Storm, calls: list[dict[str, Any]], wall: float) -> list[str]:
    by_action = Counter(c["action"] for c in calls)
    failed = Counter(c["action"] for c in calls if c["code"] not in (None, "MessageNotExist"))  # empty: no retry
    cloud = sum(n for a, n in by_action.items() if a not in MNS_ACTIONS)
    mns = sum(n for a, n in by_action.items() if a in MNS_ACTIONS)
    n = len(storm.instances)
    lines = [
        f"instances {n}, load balancers {len(storm.lbs)}, notifications pumped {storm.pumped} (x3 delivered)",
        f"wall {wall:.1f} s (consumers {storm.consumer_seconds:.1f} s, clock+pump {storm.clock_seconds:.1f} s), "
        f"simulated {storm.simulated}, clock steps {storm.steps}, consumer rounds {len(storm.rounds)}",
        f"API calls: ECS+SLB {cloud} ({cloud / n:.2f} per remediated instance), MNS {mns} ({mns / n:.2f} per instance)",
        "by action: " + ", ".join(f"{a} {c}" for a, c in sorted(by_action.items(), key=lambda x: -x[1])),
        f"retries (calls answered with an error code): {sum(failed.values())}"
        + (": " + ", ".join(f"{a} {c}" for a, c in failed.most_common()) if failed else ""),
    ]
    return lines
