"""Calls per remediated instance for each load balancer kind: a ``SystemMaintenance.Reboot`` (Scheduled) of one
instance that is in one backend group of one kind (CLB default group, CLB VServer group, ALB server group, NLB
server group), handled end to end by the queue consumer on localcloud (in-process, simulated clock, the real SDKs
over HTTP, a sqlite store). Counted in localcloud's call log: the ECS + load balancer calls the engine made,
against the playbook's minimum for that kind. MNS (the queue, the timers) is counted apart, without the empty receives
of the bench's polling consumer (production's is queue-triggered). Calls, not times: the
figures do not move with the machine.

    .venv/bin/python bench/calls.py [--group-size 3] [--job-seconds 5]

The fleet per kind: ``--group-size`` managed instances with a data disk in the one group (the remediated one is
the first); nothing else. The default policy (snapshot before a maintenance reboot, drain, drain period, reboot,
health check, restore).

The minimum, per kind (what the playbook cannot do without; ``MINIMUM`` below):

- ECS, every kind: DescribeInstances 4 (the facts at the start, then the opt-out read again before each disruptive
  step, snapshot, drain and reboot: a promise of the guarantees issue), DescribeDisks 1, CreateSnapshot 1 per disk
  (2: system and data), RebootInstance 1, DescribeInstancesFullStatus 1 (healthy again) = 9. No DescribeSnapshots:
  the snapshots' completion events say they are done (a look only should an event be lost, by the reconciler).
- Discovery, every kind: the instance's memberships in each kind, since any may hold it: CLB DescribeLoadBalancers
  with ``ServerId`` 1, ALB ListServerGroupServers with ``ServerIds`` 1, NLB the same 1 = 3.
- CLB default group: DescribeLoadBalancerAttribute 1 (the backends and weights, the budget's size) and
  DescribeVServerGroups 1 (is it in a VServer group too), SetBackendServers 2 (drain, restore) = 4.
- CLB VServer group: DescribeLoadBalancerAttribute 1 (the default group), DescribeVServerGroups 1,
  DescribeVServerGroupAttribute 1 (the group's weights and size), SetVServerGroupAttribute 2 = 5.
- ALB and NLB: ListServerGroupServers with ``ServerGroupId`` 1 (the budget's size), ListServerGroups 1 (connection
  drain settings), UpdateServerGroupServersAttribute 2, and 1 read per change that it took effect (the change is a
  job: ListServerGroupServers until Available with the weight) 2 = 6.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]  # bench/localcloud.py is not localcloud

QUEUE = "ecs-events"
TAG = {"ecs-events:managed": "true"}
ECS = {
    "DescribeInstances": 4,
    "DescribeDisks": 1,
    "CreateSnapshot": 2,
    "RebootInstance": 1,
    "DescribeInstancesFullStatus": 1,
}
DISCOVERY = {"Slb.DescribeLoadBalancers": 1, "Alb.ListServerGroupServers": 1, "Nlb.ListServerGroupServers": 1}
MINIMUM: dict[str, dict[str, int]] = {
    "clb-default": {
        "Slb.DescribeLoadBalancerAttribute": 1,
        "Slb.DescribeVServerGroups": 1,
        "Slb.SetBackendServers": 2,
    },
    "clb-vserver": {
        "Slb.DescribeLoadBalancerAttribute": 1,
        "Slb.DescribeVServerGroups": 1,
        "Slb.DescribeVServerGroupAttribute": 1,
        "Slb.SetVServerGroupAttribute": 2,
    },
    "alb": {
        "Alb.ListServerGroupServers": 3,  # the group's size, then one read per change that it took effect
        "Alb.ListServerGroups": 1,
        "Alb.UpdateServerGroupServersAttribute": 2,
    },
    "nlb": {
        "Nlb.ListServerGroupServers": 3,
        "Nlb.ListServerGroups": 1,
        "Nlb.UpdateServerGroupServersAttribute": 2,
    },
}
MNS = frozenset({"Mns", "MNS"})


def fleet(kind: str, size: int) -> dict[str, Any]:
    backends = [{"instances": "web", "weight": 100}]
    ported = [{"instances": "web", "port": 80, "weight": 100}]
    doc: dict[str, Any] = {"instances": [{"name": "web", "count": size, "tags": TAG, "disks": [{"size": 40}]}]}
    if kind == "clb-default":
        doc["load_balancers"] = [{"name": "lb", "backends": backends}]
    elif kind == "clb-vserver":
        doc["load_balancers"] = [{"name": "lb", "vserver_groups": [{"name": "g", "backends": ported}]}]
    elif kind == "alb":
        doc["albs"] = [{"name": "alb", "server_groups": [{"name": "g", "backends": ported}],
                        "listeners": [{"port": 80, "server_groups": ["g"]}]}]  # fmt: skip
    else:
        doc["nlbs"] = [{"name": "nlb", "server_groups": [{"name": "g", "backends": ported}],
                        "listeners": [{"port": 80, "server_group": "g"}]}]  # fmt: skip
    return doc


def minimum(kind: str) -> Counter[str]:
    out: Counter[str] = Counter({f"Ecs.{a}": n for a, n in ECS.items()})
    out.update(DISCOVERY)
    out.update(MINIMUM[kind])
    return out


def measure(kind: str, size: int, job_seconds: float) -> tuple[Counter[str], int, Counter[str], str]:
    """(ECS + load balancer calls by product.action, MNS calls, refused calls by code, the saga's outcome)."""
    from ecs_events.engine.saga import Saga
    from ecs_events.runtime.app import build_app
    from ecs_events.runtime.settings import Settings
    from ecs_events.tools.subscribe import subscribe
    from localcloud.cloud import LocalCloud

    with tempfile.TemporaryDirectory(prefix="ecs-events-calls-") as work, LocalCloud(seed=0) as cloud:
        summary = cloud.load_fleet(fleet(kind, size))
        cloud.alb.set_job_seconds(job_seconds)
        cloud.nlb.set_job_seconds(job_seconds)
        cloud.advance(60)
        cloud.mns.create_queue(cloud.account_id, QUEUE)
        cloud.mns.create_queue(cloud.account_id, f"{QUEUE}-dlq")
        settings = Settings(
            account_id=cloud.account_id,
            region=cloud.region_id,
            queue=QUEUE,
            store=f"sqlite:///{Path(work) / 'store.sqlite3'}",
            localcloud=cloud.url,
        )
        app = build_app(settings)
        try:
            assert subscribe(settings) == "created"
            target = summary.instances["web"][0]
            cloud.call_log.clear()
            cloud.ecs.create_system_event(target, "SystemMaintenance.Reboot", cloud.clock.now() + timedelta(minutes=45))
            outcome = "none"
            for _ in range(2 * 3600 // 15):  # a consumer every 15 s of the cloud's clock, until the saga ends
                app.consumer.run(until_idle=True, wait_seconds=0)
                docs = app.store.scan(f"saga/{target}/")
                outcome = Saga.from_doc(docs[0].value).status.value if docs else "none"
                if outcome not in ("none", "active"):
                    break
                cloud.advance(15)
        finally:
            app.close()
        calls = [c for c in cloud.call_log.calls() if c.product not in MNS]
        ok = Counter(f"{c.product}.{c.action}" for c in calls)
        refused = Counter(f"{c.product}.{c.action} {c.code}" for c in calls if c.code != "OK")
        mns = sum(1 for c in cloud.call_log.calls() if c.product in MNS and c.code != "MessageNotExist")
        return ok, mns, refused, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group-size", type=int, default=3, help="instances in the group (default 3)")
    parser.add_argument("--job-seconds", type=float, default=5.0, help="ALB/NLB job length (localcloud: 5 s)")
    args = parser.parse_args()
    if args.group_size < 1:
        sys.exit("bench/calls.py: --group-size must be at least 1")
    if args.job_seconds < 0:
        sys.exit("bench/calls.py: --job-seconds must be >= 0")
    rows = []
    with mock.patch("ecs_events.retry.sleep"):  # a refused call is retried at once (counted, never waited for)
        for kind in MINIMUM:
            calls, mns, refused, outcome = measure(kind, args.group_size, args.job_seconds)
            rows.append((kind, calls, mns, refused, outcome))
    print(
        f"calls per remediated instance: SystemMaintenance.Reboot Scheduled of 1 instance in 1 group of "
        f"{args.group_size}, ALB/NLB jobs of {args.job_seconds:g} s"
    )
    print(
        f"{'kind':<12} {'ECS+LB':>7} {'minimum':>8} {'ratio':>6} {'MNS':>5}  {'saga':<10} "
        "over the minimum (+) / under (-)"
    )
    for kind, calls, mns, refused, outcome in rows:
        low = minimum(kind)
        total, least = sum(calls.values()), sum(low.values())
        diff = {a: calls.get(a, 0) - low.get(a, 0) for a in sorted(set(calls) | set(low))}
        extra = ", ".join(f"{a} {d:+d}" for a, d in diff.items() if d) or "none"
        print(f"{kind:<12} {total:>7} {least:>8} {total / least:>6.2f} {mns:>5}  {outcome:<10} {extra}")
        if refused:
            print(f"{'':<12} refused: " + ", ".join(f"{k} {v}" for k, v in sorted(refused.items())))
    print("calls by API, per kind (made / minimum):")
    for kind, calls, _, _, _ in rows:
        low = minimum(kind)
        names = sorted(set(calls) | set(low))
        print(f"  {kind}: " + ", ".join(f"{a} {calls.get(a, 0)}/{low.get(a, 0)}" for a in names))


if __name__ == "__main__":
    main()
