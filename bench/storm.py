"""The maintenance storm as a benchmark: API calls per remediated instance against the playbook's minimum, and
MNS messages sent per remediated instance against the timers the playbook needs, and the makespan against the
policy's own lower bound, with localcloud limited to 50 QPS per API.

    .venv/bin/python bench/storm.py [--instances 200] [--qps 50] [--step 60] [--kinds clb] [--dump FILE]

The harness is the reliability suites' (tests/reliability/harness.py): a served localcloud (manual clock), a private
redis-server, N managed instances with a data disk behind 10 load balancers, a maintenance reboot for all at once,
every notification delivered 3 times out of order, 4 ``ecs-events consume --until-idle`` processes per clock step.

The fleet is CLB only, so the consumers run with ``ECS_EVENTS_LOAD_BALANCERS=clb`` (``--kinds`` to change it), as
such an account would: every other kind costs one discovery call per drain.

Minimum ECS+SLB calls per instance (one load balancer, its default group, a system and a data disk):
DescribeInstances 4 (the facts when the saga starts, then the opt-in and skip tags read again before the drain, the
snapshots and the reboot: a person may have opted the instance out meanwhile), DescribeLoadBalancers 1,
DescribeLoadBalancerAttribute 1, DescribeVServerGroups 1,
SetBackendServers 2 (drain, restore), DescribeDisks 1, CreateSnapshot 2, RebootInstance 1,
DescribeInstancesFullStatus 1 = 14. MNS calls are counted apart. Target: calls ratio <= 1.1. A drain the budget
defers costs one DescribeLoadBalancers more (its first listing finds the spent budget and stops there).

Messages: what ecs-events itself sends (SendMessage: saga timers, wakes, requeues; the harness delivers
notifications with BatchSendMessage) per remediated instance, against what the playbook needs: one timer per time
gate of its script (the planned start, the end of the drain period, the health look after the reboot) = 3.
Target <= 1.5x. A deferred drain costs one message more (the wake its budget's release sends); gates that news
wakes (a snapshot's completion event, a budget's release) send no timer of their own: the reconciler is their
backstop.

Makespan (simulated time, first drain to last restore) against the policy's own lower bound: the waves the budget
allows (instances per load balancer / budget, rounded up) times the shortest drain-to-restore cycle seen (drain
period + snapshot + reboot + health of one instance). Target <= 1.1x.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

from tests.redis_server import _start, _stop  # noqa: E402
from tests.reliability.harness import MNS_ACTIONS, Storm, check_end_state, serve_localcloud  # noqa: E402

MINIMUM = {
    "DescribeInstances": 4,
    "DescribeLoadBalancers": 1,
    "DescribeLoadBalancerAttribute": 1,
    "DescribeVServerGroups": 1,
    "SetBackendServers": 2,
    "DescribeDisks": 1,
    "CreateSnapshot": 2,
    "RebootInstance": 1,
    "DescribeInstancesFullStatus": 1,
}
NEEDED_MESSAGES = 3  # timers the playbook's script needs per instance (see the module docstring)
LIMITED = [*sorted(MINIMUM), "DescribeSnapshots", "DescribeVServerGroupAttribute", "SetVServerGroupAttribute"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--qps", type=float, default=50.0)
    parser.add_argument("--step", type=float, default=60.0)
    parser.add_argument("--kinds", default="clb", help="ECS_EVENTS_LOAD_BALANCERS for the consumers (default clb)")
    parser.add_argument("--reconcile", type=float, default=300.0, help="simulated seconds between reconciler passes")
    parser.add_argument("--dump", type=Path, help="write every cloud call of the storm (JSON lines) to this file")
    args = parser.parse_args()
    os.environ["ECS_EVENTS_LOAD_BALANCERS"] = args.kinds
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("bench/storm.py: redis-server not found on PATH")
    with tempfile.TemporaryDirectory(prefix="ecs-events-storm-") as work:
        redis, url = _start(binary, Path(work) / "redis.log")
        try:
            with serve_localcloud() as cloud:
                run(cloud, url, Path(work), args)
        finally:
            _stop(redis)


def run(cloud: object, url: str, work: Path, args: argparse.Namespace) -> None:
    from localcloud.remote import RemoteCloud

    assert isinstance(cloud, RemoteCloud)
    started = time.monotonic()
    storm = Storm(cloud, url, work, n=args.instances)
    storm.build()
    storm.schedule()
    setup = len(cloud.calls())
    for action in LIMITED:  # one rule per API: each has its own 1 s window
        cloud.faults("*", action, qps_limit=args.qps)
    storm.run(step=args.step, bound=1000, reconcile_every=args.reconcile)
    cloud.clear_faults()
    wall = time.monotonic() - started
    calls = cloud.calls(since=setup)
    if args.dump:
        args.dump.write_text("".join(json.dumps(call, default=str) + "\n" for call in calls))
    finished = storm.finished()
    if finished:
        check_end_state(storm, calls)
    n = len(storm.instances)
    by_action = Counter(c["action"] for c in calls)
    ok = Counter(c["action"] for c in calls if c["code"] is None)
    refused = Counter(c["action"] for c in calls if c["code"] not in (None, "MessageNotExist"))  # empty: no retry
    cloud_calls = sum(v for a, v in by_action.items() if a not in MNS_ACTIONS)
    cloud_ok = sum(v for a, v in ok.items() if a not in MNS_ACTIONS)
    mns_calls = sum(v for a, v in by_action.items() if a in MNS_ACTIONS)
    minimum = sum(MINIMUM.values())
    bottleneck = max(MINIMUM, key=lambda a: MINIMUM[a])
    ideal_seconds = MINIMUM[bottleneck] * n / args.qps  # the busiest API at its QPS limit
    per_second = n / storm.consumer_seconds if storm.consumer_seconds else 0.0
    ideal_rate = n / ideal_seconds
    print(f"storm: {n} instances, all sagas finished: {finished}, end state checked: {finished}")
    print(
        f"  wall {wall:.1f} s: consumers {storm.consumer_seconds:.1f} s, clock stepping + pump "
        f"{storm.clock_seconds:.1f} s, setup+checks {wall - storm.consumer_seconds - storm.clock_seconds:.1f} s"
    )
    print(f"  simulated {storm.simulated} in {storm.steps} clock steps, {len(storm.rounds)} consumer rounds, "
          f"{storm.reconciles} reconciler passes (every {args.reconcile:g} s, their calls counted)")  # fmt: skip
    print(
        f"  ECS+SLB calls {cloud_calls} ({cloud_ok} answered OK): {cloud_calls / n:.2f} per remediated instance, "
        f"minimum {minimum}: ratio {cloud_calls / n / minimum:.2f} (target <= 1.1) "
        f"{_met(cloud_calls / n / minimum <= 1.1)}; OK calls only {cloud_ok / n / minimum:.2f}"
    )
    print(f"  MNS calls {mns_calls} ({mns_calls / n:.2f} per instance)")
    print(
        "  per instance by action (minimum): "
        + ", ".join(
            f"{a} {ok[a] / n:.2f} ({MINIMUM.get(a, 0)})"
            for a in sorted(ok, key=lambda a: -ok[a])
            if a not in MNS_ACTIONS
        )
    )
    print("  all calls by action: " + ", ".join(f"{a} {c}" for a, c in by_action.most_common()))
    print(
        f"  retries (refused by the {args.qps:g} QPS limit or otherwise): {sum(refused.values())}"
        + (": " + ", ".join(f"{a} {c}" for a, c in refused.most_common()) if refused else "")
    )
    sent = ok["SendMessage"]
    print(
        f"  messages sent by ecs-events {sent} ({sent / n:.2f} per instance), needed {NEEDED_MESSAGES}: ratio "
        f"{sent / n / NEEDED_MESSAGES:.2f} (target <= 1.5) {_met(sent / n / NEEDED_MESSAGES <= 1.5)}"
    )
    _makespan(storm, calls, n)
    print(f"  throughput {per_second:.2f} instances/s of consumer time ({n / wall:.2f}/s of wall); at "
          f"{args.qps:g} QPS per API ({bottleneck} x{MINIMUM[bottleneck]}) the API would allow {ideal_rate:.2f}/s: "
          f"ratio {per_second / ideal_rate:.2f} (no target: the policy's pacing, not the API, bounds a storm; "
          "see the makespan)")  # fmt: skip


def _met(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def _makespan(storm: Storm, calls: list[dict[str, object]], n: int) -> None:
    """First drain to last restore in simulated time, against waves x the shortest drain-to-restore cycle."""
    from ecs_events.models.times import parse_time

    drained: dict[str, object] = {}
    cycles: list[float] = []
    first = last = None
    for call in calls:
        if call["action"] != "SetBackendServers" or call["code"] is not None:
            continue
        at = parse_time(str(call["time"]))
        params = call["params"]
        assert isinstance(params, dict)
        for server in json.loads(str(params.get("BackendServers", "[]"))):
            if int(server.get("Weight", 1)) == 0:
                drained.setdefault(server["ServerId"], at)
                first = first or at
            elif server["ServerId"] in drained:
                start = drained.pop(server["ServerId"])
                cycles.append((at - start).total_seconds())  # type: ignore[operator]
                last = at
    if not cycles or first is None or last is None:
        print("  makespan: no complete drain-to-restore cycle seen")
        return
    per_lb = math.ceil(n / max(1, len(storm.lbs)))
    budget = max(1, per_lb // 10)
    waves = math.ceil(per_lb / budget)
    bound = waves * min(cycles)
    span = (last - first).total_seconds()
    print(
        f"  makespan {span / 60:.1f} min (first drain to last restore), lower bound {waves} waves x "
        f"{min(cycles) / 60:.1f} min = {bound / 60:.1f} min: ratio {span / bound:.2f} (target <= 1.1) "
        f"{_met(span / bound <= 1.1)}"
    )


if __name__ == "__main__":
    main()
