"""``ecs-events replay FILE... [--through FUNCTION] [--functions DIR] [--json]``: payload files through the real FC
handlers (``functions/<name>/index.py``), exactly as Function Compute would call them: ``initialize(context)`` once per
function, then ``handler(event_bytes, context)`` with a Context built from the environment. Against localcloud
(``ECS_EVENTS_LOCALCLOUD``) or a real account.

Without ``--through``, the function is the one whose trigger the payload would reach: an MNS queue trigger
invocation (``mns:Queue:SendMessage`` CloudEvents, RawData items) or a timer tick -> consumer, another CloudEvent (or
an array of them) -> eventbridge, else by event kind (instance system event -> maintenance, preemption
-> preemption, disk event or disk operation -> disk, state change -> lifecycle, snapshot -> snapshot); a payload that
cannot be parsed -> maintenance, whose poison path dead-letters it.

``--delivery mns-queue-trigger`` (localcloud only): each file is a queue message instead (a notification, sent
base64-encoded as CloudMonitor writes it; a base64 file as it is) put on the events queue, and localcloud's FC 3.0
MNS queue trigger (``localcloud.mns.trigger``, configured by ``--trigger-config FILE``: the triggerConfig object of
s.yaml, JSON or YAML; default: the events queue, IsBase64Decode on, batches of 10) delivers the queue to the
``consumer`` function as the trigger would: that message and whatever else is visible then (due timers). One line
per invocation, ``FILE -> consumer via mns-queue-trigger: summary``.

One line per file, ``FILE -> FUNCTION: summary`` (``--json``: ``{"file", "function", "result"}``). Exit 0 when every
file was handled (dead-lettering poison is handling it), 1 on the first failure the trigger would retry (one line on
stderr), 2 on a missing file, an unknown function or a bad configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import stat
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import ecs_events
from ecs_events.errors import EcsEventsError, InputError, printable
from ecs_events.models.base import EventKind
from ecs_events.runtime import fc, handlers
from ecs_events.sources import MAX_BATCH_BYTES, Source, TimerTick, is_queue_trigger, unwrap

# Configuration errors: exit 2, like any bad input.
_CONFIG_ERRORS = ("SettingsError", "ConfigError", "PolicyError", "CredentialsError", "ClientConfigError", "StoreError")


class ReplayError(EcsEventsError):
    """A replay that cannot start: a missing file, no functions directory, an unknown function (exit 2)."""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "replay",
        help="invoke the FC handlers with payload files, as Function Compute would",
        description="Invoke functions/<name>/index.py with each file's bytes as FC would (initialize once, then "
        "handler), against localcloud (ECS_EVENTS_LOCALCLOUD) or a real account. The function is picked from the "
        "payload unless --through names it.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="payload files; '-' for standard input")
    names = ", ".join(handlers.FUNCTIONS)
    parser.add_argument(
        "--through", choices=handlers.FUNCTIONS, metavar="FUNCTION", help=f"{names} (default: from the payload)"
    )
    parser.add_argument("--functions", type=Path, metavar="DIR", help="the functions/ directory (default: found)")
    parser.add_argument(
        "--delivery",
        choices=("direct", TRIGGER),
        default="direct",
        help="direct: each file is what FC passes the function (default); mns-queue-trigger: each file is a queue "
        "message, delivered to the consumer by localcloud's MNS queue trigger (needs ECS_EVENTS_LOCALCLOUD)",
    )
    parser.add_argument(
        "--trigger-config",
        type=Path,
        metavar="FILE",
        help="with --delivery mns-queue-trigger: the FC3 triggerConfig "
        "object (JSON or YAML; default: the events queue, IsBase64Decode on, CountBasedWindow 10)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per file")
    parser.add_argument("--log-level", default="WARNING", help="level of the JSON log lines on stderr (WARNING)")
    parser.set_defaults(func=run)


TRIGGER = "mns-queue-trigger"


# -- picking the function -------------------------------------------------------------------------------------------
_BY_KIND = {kind: name for name, kinds in handlers.KINDS.items() for kind in kinds or ()}
_BY_SOURCE = {"eventbridge": "eventbridge", "timer": handlers.CONSUMER, "mns-queue-trigger": handlers.CONSUMER}


def pick_function(body: bytes) -> str:
    """The function whose trigger this payload would reach (see the module doc)."""
    try:
        deliveries = unwrap(body)
    except InputError as exc:
        return _BY_SOURCE.get(exc.source, "maintenance")
    if is_queue_trigger(deliveries):
        return handlers.CONSUMER
    if any(d.source is Source.EVENTBRIDGE for d in deliveries):
        return "eventbridge"
    first = deliveries[0]
    if first.is_timer:
        return handlers.CONSUMER
    event = first.event
    if event is None or isinstance(event, TimerTick):  # an error item: only batches have them (EventBridge above)
        return "maintenance"
    if event.kind is EventKind.UNKNOWN:
        return "disk" if event.name.startswith("Disk:") else "maintenance"
    return _BY_KIND.get(event.kind, "maintenance")


# -- finding and loading the functions ------------------------------------------------------------------------------
def find_functions(given: Path | None = None) -> Path:
    """``given``, else ``./functions``, else next to the package: the project tree (``shared/ecs_events`` ->
    ``functions/``) or a built package whose root holds ``ecs_events/`` and ``functions/`` or ``<name>/``."""
    if given is not None:
        if not (given / "maintenance" / "index.py").is_file():
            raise ReplayError(f"--functions {printable(str(given))}: no maintenance/index.py there")
        return given
    package = Path(ecs_events.__file__).resolve().parent
    for candidate in (Path.cwd() / "functions", package.parent.parent / "functions", package.parent / "functions",
                      package.parent):  # fmt: skip
        if (candidate / "maintenance" / "index.py").is_file():
            return candidate
    raise ReplayError("no functions/ directory here or next to the ecs_events package: pass --functions DIR")


def load_function(name: str, directory: Path) -> ModuleType:
    """``<directory>/<name>/index.py`` as its own module (seven ``index`` modules cannot share one name)."""
    path = directory / name / "index.py"
    spec = importlib.util.spec_from_file_location(f"ecs_events_function_{name}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ReplayError(f"{printable(str(path))}: no such function")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# -- files ----------------------------------------------------------------------------------------------------------
def _check(name: str) -> None:
    """Refuse before anything is invoked: a missing file, not a regular file, over the batch limit."""
    if name == "-":
        return
    try:
        info = os.stat(name)
    except OSError as exc:
        raise ReplayError(f"{printable(name)}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ReplayError(f"{printable(name)}: not a regular file")
    if info.st_size > MAX_BATCH_BYTES + 1:
        raise ReplayError(f"{printable(name)}: {info.st_size} bytes is over the {MAX_BATCH_BYTES}-byte limit")


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read(MAX_BATCH_BYTES + 1)
    with open(name, "rb") as handle:
        return handle.read(MAX_BATCH_BYTES + 1)


# -- output ---------------------------------------------------------------------------------------------------------
def summarize(result: Any) -> str:
    """One line for a handler's result: the push summary's counts and first reasons, or the consumer's report."""
    if not isinstance(result, dict):
        return printable(repr(result))[:300]
    if "received" in result:
        return (f"received {result['received']}, handled {result['handled']}, retried {result['retried']}, "
                f"dead-lettered {result['dead_lettered']}, notices sent {result['notices_sent']}")  # fmt: skip
    parts = [f"{r['outcome']}: {r['reason']}" for r in result.get("results", [])]
    parts += [f"dead-lettered: {reason}" for reason in result.get("reasons", [])]
    shown = "; ".join(parts[:3]) + (f" (+{len(parts) - 3} more)" if len(parts) > 3 else "")
    events = int(result.get("events", 0))
    if events <= 1 and shown:
        return printable(shown)
    counts = (f"{events} events: {result.get('acted', 0)} acted, {result.get('ignored', 0)} ignored, "
              f"{result.get('dead_lettered', 0)} dead-lettered")  # fmt: skip
    return printable(f"{counts}; {shown}" if shown else counts)


def _trigger_config(path: Path | None, queue: str) -> Any:
    """localcloud's TriggerConfig from ``--trigger-config`` (JSON or YAML), or the default one on ``queue``."""
    try:
        from localcloud.mns.trigger import TriggerConfig, TriggerConfigError
    except ImportError:  # the FC package ships no localcloud
        raise ReplayError(f"--delivery {TRIGGER}: localcloud is not installed here") from None
    if path is None:
        return TriggerConfig(queue=queue)
    import yaml

    try:
        given = yaml.safe_load(path.read_text(encoding="utf-8"))
        return TriggerConfig.parse(given)
    except OSError as exc:
        raise ReplayError(f"--trigger-config {printable(str(path))}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, TriggerConfigError) as exc:
        raise ReplayError(f"--trigger-config {printable(str(path))}: {' '.join(str(exc).split())}") from None


def _replay_through_trigger(args: argparse.Namespace, directory: Path, out: TextIO, err: TextIO) -> int:
    """Every file onto the queue, then localcloud's MNS queue trigger delivers to the consumer (module doc)."""
    if args.through not in (None, handlers.CONSUMER):
        print(f"ecs-events: replay: --delivery {TRIGGER} delivers to the consumer, not {args.through}", file=err)
        return 2
    function = handlers.CONSUMER
    try:
        module = load_function(function, directory)
        module.initialize(_context(function))
        app = handlers.initialize()
        if not app.settings.localcloud:
            raise ReplayError(f"--delivery {TRIGGER} needs ECS_EVENTS_LOCALCLOUD: on a real account the trigger itself "
                              "delivers the queue")  # fmt: skip
        config = _trigger_config(args.trigger_config, app.settings.queue)
    except ReplayError as exc:
        print(f"ecs-events: replay: {exc}", file=err)
        return 2
    except EcsEventsError as exc:
        print(f"ecs-events: replay: {printable(str(exc))}", file=err)
        return 2
    from localcloud.mns.trigger import QueueTrigger

    trigger = QueueTrigger(
        app.clients.mns_account(),
        config,
        lambda event: fc.invoke(module.handler, event, _context(function)),
        now=app.now,
        account_id=app.settings.account_id or "",
        region_id=app.settings.region,
    )
    queue = app.clients.queue(config.queue)
    for name in args.files:
        label = "<stdin>" if name == "-" else printable(name)
        body = _read(name)
        try:
            text = body.decode("utf-8")
            if is_queue_trigger(unwrap(body)):
                print(f"{label}: already an MNS queue trigger invocation: replay it without --delivery", file=err)
                return 2
        except UnicodeDecodeError:
            print(f"{label}: not UTF-8: no queue message", file=err)
            return 2
        except InputError:
            pass  # a bad message is still a message: the consumer dead-letters it
        try:  # a notification goes on the queue as CloudMonitor writes it (base64); anything else as it is
            queue.send(text, raw=text.lstrip()[:1] not in ("{", "["))
            invocations = trigger.drain()
        except EcsEventsError as exc:
            print(f"{label} -> {function} via {TRIGGER}: failed: {printable(str(exc))}", file=err)
            return 1
        for invocation in invocations:
            if not invocation.ok:  # left on the queue: the trigger would retry it
                print(f"{label} -> {function} via {TRIGGER}: failed: {printable(str(invocation.error))}", file=err)
                return 1
            if args.json:
                record = {"file": label, "function": function, "delivery": TRIGGER, "result": invocation.result}
                print(json.dumps(record, default=str), file=out)
            else:
                print(f"{label} -> {function} via {TRIGGER}: {summarize(invocation.result)}", file=out)
    return 0


def _context(name: str) -> fc.Context:
    base = fc.Context.from_env(request_id=str(uuid.uuid4()))
    return dataclasses.replace(base, function=dataclasses.replace(base.function, name=name, handler="index.handler"))


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        for name in args.files:
            _check(name)
        directory = find_functions(args.functions)
    except ReplayError as exc:
        print(f"ecs-events: replay: {exc}", file=err)
        return 2
    handlers.configure_logs(args.log_level.upper())
    if args.delivery == TRIGGER:
        try:
            return _replay_through_trigger(args, directory, out, err)
        finally:
            handlers.reset()
    loaded: dict[str, ModuleType] = {}
    try:
        for name in args.files:
            label = "<stdin>" if name == "-" else printable(name)
            body = _read(name)
            function = args.through or pick_function(body)
            try:
                if function not in loaded:
                    module = load_function(function, directory)
                    module.initialize(_context(function))
                    loaded[function] = module
                result = fc.invoke(loaded[function].handler, body, _context(function))
            except ReplayError as exc:
                print(f"ecs-events: replay: {exc}", file=err)
                return 2
            except EcsEventsError as exc:
                print(f"{label} -> {function}: failed: {printable(str(exc))}", file=err)
                return 2 if type(exc).__name__ in _CONFIG_ERRORS and function not in loaded else 1
            if args.json:
                print(json.dumps({"file": label, "function": function, "result": result}, default=str), file=out)
            else:
                print(f"{label} -> {function}: {summarize(result)}", file=out)
    finally:
        handlers.reset()
    return 0
