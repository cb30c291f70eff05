"""``ecs-events demo [--html FILE] [--seed N] [--store URL] [--verbose]``: the whole product on the embedded
default, in this process, with no account and no network (see ``ecs_events.tools.demo``).

A local Alibaba Cloud on a simulated clock, a fleet of six instances behind a load balancer, a scheduled maintenance
reboot (CreateSimulatedSystemEvents through the SDK), a preemptible interruption and a stalled disk; the queue
consumer handles them as the clock advances (a progress line on stderr), then the remediation timeline and the
fleet's final state are printed and checked, and the same timeline is written as a self-contained HTML page.

Exit 0 when every check holds, 1 when one does not (the output says which), 2 on a bad option. The same seed gives
the same ids and the same output.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ecs_events.errors import EcsEventsError, printable

DEFAULT_HTML = "demo-timeline.html"


class UsageError(EcsEventsError):
    """A bad option: one line, exit 2."""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help="remediation end to end on an in-process localcloud; prints the timeline, writes it as HTML",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--html", default=DEFAULT_HTML, metavar="FILE", help=f"the page (default {DEFAULT_HTML})")
    parser.add_argument("--seed", default="0", metavar="N", help="seed of the cloud's ids (default 0)")
    parser.add_argument("--store", default=None, metavar="URL", help="keep the store here (default: a temporary one)")
    parser.add_argument("--verbose", action="store_true", help="the engine's log lines (JSON) on stderr")
    parser.set_defaults(func=run)


def _seed(value: str) -> int:
    try:
        seed = int(value)
    except ValueError:
        seed = -1
    if seed < 0:
        raise UsageError(f"--seed: expected a whole number >= 0, got {value!r}")
    return seed


def _html_path(value: str) -> Path:
    path = Path(value)
    if not value or path.is_dir():
        raise UsageError(f"--html: expected a file name, got {value!r}")
    if not path.absolute().parent.is_dir():
        raise UsageError(f"--html: no such folder: {str(path.absolute().parent)!r}")
    return path


def _store(value: str | None) -> str | None:
    """Refused before the demo starts rather than after it ran (the URL is opened by the demo itself)."""
    if value is None:
        return None
    from ecs_events.store import StoreError, open_store

    try:
        open_store(value).close()
    except StoreError as exc:
        raise UsageError(f"--store: {exc}") from None
    return value


@contextmanager
def engine_logs(verbose: bool, stream: TextIO) -> Iterator[None]:
    """The engine's JSON log lines on ``stream`` (errors only unless ``verbose``: the progress line and the report
    tell the story); the ``ecs_events`` logger is put back as it was afterwards."""
    from ecs_events.logs import configure

    logger = logging.getLogger("ecs_events")
    saved = (logger.level, list(logger.handlers), logger.propagate)
    configure("INFO" if verbose else "ERROR", stream)
    try:
        yield
    finally:
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]
        logger.propagate = saved[2]


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from ecs_events.tools.demo import run_demo
    from ecs_events.tools.timeline_html import render_html

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        seed, html, store = _seed(args.seed), _html_path(args.html), _store(args.store)
    except UsageError as exc:
        print(f"ecs-events: demo: {printable(str(exc))}", file=err)
        return 2
    with engine_logs(args.verbose, err):
        report = run_demo(seed=seed, store=store, progress=err)
    print("\n".join(report.lines), file=out)
    timeline = report.timeline
    span = f"{timeline.start:%Y-%m-%d %H:%M} to {timeline.end:%H:%M} UTC" if timeline.start and timeline.end else ""
    page = render_html(
        timeline,
        title="ecs-events demo: remediation timeline",
        subtitle=f"localcloud in-process, seed {seed}, simulated clock {span}",
        checks=report.checks,
        sections=report.sections,
    )
    html.write_text(page, encoding="utf-8")
    print(f"\nHTML timeline: {html.absolute()}", file=out)
    return 0 if report.ok else 1
