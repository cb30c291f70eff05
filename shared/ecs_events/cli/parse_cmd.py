"""``ecs-events parse FILE... [--json]``: detect, unwrap and validate event payloads, offline.

Every good event is printed (readably, or one JSON object per line with ``--json``); every bad file gets one line
on stderr naming the file, the source and the field; the exit code is 2 if any input was bad."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ecs_events.errors import InputError
from ecs_events.sources import Delivery, unwrap


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "parse",
        help="parse event payloads (any delivery format) and print the events",
        description="Detect the delivery format of each file (CloudMonitor JSON, MNS queue or topic message, "
        "EventBridge CloudEvent or batch, FC timer), validate it and print the events. '-' reads stdin.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="payload files; '-' for standard input")
    parser.add_argument("--json", action="store_true", help="one JSON object per event per line")
    parser.set_defaults(func=run)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _readable(record: dict[str, Any]) -> str:
    if record.get("kind") == "timer":
        return f"timer tick {record['name']} at {record['event_time']}"
    head = f"{record['name']}  [{record['kind']}, via {record['source']}]"
    fields = [
        f"{key}={record[key]}"
        for key in ("status", "level", "instance_id", "disk_id", "snapshot_id", "not_before", "event_time")
        if record.get(key) is not None
    ]
    fields.append(f"region={record['region']} account={record['account']}")
    return head + "\n    " + " ".join(fields)


def parse_files(names: list[str]) -> Iterator[tuple[str, Delivery | InputError]]:
    for name in names:
        label = "<stdin>" if name == "-" else name
        try:
            deliveries = unwrap(_read(name))
        except InputError as exc:
            yield label, exc
            continue
        except OSError as exc:
            yield label, InputError(exc.strerror or str(exc), source="file")
            continue
        for delivery in deliveries:
            yield label, delivery.error if delivery.error is not None else delivery


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    bad = 0
    for label, item in parse_files(args.files):
        if isinstance(item, InputError):
            bad += 1
            print(f"{label}: {item}", file=err)
            continue
        record = item.record()
        if args.json:
            print(json.dumps({"file": label, **record}, ensure_ascii=False), file=out)
        else:
            print(f"{label}: {_readable(record)}", file=out)
    return 2 if bad else 0
