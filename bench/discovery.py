"""Discovery cost: cloud calls per ``find`` (CLB + ALB + NLB through ``Balancers``) for one instance, counted in
localcloud's call log, for an account with 10, 100 and 1,000 server groups per product (ALB and NLB).

Two cases per size: the instance is in 2 groups of each product (the usual case), and in every group (the worst
case). Baseline: a scan that lists every server group of the account and reads each one's servers (what a
discovery without a server filter costs: ``ceil(N/100)`` ListServerGroups pages + N ListServerGroupServers, per
product). Calls, not times: the figures do not move with the machine.

    .venv/bin/python bench/discovery.py [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]  # bench/localcloud.py is not localcloud

from ecs_events.runtime.clients import Clients, Credentials  # noqa: E402
from ecs_events.runtime.settings import Settings  # noqa: E402
from localcloud.cloud import LocalCloud  # noqa: E402
from localcloud.testing import run_instances  # noqa: E402

OTHERS = 2  # other servers in every group


def measure(size: int, member_of: int) -> Counter[str]:
    with LocalCloud(seed=0) as cloud:
        account, region = cloud.account_id, cloud.region_id
        target, *others = run_instances(cloud, 1 + OTHERS)
        cloud.advance(60)
        for service in (cloud.alb, cloud.nlb):
            for n in range(size):
                group = service.create_server_group(account, region, f"g{n}")
                servers = [(i, 80, 100) for i in others] + ([(target, 80, 100)] if n < member_of else [])
                service.place_servers(account, region, group, servers)
        settings = Settings(region=region, localcloud=cloud.url, account_id=account, dry_run=False)
        balancers = Clients(settings, Credentials(cloud.access_key_id, cloud.access_key_secret)).balancers()
        cloud.call_log.clear()
        view = balancers.find(target)
        assert len(view.memberships) == 2 * member_of, (size, member_of, len(view.memberships))
        return Counter(f"{c.product}.{c.action}" for c in cloud.call_log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="server groups per product, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'groups/product':>14} {'instance in':>12} {'calls':>6} {'scan baseline':>14}  calls by API")
    for size in sizes:
        baseline = 1 + 2 * (math.ceil(size / 100) + size)  # + CLB's DescribeLoadBalancers
        for member_of in (2, size):
            calls = measure(size, member_of)
            detail = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
            where = "2 + 2" if member_of == 2 else f"all {size}"
            print(f"{size:>14} {where:>12} {sum(calls.values()):>6} {baseline:>14}  {detail}")


if __name__ == "__main__":
    main()
