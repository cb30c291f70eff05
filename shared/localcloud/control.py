"""The control API: drive a served localcloud from other processes, in the spirit of moto's ``/moto-api/``.

Served on the same port under ``/_localcloud``; no signature; JSON in and out. Errors are ``{"error": "..."}``
(one line) with 400 (bad input), 404 (unknown path or resource), 405 (wrong method). Control calls are not API
calls: they are not in the call log and faults never apply to them.

    GET  /_localcloud/clock          -> {"now": "2026-11-26T02:00:00Z", "manual": true}
    POST /_localcloud/clock          {"advance": seconds} | {"set": ISO}        -> {"now": ISO, "manual": bool}
    GET  /_localcloud/calls          ?since=N&action=X                            -> [{"index", "time", "product",
                                     "action", "params", "code" (null = success), "status"}, ...]
    POST /_localcloud/reset          -> {"reset": true}   (everything, incl. event routes; then after_reset hooks)
    POST /_localcloud/faults         {"product", "action", <FaultRule fields>} -> {"product", "action", "rule"}
                                     {"clear": true}                            -> {"cleared": true}
    POST /_localcloud/fleet          a fleet dict (as a fleet YAML)             -> {"instances", "load_balancers",
                                                                                    "vserver_groups", "albs", "nlbs",
                                                                                    "server_groups", "instance_ids"}
    GET  /_localcloud/alb            (and /nlb)                                -> {"load_balancers", "listeners",
                                     "server_groups": [{"id", "name", "status", "load_balancers", "connection_drain",
                                     "servers": [{"server_id", "port", "weight", "status", "health"}]}]}
    POST /_localcloud/events/route   {"queue": NAME[, "retention": S]} | {"topic": NAME} -> {"routed": "queue:NAME"}
    POST /_localcloud/simulate       {"instance_id", "event_type", "not_before": ISO, "status"} -> {"event_id"}
                                     {"preempt": instance_id, "notice_seconds"} -> {"preempted": instance_id}
                                     {"disk_event": disk_id, "event_type", "duration"} -> {"event_id"}

Times are ISO 8601 UTC with a ``Z`` (milliseconds when not whole seconds); a time given without a zone is UTC.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from localcloud.core import CallRecord, FaultRule
from localcloud.errors import CloudError
from localcloud.fleet import load_fleet
from localcloud.rpc import COMMON_PARAMS

if TYPE_CHECKING:
    from localcloud.facade import Cloud

PREFIX = "/_localcloud"
JSON_HEADERS = {"Content-Type": "application/json"}
_FAULT_FIELDS = frozenset(f.name for f in fields(FaultRule))
_RATES = frozenset({"throttling_rate", "error_rate", "reset_rate"})

Body = dict[str, Any]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def iso(when: datetime) -> str:
    """``2026-11-26T02:00:00Z``, or ``2026-11-26T02:00:00.250Z`` when not whole seconds."""
    when = when.astimezone(timezone.utc)
    base = when.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{when.microsecond // 1000:03d}Z" if when.microsecond else f"{base}Z"


def parse_iso(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise ControlError(400, f"{name} must be an ISO 8601 time string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ControlError(400, f"{name} is not an ISO 8601 time: {value!r}") from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _number(body: Body, name: str, default: float | None = None, low: float = 0.0, high: float | None = None) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ControlError(400, f"{name} must be a number")
    if value < low or (high is not None and value > high):
        raise ControlError(400, f"{name} must be from {low:g}" + (f" to {high:g}" if high is not None else " up"))
    return float(value)


def _text(body: Body, name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"{name} must be a non-empty string")
    return value


def call_json(index: int, rec: CallRecord) -> dict[str, Any]:
    params = rec.params
    if rec.product in ("Ecs", "Slb", "Alb", "Nlb", "Cms", "?"):
        params = {k: v for k, v in params.items() if k not in COMMON_PARAMS}
    return {
        "index": index,
        "time": iso(rec.time),
        "product": rec.product,
        "action": rec.action,
        "params": params,
        "code": None if rec.code == "OK" else rec.code,
        "status": rec.status,
    }


class ControlApi:
    """The ``/_localcloud`` handlers for one LocalCloud. ``after_reset`` hooks run after every POST /reset (the
    served CLI re-adds its ``--events-queue`` route there)."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.after_reset: list[Callable[[], None]] = []
        self._routes: dict[str, dict[str, Callable[[Body, dict[str, list[str]]], Any]]] = {
            "/clock": {"GET": self._get_clock, "POST": self._post_clock},
            "/calls": {"GET": self._calls},
            "/reset": {"POST": self._reset},
            "/faults": {"POST": self._faults},
            "/fleet": {"POST": self._fleet},
            "/events/route": {"POST": self._route},
            "/alb": {"GET": lambda body, query: self.cloud.alb.state()},
            "/nlb": {"GET": lambda body, query: self.cloud.nlb.state()},
            "/simulate": {"POST": self._simulate},
        }

    def handle_http(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path, _, raw_query = target.partition("?")
        sub = path[len(PREFIX) :].rstrip("/") or "/"
        try:
            methods = self._routes.get(sub)
            if methods is None:
                raise ControlError(404, f"no control path {path}")
            handler = methods.get(method)
            if handler is None:
                raise ControlError(405, f"{method} {path}: use {' or '.join(methods)}")
            result = handler(self._json(body) if method == "POST" else {}, parse_qs(raw_query))
            status = 200
        except ControlError as err:
            status, result = err.status, {"error": " ".join(str(err).split())}
        except CloudError as err:
            status, result = err.status, {"error": " ".join(f"{err.code}: {err.message}".split()), "code": err.code}
        except ValueError as err:  # FleetError, a clock set backwards...
            status, result = 400, {"error": " ".join(str(err).split())}
        return status, dict(JSON_HEADERS), json.dumps(result).encode()

    @staticmethod
    def _json(body: bytes) -> Body:
        if not body.strip():
            return {}
        try:
            doc = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ControlError(400, f"body is not JSON: {err}") from None
        if not isinstance(doc, dict):
            raise ControlError(400, "body must be a JSON object")
        return doc

    # -- clock -----------------------------------------------------------------------------------------------------
    def _get_clock(self, body: Body, query: dict[str, list[str]]) -> Body:
        clock = self.cloud.clock
        return {"now": iso(clock.now()), "manual": clock.manual}

    def _post_clock(self, body: Body, query: dict[str, list[str]]) -> Body:
        if ("advance" in body) == ("set" in body):
            raise ControlError(400, 'give exactly one of {"advance": seconds} or {"set": ISO}')
        if "advance" in body:
            self.cloud.advance(_number(body, "advance"))
        else:
            self.cloud.clock.set(parse_iso(body["set"], "set"))
        return self._get_clock(body, query)

    # -- calls -----------------------------------------------------------------------------------------------------
    def _calls(self, body: Body, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        raw_since = query.get("since", ["0"])[-1]
        if not raw_since.isascii() or not raw_since.isdigit():
            raise ControlError(400, f"since must be a call index (0 or more): {raw_since!r}")
        since = int(raw_since)
        action = query.get("action", [None])[-1]
        records = self.cloud.call_log.calls()
        return [
            call_json(i, rec)
            for i, rec in enumerate(records[since:], start=since)
            if action is None or rec.action == action
        ]

    # -- state -----------------------------------------------------------------------------------------------------
    def _reset(self, body: Body, query: dict[str, list[str]]) -> Body:
        self.cloud.reset()
        for hook in self.after_reset:
            hook()
        return {"reset": True}

    def _faults(self, body: Body, query: dict[str, list[str]]) -> Body:
        if body.get("clear") is True and len(body) == 1:
            self.cloud.faults.clear()
            return {"cleared": True}
        product, action = _text(body, "product", "*"), _text(body, "action", "*")
        unknown = sorted(set(body) - _FAULT_FIELDS - {"product", "action"})
        if unknown:
            raise ControlError(400, f"unknown fault fields {unknown}; known: {sorted(_FAULT_FIELDS)} or clear")
        rule = {
            name: _number(body, name, high=1.0 if name in _RATES else None)
            for name in sorted(_FAULT_FIELDS)
            if name in body
        }
        return {"product": product, "action": action, "rule": asdict(self.cloud.faults.set(product, action, **rule))}

    def _fleet(self, body: Body, query: dict[str, list[str]]) -> Body:
        summary = load_fleet(self.cloud, body)
        return {
            "instances": summary.instances,
            "load_balancers": summary.load_balancers,
            "vserver_groups": summary.vserver_groups,
            "albs": summary.albs,
            "nlbs": summary.nlbs,
            "server_groups": summary.server_groups,
            "instance_ids": summary.instance_ids,
        }

    def _route(self, body: Body, query: dict[str, list[str]]) -> Body:
        retention = None
        if "retention" in body and "queue" in body:  # the queue's MessageRetentionPeriod
            seconds = _number(body, "retention", low=60, high=604800)
            if seconds != int(seconds):
                raise ControlError(400, "retention must be a whole number of seconds")
            retention = int(seconds)
        keys = set(body) - {"retention"} if retention is not None else set(body)
        if len(keys) != 1 or not ({"queue", "topic"} & keys):
            raise ControlError(400, 'give exactly one of {"queue": NAME[, "retention": SECONDS]} or {"topic": NAME}')
        kind = "queue" if "queue" in body else "topic"
        name = _text(body, kind)
        target = f"{kind}:{name}"
        if target not in self.cloud.ctx.events.target_names():  # routing twice would deliver twice
            if kind == "queue":
                self.cloud.route_events_to_queue(name, retention=retention)
            else:
                self.cloud.route_events_to_topic(name)
        elif retention is not None:
            self.cloud.mns.set_queue_retention(self.cloud.account_id, name, retention)
        return {"routed": target}

    # -- simulated events --------------------------------------------------------------------------------------------
    def _simulate(self, body: Body, query: dict[str, list[str]]) -> Body:
        ecs = self.cloud.ecs
        if "preempt" in body:
            instance_id = _text(body, "preempt")
            try:
                ecs.interrupt_preemptible(instance_id, _number(body, "notice_seconds", 300))
            except ValueError as err:  # not a spot instance: the request is wrong, not the cloud
                raise ControlError(400, str(err)) from None
            return {"preempted": instance_id}
        if "disk_event" in body:
            disk_id = _text(body, "disk_event")
            event_type = _text(body, "event_type", "Stalled")
            return {"event_id": ecs.inject_disk_event(disk_id, event_type, _number(body, "duration", 120))}
        if "instance_id" in body:
            from localcloud.ecs.events import EVENT_TYPES

            event_type = _text(body, "event_type", "SystemMaintenance.Reboot")
            if event_type not in EVENT_TYPES:
                raise ControlError(400, f"event_type must be one of {', '.join(EVENT_TYPES)}")
            status = _text(body, "status", "Scheduled")
            if status not in ("Scheduled", "Inquiring"):
                raise ControlError(400, "status must be Scheduled or Inquiring")
            not_before = parse_iso(body.get("not_before"), "not_before")
            return {"event_id": ecs.create_system_event(_text(body, "instance_id"), event_type, not_before, status)}
        raise ControlError(400, 'give "instance_id" (a system event), "preempt" or "disk_event"')
