"""``ecs-events parse FILE... [--json]``: detect, unwrap and validate event payloads, offline.

Every good event is printed (readably, or one JSON object per line with ``--json``); every bad file gets one line
on stderr naming the file, the source and the field (a batch: its first 20 bad items, then one line for the
rest); the exit code is 2 if any input was bad. Only regular files and stdin are read, at most 6 MiB + 1 byte."""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from ecs_events.errors import BodyTooLargeError, InputError, printable
from ecs_events.sources import MAX_BATCH_BYTES, Delivery, unwrap

MAX_SHOWN = 20  # bad items of one file shown; the rest are one "... and N more bad items" line
_C1 = re.compile("[\x7f-\x9f\u2028\u2029]")


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "parse",
        help="parse event payloads (any delivery format) and print the events",
        description="Detect the delivery format of each file (CloudMonitor JSON, MNS queue or topic message, "
        "EventBridge CloudEvent or batch, FC 3.0 MNS queue trigger, FC timer), validate it and print the events. "
        "A CloudEvent that is neither an ECS event (source acs.ecs) nor an MNS queue trigger message is refused. "
        "'-' reads stdin.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="payload files; '-' for standard input")
    parser.add_argument("--json", action="store_true", help="one JSON object per event per line")
    parser.set_defaults(func=run)


def _read(name: str) -> bytes:
    """At most the batch limit plus one byte (so an over-size body is refused without reading it whole), from a
    regular file or stdin ('-') only: /dev/zero, a FIFO or a directory is refused before it is opened."""
    limit = MAX_BATCH_BYTES + 1
    if name == "-":
        return sys.stdin.buffer.read(limit)
    info = os.stat(name)
    if not stat.S_ISREG(info.st_mode):
        raise InputError("not a regular file", source="file")
    if info.st_size > MAX_BATCH_BYTES:
        raise BodyTooLargeError(f"{info.st_size} bytes is over the {MAX_BATCH_BYTES}-byte limit", source="file")
    # O_NONBLOCK: if a FIFO was swapped in since the stat, opening it does not wait for a writer.
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError("not a regular file", source="file")
        return handle.read(limit)


def _readable(record: dict[str, Any]) -> str:
    """Two lines for a person; every value escaped (an event cannot forge output lines or terminal escapes)."""
    if record.get("kind") == "timer":
        return printable(f"timer tick {record['name']} at {record['event_time']}")
    if record.get("kind") == "wake":
        return printable(f"timer wake of {record['saga']} due {record['event_time']}  [via {record['source']}]")
    head = f"{record['name']}  [{record['kind']}, via {record['source']}]"
    fields = [
        f"{key}={record[key]}"
        for key in ("status", "level", "instance_id", "disk_id", "snapshot_id", "not_before", "event_time")
        if record.get(key) is not None
    ]
    fields.append(f"region={record['region']} account={record['account']}")
    return printable(head) + "\n    " + printable(" ".join(fields))


def _json_line(record: dict[str, Any]) -> str:
    """One JSON object; json escapes C0 controls, and DEL and C1 controls are escaped here too."""
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(record, ensure_ascii=False))


def parse_files(names: list[str]) -> Iterator[tuple[str, Delivery | InputError]]:
    for name in names:
        label = "<stdin>" if name == "-" else printable(name)
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
    for name in args.files:
        shown = 0
        for label, item in parse_files([name]):
            if isinstance(item, InputError):
                bad += 1
                shown += 1
                if shown <= MAX_SHOWN:
                    print(f"{label}: {item}", file=err)
                continue
            record = item.record()
            if args.json:
                print(_json_line({"file": label, **record}), file=out)
            else:
                print(f"{label}: {_readable(record)}", file=out)
        if shown > MAX_SHOWN:
            label = "<stdin>" if name == "-" else printable(name)
            print(f"{label}: ... and {shown - MAX_SHOWN} more bad items", file=err)
    return 2 if bad else 0
