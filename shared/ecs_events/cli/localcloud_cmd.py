"""``ecs-events localcloud``: serve the local Alibaba Cloud (ECS, SLB, MNS) for the SDKs to talk to.

    ecs-events localcloud --port 8080 --seed 0 --fleet events/fleets/demo.yaml --events-queue ecs-events

Prints the endpoint and the credentials, one line each, then serves until Ctrl-C. With --manual-clock the clock
stays at 2026-11-26T02:00:00Z until moved through the control API (POST /_localcloud/clock; see
localcloud.control and localcloud.remote.RemoteCloud). The SDKs and yaml are only
imported when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    from localcloud.serve import add_arguments

    parser = subparsers.add_parser(
        "localcloud",
        help="serve a local Alibaba Cloud (ECS, SLB, MNS) over the real wire protocols",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from localcloud.serve import serve

    return serve(args)
