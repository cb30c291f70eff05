"""The ``ecs-events`` command line. Subcommands live one per module; each module's ``add_parser`` registers
itself and sets ``func(args) -> exit code``. Heavy imports (SDKs, yaml) happen inside ``func`` only.

Exit codes: 0 success, 2 bad input or usage (one line on stderr, never a traceback), 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ecs_events import __version__


def build_parser() -> argparse.ArgumentParser:
    from ecs_events.cli import localcloud_cmd, parse_cmd

    parser = argparse.ArgumentParser(
        prog="ecs-events",
        description="Turn Alibaba Cloud ECS system events into safe, automatic remediation.",
    )
    parser.add_argument("--version", action="version", version=f"ecs-events {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    parse_cmd.add_parser(sub)
    localcloud_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `ecs-events parse ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
