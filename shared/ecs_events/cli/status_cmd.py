"""``ecs-events status [--json] [--limit N] [--html FILE]``: what the engine is doing now, read straight from the store.

Shows the sagas in flight (current step, when it is next due, the event's status and notBefore), the most recently
finished ones, the backends drained now with their ORIGINAL weights (what will be restored), the disruption budgets in
use, and the notification outbox (pending count, dead items with their last error).

Needs only ``ECS_EVENTS_STORE``: no account, no credentials, no cloud call (with ``ECS_EVENTS_LOCALCLOUD`` set, "now"
is read from its clock, else the wall clock; it only matters for a saga with no timer armed). A sqlite file that does
not exist is an empty store and is not created. ``--json`` prints one object: ``{in_flight, finished, drained,
budgets, outbox: {pending, dead}, unreadable}``. ``--html FILE`` also writes the timeline of every saga in the store
as a self-contained page (``ecs_events.tools.timeline_html``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ecs_events.errors import EcsEventsError, printable

if TYPE_CHECKING:
    from ecs_events.engine.saga import Saga
    from ecs_events.store import Store

DEFAULT_LIMIT = 10


class UsageError(EcsEventsError):
    """A bad option or setting: one line, exit 2."""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "status",
        help="sagas in flight and finished, drained backends, budgets, outbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument(
        "--limit", default=str(DEFAULT_LIMIT), metavar="N", help=f"finished sagas shown (default {DEFAULT_LIMIT})"
    )
    parser.add_argument("--html", metavar="FILE", help="also write the timeline as a self-contained HTML page")
    parser.set_defaults(func=run)


# -- reading the store -------------------------------------------------------------------------------------------
def _limit(value: str) -> int:
    try:
        limit = int(value)
    except ValueError:
        limit = -1
    if limit < 0:
        raise UsageError(f"--limit: expected a whole number >= 0, got {value!r}")
    return limit


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///PATH`` URL (None for any other backend), as ``open_store`` reads it."""
    scheme, sep, rest = url.partition("://")
    return rest[1:] if sep and scheme == "sqlite" and rest.startswith("/") and len(rest) > 1 else None


def open_existing(url: str) -> Store | None:
    """The store named by ``url``; None for a sqlite file that does not exist (status never creates one)."""
    from ecs_events.store import open_store

    path = sqlite_path(url)
    if path is not None and not os.path.exists(path):
        return None
    return open_store(url)


def _in_flight(saga: Saga, now: Callable[[], datetime]) -> dict[str, Any]:
    from ecs_events.engine.reconciler import stuck
    from ecs_events.models.times import iso_utc

    step = saga.current
    at = now()
    # The next look: the step's due time, or a timer on its way sooner (a step that news wakes has no timer: its
    # due time is the reconciler's backstop look, and an old wake_at is no promise).
    timer = saga.wake_at if saga.wake_at is not None and saga.wake_at > at else None
    due = min((t for t in (saga.next_due(at), timer) if t is not None), default=None)
    return {
        "key": saga.key,
        "instance_id": saga.instance_id,
        "event": saga.event_name,
        "event_id": saga.event_id,
        "playbook": saga.playbook,
        "step": step.action.value if step else None,
        "step_index": saga.cursor + 1,
        "steps": len(saga.steps),
        "step_detail": step.detail if step else None,
        "next_due": iso_utc(due),
        "event_status": saga.event_status,
        "not_before": iso_utc(saga.not_before),
        "drained": saga.drained,
        "drain_deadline": iso_utc(saga.drain_deadline) if saga.drained else None,
        "started_at": iso_utc(saga.created_at),
        "stuck": stuck(saga, now()),
    }


def _finished(saga: Saga) -> dict[str, Any]:
    from ecs_events.models.times import iso_utc

    return {
        "key": saga.key,
        "instance_id": saga.instance_id,
        "event": saga.event_name,
        "playbook": saga.playbook,
        "status": saga.status.value,
        "outcome": saga.outcome,
        "finished_at": iso_utc(saga.updated_at),
        "last": last_line(saga),
    }


def last_line(saga: Saga, limit: int = 200) -> str | None:
    """The saga's last history line that says something (a bare step name such as ``close`` does not), cut to
    ``limit`` characters on one line (a console output step records the console's tail)."""
    entries = [e for e in saga.history if e.what != e.step] or saga.history
    if not entries:
        return None
    entry = entries[-1]
    line = " ".join((f"{entry.step}: {entry.what}" if entry.step else entry.what).split())
    return line if len(line) <= limit else line[:limit] + "..."


def _drained(store: Store) -> list[dict[str, Any]]:
    from ecs_events.engine.drain import drained_now

    out = []
    for doc in drained_now(store):
        members = [
            {k: m.get(k) for k in ("kind", "lb_id", "group_id", "port", "weight", "state", "reason")}
            for m in doc.value.get("memberships", [])
            if isinstance(m, dict)
        ]
        out.append(
            {
                "instance_id": doc.key.removeprefix("drain/"),
                "memberships": members,
                "holders": list(doc.value.get("holders", [])),
                "since": doc.value.get("since"),
                "deadline": doc.value.get("deadline"),
                "restoring": not doc.value.get("holders"),
            }
        )
    return out


def _budgets(store: Store) -> list[dict[str, Any]]:
    out = []
    for doc in store.scan("budget/"):
        holders = doc.value.get("holders") or {}
        out.append({"lb_id": doc.key.removeprefix("budget/"), "holders": dict(holders), "size": doc.value.get("size")})
    return out


def _outbox(store: Store) -> dict[str, Any]:
    from ecs_events.notify.outbox import dead, pending

    dead_items = [
        {
            "key": item.key,
            "title": item.notice.title if item.notice else None,
            "attempts": item.attempts,
            "last_error": item.last_error or item.problem,
        }
        for item in dead(store)
    ]
    return {"pending": len(pending(store)), "dead": dead_items}


def collect(store: Store, now: Callable[[], datetime], limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The whole status as one JSON-able object. ``now`` is only called for a saga with no timer armed."""
    from pydantic import ValidationError

    from ecs_events.engine.saga import Saga

    sagas: list[Saga] = []
    unreadable: list[str] = []
    for doc in store.scan("saga/"):
        try:
            sagas.append(Saga.from_doc(doc.value))
        except ValidationError:
            unreadable.append(doc.key)
    active = [_in_flight(s, now) for s in sagas if s.active]
    active.sort(key=lambda r: (r["next_due"] is None, r["next_due"] or "", r["key"]))
    done = sorted((s for s in sagas if not s.active), key=lambda s: (s.updated_at, s.key), reverse=True)
    return {
        "in_flight": active,
        "finished": [_finished(s) for s in done[:limit]],
        "drained": _drained(store),
        "budgets": _budgets(store),
        "outbox": _outbox(store),
        "unreadable": unreadable,
    }


def empty() -> dict[str, Any]:
    return {
        "in_flight": [],
        "finished": [],
        "drained": [],
        "budgets": [],
        "outbox": {"pending": 0, "dead": []},
        "unreadable": [],
    }


# -- printing ----------------------------------------------------------------------------------------------------
def _where(m: dict[str, Any]) -> str:
    group = m.get("group_id") or "default group"
    port = f":{m['port']}" if m.get("port") is not None else ""
    return f"{(m.get('kind') or 'clb').upper()} {m.get('lb_id')} {group}{port}"


def readable(status: dict[str, Any]) -> list[str]:
    """The status for a person: sections that have something, one line per item plus indented details."""
    lines: list[str] = []
    if not status["in_flight"] and not status["finished"]:
        lines.append("no sagas")
    if status["in_flight"]:
        lines.append(f"in flight ({len(status['in_flight'])}):")
        for s in status["in_flight"]:
            lines.append(f"  {s['key']}  {s['event']}  [{s['playbook']}]" + ("  STUCK" if s["stuck"] else ""))
            detail = f" ({s['step_detail']})" if s["step_detail"] else ""
            lines.append(
                f"    step {s['step_index']}/{s['steps']} {s['step'] or '-'}{detail}, next due {s['next_due'] or '-'}, "
                f"event {s['event_status'] or '-'}, not before {s['not_before'] or '-'}"
                + (f", drained until {s['drain_deadline']}" if s["drained"] else "")
            )
    if status["finished"]:
        lines.append(f"finished (latest {len(status['finished'])}):")
        for s in status["finished"]:
            lines.append(f"  {s['key']}  {s['status']}/{s['outcome'] or '-'}  at {s['finished_at']}  [{s['playbook']}]")
            if s["last"]:
                lines.append(f"    {s['last']}")
    if status["drained"]:
        lines.append(f"drained ({len(status['drained'])}):")
        for d in status["drained"]:
            held = "restoring (no holder)" if d["restoring"] else f"held by {', '.join(d['holders'])}"
            lines.append(f"  {d['instance_id']}  since {d['since']}  until {d['deadline'] or '-'}  {held}")
            lines += [
                f"    {_where(m)}  original weight {m.get('weight')}  {m.get('state') or 'drained'}"
                + (f" ({m['reason']})" if m.get("reason") else "")
                for m in d["memberships"]
            ]
    if status["budgets"]:
        lines.append("disruption budgets in use:")
        for b in status["budgets"]:
            held = ", ".join(sorted(b["holders"])) or "-"
            lines.append(f"  {b['lb_id']}: {len(b['holders'])} of {b['size'] or '?'} backends drained ({held})")
    box = status["outbox"]
    if box["pending"] or box["dead"]:
        lines.append(f"outbox: {box['pending']} pending, {len(box['dead'])} dead")
        lines += [f"  dead {d['key']}: {d['title'] or '?'}: {d['last_error'] or '?'}" for d in box["dead"]]
    if status["unreadable"]:
        lines.append(f"unreadable saga documents: {', '.join(status['unreadable'])}")
    return [printable(line) for line in lines]


# -- the command -------------------------------------------------------------------------------------------------
def _now(settings: Any) -> Callable[[], datetime]:
    """The localcloud's clock when one is configured (falling back to the wall clock if it is down), else the wall
    clock: status is read-only, a clock it cannot read must not stop it."""
    from ecs_events.runtime.clock import ClockError, clock_for, system_now

    clock = clock_for(settings.localcloud)

    def now() -> datetime:
        try:
            return clock()
        except ClockError:
            return system_now()

    return now


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from ecs_events.runtime.settings import SettingsError, load_settings
    from ecs_events.store import StoreError

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        limit = _limit(args.limit)
        settings = load_settings()
        store = open_existing(settings.store)
    except (UsageError, SettingsError, StoreError) as exc:
        print(f"ecs-events: status: {printable(str(exc))}", file=err)
        return 2
    page = None
    try:
        status = empty() if store is None else collect(store, _now(settings), limit)
        if getattr(args, "html", None):
            from ecs_events.tools.timeline_html import page_from_store

            page = page_from_store(store, _now(settings)())
    except EcsEventsError as exc:
        print(f"ecs-events: status: {printable(str(exc))}", file=err)
        return 1
    finally:
        if store is not None:
            store.close()
    if args.json:
        from ecs_events.cli.parse_cmd import _json_line

        print(_json_line(status), file=out)
    else:
        print("\n".join(readable(status)), file=out)
    if page is not None:
        html = Path(args.html)
        html.write_text(page, encoding="utf-8")
        if not args.json:
            print(f"HTML timeline: {html.absolute()}", file=out)
    return 0
