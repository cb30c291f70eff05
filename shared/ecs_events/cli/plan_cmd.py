"""``ecs-events plan FILE... [--json] [--now ISO] [--policy FILE] [--tag KEY=VALUE ...]``: what the engine would do
about each event, and when, with no cloud call and no store.

Each event is decided as a new saga on a Running instance that carries the opt-in tag plus the ``--tag``s (which
is how per-instance policy tags such as ``ecs-events:window`` are tried out), by the policy in ``--policy`` or
``ECS_EVENTS_POLICY`` (none: the defaults), at ``--now`` (default: the wall clock). The steps are laid out on the
clock; gates (snapshot, command, wait_healthy, wait_event_done) are shown as instantaneous and marked ``waits``.

Bad files get one line each on stderr (the good ones are still planned) and exit 2, like ``parse``; a bad
``--now``, ``--tag`` or policy is one line and exit 2 before any file is read.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from typing import Any, TextIO

from ecs_events.errors import EcsEventsError, InputError, printable
from ecs_events.runtime.settings import DEFAULT_TAG

MAX_SHOWN = 20


class UsageError(EcsEventsError):
    """A bad option value: one line, exit 2."""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "plan",
        help="what would be done about each event, and when (no cloud call, no store)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="payload files; '-' for standard input")
    parser.add_argument("--json", action="store_true", help="one JSON object per event per line")
    parser.add_argument("--now", metavar="ISO", help="plan as if it were this time (default: now)")
    parser.add_argument("--policy", metavar="FILE", help="policy file (default: $ECS_EVENTS_POLICY, else defaults)")
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tag of the instance (repeatable), e.g. ecs-events:window='02:00-05:00 Asia/Shanghai'",
    )
    parser.set_defaults(func=run)


def _now(value: str | None) -> datetime:
    from ecs_events.models.times import parse_time
    from ecs_events.runtime.clock import system_now

    if value is None:
        return system_now()
    try:
        return parse_time(value)
    except ValueError as exc:
        raise UsageError(f"--now: {exc}") from None


def _tags(values: list[str]) -> dict[str, str]:
    """The opt-in tag (the instance is assumed managed) plus every ``--tag``, later ones winning."""
    key, _, value = os.environ.get("ECS_EVENTS_TAG", DEFAULT_TAG).partition("=")
    tags = {key.strip(): value.strip()} if key.strip() and value.strip() else {}
    for item in values:
        name, sep, tag_value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--tag: expected KEY=VALUE, got {item!r}")
        tags[name.strip()] = tag_value.strip()
    return tags


def _policy(path: str | None) -> Any:
    from ecs_events.policy import PolicyError, load_policy

    path = path or os.environ.get("ECS_EVENTS_POLICY") or None
    try:
        return load_policy(path)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None


def _record(label: str, event: Any, plan: Any) -> dict[str, Any]:
    from ecs_events.engine.projection import record

    return {
        "file": label,
        "id": event.id,
        "name": event.name,
        "instance_id": event.instance_id,
        "status": event.status,
        "playbook": plan.playbook,
        "reason": plan.reason,
        "warnings": list(plan.warnings),
        "steps": [record(p) for p in plan.steps],
    }


def _readable(label: str, event: Any, plan: Any) -> str:
    from ecs_events.engine.projection import line

    head = f"{label}: {event.name}  instance={event.instance_id or '-'} status={event.status or '-'}"
    lines = [head, f"  {plan.playbook or 'no playbook'}: {plan.reason}"]
    lines += [f"  warning: {w}" for w in plan.warnings]
    lines += [f"  {line(p)}" for p in plan.steps]
    return "\n".join(printable(text) for text in lines)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from ecs_events.cli.parse_cmd import _json_line, parse_files
    from ecs_events.engine.projection import plan_event
    from ecs_events.sources import TimerTick

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        now, tags, policy = _now(args.now), _tags(args.tag), _policy(args.policy)
    except UsageError as exc:
        print(f"ecs-events: plan: {printable(str(exc))}", file=err)
        return 2
    bad = 0
    for name in args.files:
        shown = 0
        for label, item in parse_files([name]):
            if isinstance(item, InputError):
                bad, shown = bad + 1, shown + 1
                if shown <= MAX_SHOWN:
                    print(f"{label}: {item}", file=err)
                continue
            event = item.event
            if event is None or isinstance(event, TimerTick):  # a timer tick only runs the consumer
                continue
            plan = plan_event(event, policy, tags, now)
            if args.json:
                print(_json_line(_record(label, event, plan)), file=out)
            else:
                print(_readable(label, event, plan), file=out)
        if shown > MAX_SHOWN:
            label = "<stdin>" if name == "-" else printable(name)
            print(f"{label}: ... and {shown - MAX_SHOWN} more bad items", file=err)
    return 2 if bad else 0
