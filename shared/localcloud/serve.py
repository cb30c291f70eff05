"""Serving a LocalCloud from the command line (``ecs-events localcloud`` and ``python -m localcloud``).

Defaults: ``--host 127.0.0.1 --port 8080 --seed 0``, the key pair ``LTAI-localcloud`` / ``localcloud-secret``,
account ``1234567890123456``, region ``cn-hangzhou``. The clock follows wall time, so instances start, snapshots
complete and system events execute on their own; with ``--manual-clock`` it starts at localcloud's fixed
DEFAULT_START (2026-11-26T02:00:00Z) and moves only through the control API (``POST /_localcloud/clock``; a
``--fleet`` advances it until its instances run). ``--no-strict-requests`` accepts replayed nonces and stale
request times. ``POST /_localcloud/reset`` clears everything, then re-adds the ``--events-queue`` route.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable

from localcloud.core import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to serve on (default 8080; 0 picks one)")
    parser.add_argument("--seed", type=int, default=0, help="seed for deterministic ids and faults (default 0)")
    parser.add_argument("--access-key-id", default=DEFAULT_ACCESS_KEY_ID, help=f"default {DEFAULT_ACCESS_KEY_ID}")
    parser.add_argument(
        "--access-key-secret", default=DEFAULT_ACCESS_KEY_SECRET, help=f"default {DEFAULT_ACCESS_KEY_SECRET}"
    )
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID, help=f"default {DEFAULT_ACCOUNT_ID}")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"default {DEFAULT_REGION}")
    parser.add_argument("--fleet", metavar="FILE", help="YAML fleet file to build at start (instances, SLBs)")
    parser.add_argument("--events-queue", metavar="NAME", help="create this MNS queue and route ECS events to it")
    parser.add_argument(
        "--events-queue-retention",
        type=int,
        metavar="SECONDS",
        help="MessageRetentionPeriod of the --events-queue (60-604800; default 345600)",
    )
    parser.add_argument(
        "--manual-clock",
        action="store_true",
        help="start the clock at 2026-11-26T02:00:00Z; it moves only through POST /_localcloud/clock",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="close connections idle this long (default 30)",
    )
    parser.add_argument(
        "--no-strict-requests",
        dest="strict_requests",
        action="store_false",
        help="accept replayed SignatureNonces and request times more than 15 minutes off the wall clock",
    )


def serve(
    args: argparse.Namespace, ready: Callable[[], None] | None = None, stop: threading.Event | None = None
) -> int:
    """Start, print the endpoint and credentials, and serve until Ctrl-C (or ``stop`` is set)."""
    from localcloud.cloud import LocalCloud
    from localcloud.control import iso
    from localcloud.fleet import FleetError

    retention: int | None = getattr(args, "events_queue_retention", None)
    if retention is not None and not (args.events_queue and 60 <= retention <= 604800):
        why = "needs --events-queue" if not args.events_queue else f"must be 60 to 604800, not {retention}"
        print(f"ecs-events localcloud: --events-queue-retention {why}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"ecs-events localcloud: --port must be 0 to 65535, not {args.port}", file=sys.stderr)
        return 2
    if not getattr(args, "idle_timeout", 30.0) > 0:
        print(f"ecs-events localcloud: --idle-timeout must be more than 0, not {args.idle_timeout}", file=sys.stderr)
        return 2
    cloud = LocalCloud(
        args.seed,
        region_id=args.region,
        access_key_id=args.access_key_id,
        access_key_secret=args.access_key_secret,
        account_id=args.account_id,
        host=args.host,
        port=args.port,
        manual_clock=getattr(args, "manual_clock", False),
        strict_requests=getattr(args, "strict_requests", True),
        idle_timeout=getattr(args, "idle_timeout", 30.0),
    )
    try:
        cloud.start()
    except (OSError, OverflowError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"ecs-events localcloud: cannot listen on {args.host}:{args.port}: {why}", file=sys.stderr)
        return 2
    try:
        if args.events_queue:
            queue: str = args.events_queue
            cloud.route_events_to_queue(queue, retention=retention)
            cloud.control.after_reset.append(lambda: cloud.route_events_to_queue(queue, retention=retention))
        if args.fleet:
            summary = cloud.load_fleet(args.fleet)
            print(f"fleet: {summary.describe()}", flush=True)
        print(f"endpoint: http://{cloud.endpoint}  (Ecs, Slb, Mns; region {args.region})", flush=True)
        print(f"credentials: {args.access_key_id} / {args.access_key_secret}  (account {args.account_id})", flush=True)
        if args.events_queue:
            print(f"events: MNS queue {args.events_queue}", flush=True)
        clock = "manual" if cloud.clock.manual else "wall"
        print(
            f"control: http://{cloud.endpoint}/_localcloud  (clock: {clock}, now {iso(cloud.clock.now())})", flush=True
        )
        if ready is not None:
            ready()
        waiter = stop or threading.Event()
        while not waiter.wait(0.5):
            cloud.ctx.scheduler.run_due()
    except FleetError as exc:
        print(f"ecs-events localcloud: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        cloud.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description="Serve a local Alibaba Cloud.")
    add_arguments(parser)
    return serve(parser.parse_args(argv))
