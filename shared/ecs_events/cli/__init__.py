"""The ``ecs-events`` command line. Subcommands live one per module (``cli/<name>_cmd.py``), each with an
``add_parser(sub)`` that registers itself and sets ``func(args) -> exit code``.

Adding a subcommand is one entry in ``COMMANDS``. Only the module of the command being run is imported (so
``parse`` never imports localcloud or an SDK); the others are listed in ``--help`` from their table entry.

Exit codes: 0 success, 2 bad input or usage (one line on stderr, never a traceback), 1 anything else (one line
``ecs-events: <command>: ...``; ``ECS_EVENTS_DEBUG=1`` re-raises to show the traceback), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from collections.abc import Sequence

from ecs_events import __version__
from ecs_events.errors import printable

# name -> (module, one-line help). The module is imported only when its command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "parse": ("ecs_events.cli.parse_cmd", "parse event payloads (any delivery format) and print the events"),
    "localcloud": ("ecs_events.cli.localcloud_cmd", "serve a local Alibaba Cloud (ECS, SLB, MNS) over the real wire"),
    "replay": ("ecs_events.cli.replay_cmd", "invoke the FC handlers with payload files, as Function Compute would"),
    "plan": ("ecs_events.cli.plan_cmd", "what would be done about each event, and when (no cloud call, no store)"),
    "consume": ("ecs_events.cli.consume_cmd", "run the queue consumer: events and timers into the engine"),
    "reconcile": ("ecs_events.cli.reconcile_cmd", "wake lost sagas, enforce drain deadlines, catch lost notifications"),
    "status": ("ecs_events.cli.status_cmd", "sagas in flight and finished, drained backends, budgets, outbox"),
    "subscribe": ("ecs_events.cli.subscribe_cmd", "the CloudMonitor event rule that sends ECS events to the queue"),
    "demo": ("ecs_events.cli.demo_cmd", "remediation end to end on an in-process localcloud; timeline and HTML page"),
}

_MESSAGE_LIMIT = 500


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (top-level options are only ``-h`` and ``--version``)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: the named command's module registers its own arguments; every other command
    gets a placeholder with its help line (enough for ``--help`` and for argparse's "invalid choice")."""
    parser = argparse.ArgumentParser(
        prog="ecs-events",
        description="Turn Alibaba Cloud ECS system events into safe, automatic remediation.",
    )
    parser.add_argument("--version", action="version", version=f"ecs-events {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    wanted = _command_of(sys.argv[1:] if argv is None else argv)
    for name, (module_name, help_text) in COMMANDS.items():
        if name == wanted:
            importlib.import_module(module_name).add_parser(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def _one_line(text: str) -> str:
    text = printable(text)
    return text if len(text) <= _MESSAGE_LIMIT else text[:_MESSAGE_LIMIT] + "..."


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of what is still buffered cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real stdout (captured in tests): nothing to silence
        pass


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_of(argv) or "ecs-events"
    try:
        args = build_parser(argv).parse_args(argv)
        code = int(args.func(args))
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not as a traceback at exit
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `ecs-events parse ... | head`
        _silence_stdout()
        return 0
    except OSError as exc:
        if os.environ.get("ECS_EVENTS_DEBUG") == "1":
            raise
        if exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG):
            _silence_stdout()
        reason = exc.strerror or str(exc)
        print(f"ecs-events: {_one_line(command)}: {_one_line(reason)}", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("ECS_EVENTS_DEBUG") == "1":
            raise
        what = f"{type(exc).__name__}: {exc}"
        print(f"ecs-events: {_one_line(command)}: internal error: {_one_line(what)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
