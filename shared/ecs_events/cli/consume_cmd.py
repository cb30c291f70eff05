"""``ecs-events consume [--until-idle] [--max-batches N] [--wait SECONDS]``: run the queue consumer in this process.

Events and timers from ``ECS_EVENTS_QUEUE`` go into the engine exactly as the FC queue-consumer function does it
(settings from the environment; with ``ECS_EVENTS_LOCALCLOUD`` every endpoint and the clock are the local cloud's).
Logs are JSON lines on stderr; the last line on stdout is a summary::

    consumed 3 batches: received 2, handled 2, retried 0, dead-lettered 0, notices sent 3

``--until-idle`` returns once no message is visible and no notification is due; ``--max-batches`` stops after N
long polls; ``--wait`` is the long poll (default 3 s). Without either it runs until Ctrl-C (or SIGTERM), which stops
after the current batch: nothing received is dropped. A second Ctrl-C stops at once (exit 130; a message being
handled comes back after its visibility timeout). A bad setting, store URL, policy or missing credentials is one
line and exit 2; a failure while consuming (the queue does not exist, the cloud is unreachable) one line, exit 1.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from ecs_events.errors import EcsEventsError, printable

if TYPE_CHECKING:
    from ecs_events.runtime.app import App
    from ecs_events.runtime.consumer import Report

DEFAULT_WAIT = 3
MAX_WAIT = 30  # MNS long polls last at most 30 s


class UsageError(EcsEventsError):
    """A bad option value: one line, exit 2."""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "consume",
        help="run the queue consumer: events and timers into the engine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--until-idle", action="store_true", help="stop once the queue is idle and no notice is due")
    parser.add_argument("--max-batches", metavar="N", help="stop after N batches (long polls)")
    parser.add_argument(
        "--wait", metavar="SECONDS", help=f"long poll per batch, 0..{MAX_WAIT} (default {DEFAULT_WAIT})"
    )
    parser.set_defaults(func=run)


def _whole(name: str, value: str | None, low: int, high: int | None = None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if number < low or (high is not None and number > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise UsageError(f"{name}: expected a whole number {bound}, got {value!r}")
    return number


class Stop:
    """Set by the first SIGINT/SIGTERM: finish the current batch, then stop. The second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("ecs-events: consume: stopping after the current batch (again to stop now)", file=sys.stderr)


@contextmanager
def _signals(stop: Stop) -> Iterator[None]:
    """Install ``stop`` for SIGINT and SIGTERM while consuming (main thread only: elsewhere signals cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def consume(app: App, *, until_idle: bool, max_batches: int | None, wait: int, stopped: Callable[[], bool]) -> Report:
    """Batches until idle / ``max_batches`` / ``stopped()``, checked between batches (never inside one)."""
    return app.consumer.run(until_idle=until_idle, max_batches=max_batches, wait_seconds=wait, stop=stopped)


def summary(report: Report) -> str:
    return (
        f"consumed {report.batches} batch{'es' if report.batches != 1 else ''}: received {report.received}, "
        f"handled {report.handled}, retried {report.retried}, dead-lettered {report.dead_lettered}, "
        f"notices sent {report.notices_sent}"
    )


def _build() -> App:
    from ecs_events.policy import PolicyError
    from ecs_events.runtime.app import build_app
    from ecs_events.runtime.clients import ClientConfigError, CredentialsError
    from ecs_events.runtime.settings import SettingsError
    from ecs_events.store import StoreError

    try:
        return build_app()
    except (SettingsError, StoreError, PolicyError, CredentialsError, ClientConfigError) as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from ecs_events.logs import configure

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        max_batches = _whole("--max-batches", args.max_batches, 1)
        wait = _whole("--wait", args.wait, 0, MAX_WAIT)
        app = _build()
    except UsageError as exc:
        print(f"ecs-events: consume: {printable(str(exc))}", file=err)
        return 2
    configure()
    stop = Stop()
    try:
        with _signals(stop):
            logging.getLogger("ecs_events.cli").info(  # after the handlers: a Ctrl-C from now on stops cleanly
                "consuming queue %s%s", app.settings.queue, " until idle" if args.until_idle else " (Ctrl-C stops)"
            )
            report = consume(
                app,
                until_idle=args.until_idle,
                max_batches=max_batches,
                wait=DEFAULT_WAIT if wait is None else wait,
                stopped=lambda: stop.requested,
            )
    except EcsEventsError as exc:
        print(f"ecs-events: consume: {printable(' '.join(str(exc).split()))}", file=err)
        return 1
    finally:
        app.close()
    print(summary(report), file=out)
    return 0
