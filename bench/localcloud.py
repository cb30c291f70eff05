"""localcloud's own ceiling: requests/s through the real SDKs against an in-process LocalCloud.

    .venv/bin/python bench/localcloud.py [--seconds 2] [--max-calls 2000]

Figures: DescribeInstances (aliyun-python-sdk-ecs, 10 instances in the fleet) and one MNS send + receive + delete
cycle (aliyun-mns-sdk, three HTTP calls). Each loop is bounded by time and by count; read later benchmarks
against these numbers, measured on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

# This script is named like the package it measures: keep bench/ off the import path so `localcloud` is the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest  # noqa: E402
from mns.queue import Message  # noqa: E402

from localcloud.cloud import LocalCloud  # noqa: E402


def measure(fn: Callable[[], None], seconds: float, max_calls: int) -> tuple[int, float]:
    fn()  # warm the connection pool
    count, start = 0, time.perf_counter()
    while count < max_calls and time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--max-calls", type=int, default=2000)
    args = parser.parse_args()
    with LocalCloud(seed=0) as cloud:
        cloud.load_fleet({"instances": [{"name": "bench", "count": 10}]})
        client = cloud.acs_client()

        def describe() -> None:
            client.do_action_with_exception(DescribeInstancesRequest())  # a fresh request each call, as clients do

        cloud.mns.create_queue(cloud.account_id, "bench")
        queue = cloud.mns_account().get_queue("bench")

        def cycle() -> None:
            queue.send_message(Message("bench-body"))
            received = queue.receive_message(0)
            queue.delete_message(received.receipt_handle)

        rows = [
            ("DescribeInstances (ecs sdk)", *measure(describe, args.seconds, args.max_calls)),
            ("MNS send+receive+delete (mns sdk)", *measure(cycle, args.seconds, args.max_calls)),
        ]
    print(f"{'operation':<36} {'calls':>6} {'seconds':>8} {'per second':>11}")
    for name, count, elapsed in rows:
        print(f"{name:<36} {count:>6} {elapsed:>8.2f} {count / elapsed:>11.1f}")


if __name__ == "__main__":
    main()
