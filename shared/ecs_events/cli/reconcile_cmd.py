"""``ecs-events reconcile [--once] [--json]``: the reconciler's pass, the same one the FC ``reconciler`` function runs.

Wakes sagas whose timer was lost, enforces every drain's deadline (``max_drain``) from the registry, finishes
restores left half done (backend by backend), starts sagas for system events whose notification never arrived, and
reports stuck sagas. Settings come from the environment, as for ``consume``. The last line on stdout is a summary per
pass (``--json``: one JSON object per pass). Without ``--once`` it runs a pass every ``ECS_EVENTS_RECONCILE_INTERVAL``
seconds (default 300) until Ctrl-C. A bad setting is one line, exit 2; a pass that failed one line, exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from ecs_events.cli.consume_cmd import Stop, UsageError, _build, _signals
from ecs_events.errors import EcsEventsError, printable


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "reconcile",
        help="wake lost sagas, enforce drain deadlines, finish restores, catch lost notifications",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    parser.add_argument("--json", action="store_true", help="print each pass's report as one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from ecs_events.logs import configure
    from ecs_events.runtime.app import reconciler_for

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        app = _build()
    except UsageError as exc:
        print(f"ecs-events: reconcile: {printable(str(exc))}", file=err)
        return 2
    configure()
    stop = Stop()
    try:
        reconciler = reconciler_for(app)
        with _signals(stop):
            while True:
                report = reconciler.run_once()
                app.outbox.deliver()
                print(json.dumps(report.to_dict()) if args.json else report.summary(), file=out, flush=True)
                if args.once or stop.requested:
                    break
                until = time.monotonic() + app.settings.reconcile_interval
                while time.monotonic() < until and not stop.requested:
                    time.sleep(min(1.0, until - time.monotonic()))
                if stop.requested:
                    break
    except EcsEventsError as exc:
        print(f"ecs-events: reconcile: {printable(' '.join(str(exc).split()))}", file=err)
        return 1
    finally:
        app.close()
    return 0
