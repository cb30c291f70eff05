"""``ecs-events subscribe [--dry-run] [--queue NAME | --topic NAME] [--delete] [--rule-name NAME]``: the CloudMonitor
event rule that sends the ECS events ecs-events handles to its queue.

Creates (or updates) the rule ``ecs-events`` (``--rule-name``): Product ECS, ENABLED, a NameList of every event
name the playbooks act on (split into patterns of at most 50 names), with one MNS target: the queue
``ECS_EVENTS_QUEUE`` (``--queue`` / ``--topic`` to choose another). Re-running changes nothing when CloudMonitor
already has it (prints "unchanged"). ``--delete`` removes the rule's targets, then the rule. ``--dry-run`` prints,
as JSON, the exact parameters of the calls it would make and calls nothing (no credentials needed).

Settings from the environment: ``ECS_EVENTS_REGION``, ``ECS_EVENTS_QUEUE``, ``ECS_EVENTS_LOCALCLOUD`` (else the
endpoint is ``metrics.<region>.aliyuncs.com``); credentials from ``ALIBABA_CLOUD_ACCESS_KEY_ID`` /
``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` (localcloud's own key pair when none and ECS_EVENTS_LOCALCLOUD is set).
Output: one line ``event rule NAME: created|updated|unchanged -> queue NAME (N names in M patterns)`` or
``event rule NAME: deleted|absent``. Exit 0; 2 for a bad option or setting (one line); 1 when CloudMonitor
refuses or cannot be reached (one line).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from ecs_events.errors import EcsEventsError, printable


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "subscribe",
        help="create the CloudMonitor event rule that sends ECS events to the queue",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--queue", metavar="NAME", help="MNS queue target (default ECS_EVENTS_QUEUE)")
    where.add_argument("--topic", metavar="NAME", help="MNS topic target instead of a queue")
    parser.add_argument("--rule-name", metavar="NAME", default=None, help="event rule name (default ecs-events)")
    parser.add_argument("--delete", action="store_true", help="remove the rule's targets, then the rule")
    parser.add_argument("--dry-run", action="store_true", help="print the calls' parameters as JSON, call nothing")
    parser.set_defaults(func=run)


def _dry_delete(rule_name: str) -> dict[str, dict[str, str]]:
    from ecs_events.tools.subscribe import TARGET_ID

    return {
        "DeleteEventRuleTargets": {"RuleName": rule_name, "Ids.1": TARGET_ID},
        "DeleteEventRules": {"RuleNames.1": rule_name},
    }


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from ecs_events.runtime.clients import ClientConfigError, CredentialsError
    from ecs_events.runtime.settings import SettingsError, load_settings
    from ecs_events.tools.subscribe import (
        RULE_NAME,
        SubscribeInputError,
        Target,
        plan,
        subscriber,
    )

    out = out or sys.stdout
    err = err or sys.stderr
    rule_name = args.rule_name if args.rule_name is not None else RULE_NAME
    try:
        settings = load_settings()
        target = (
            Target("topic", args.topic) if args.topic is not None else Target("queue", args.queue or settings.queue)
        )
        the_plan = plan(rule_name, settings.region, target)
        if args.dry_run:
            wire = _dry_delete(rule_name) if args.delete else the_plan.wire()
            print(json.dumps(wire, indent=2), file=out)
            return 0
        client = subscriber(settings)
    except (SettingsError, SubscribeInputError, CredentialsError, ClientConfigError) as exc:
        print(f"ecs-events: subscribe: {printable(str(exc))}", file=err)
        return 2
    try:
        if args.delete:
            print(f"event rule {rule_name}: {client.delete(rule_name)}", file=out)
            return 0
        outcome = client.apply(the_plan)
    except EcsEventsError as exc:
        print(f"ecs-events: subscribe: {printable(' '.join(str(exc).split()))}", file=err)
        return 1
    names = sum(len(p["NameList"]) for p in the_plan.patterns)
    print(
        f"event rule {rule_name}: {outcome} -> {target} ({names} names in {len(the_plan.patterns)} patterns)",
        file=out,
    )
    return 0
