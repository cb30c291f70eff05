"""A client for the control API of a served localcloud (``localcloud.control``), for other processes.

    cloud = RemoteCloud("http://127.0.0.1:8080")
    cloud.advance(3600)
    cloud.calls(action="RebootInstance")

Standard library only (urllib), and nothing else imported: the product imports this at run time to read the
clock. Errors the control API answers raise ``RemoteCloudError`` (``status`` and the one-line ``message``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen


class RemoteCloudError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _parse_time(value: str) -> datetime:
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    return datetime.fromisoformat(text)


def _iso(when: datetime | str) -> str:
    if isinstance(when, str):
        return when
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class RemoteCloud:
    """``url``: the served endpoint, ``http://HOST:PORT`` (``HOST:PORT`` is accepted too)."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        base = url.rstrip("/")
        self.url = base if "://" in base else f"http://{base}"
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = Request(f"{self.url}/_localcloud{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except HTTPError as err:
            try:
                message = str(json.loads(err.read()).get("error", err.reason))
            except (ValueError, AttributeError):
                message = str(err.reason)
            raise RemoteCloudError(err.code, message) from None

    # -- clock --
    def now(self) -> datetime:
        """The cloud's clock (aware UTC)."""
        return _parse_time(self._call("GET", "/clock")["now"])

    def manual(self) -> bool:
        """True if the served clock moves only through ``advance``/``set_time``."""
        return bool(self._call("GET", "/clock")["manual"])

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward, running everything that fell due; the new now."""
        return _parse_time(self._call("POST", "/clock", {"advance": seconds})["now"])

    def set_time(self, when: datetime | str) -> datetime:
        """Move the clock forward to ``when`` (naive = UTC); RemoteCloudError 400 if it is in the past."""
        return _parse_time(self._call("POST", "/clock", {"set": _iso(when)})["now"])

    # -- calls and state --
    def calls(self, since: int = 0, action: str | None = None) -> list[dict[str, Any]]:
        """API calls in order from index ``since``: ``{"index", "time", "product", "action", "params", "code"
        (None on success), "status"}``. Fetch incrementally with ``since=last["index"] + 1``."""
        query: dict[str, str | int] = {"since": since}
        if action is not None:
            query["action"] = action
        result: list[dict[str, Any]] = self._call("GET", f"/calls?{urlencode(query)}")
        return result

    def reset(self) -> None:
        """Drop all state (instances, queues, calls, faults, event routes; a CLI ``--events-queue`` comes back)."""
        self._call("POST", "/reset", {})

    def faults(self, product: str = "*", action: str = "*", **rule: float) -> dict[str, Any]:
        """Set the fault rule for ``product``/``action`` (``*`` for any): throttling_rate, error_rate, reset_rate
        (0..1), latency (seconds), qps_limit. Returns ``{"product", "action", "rule"}``."""
        result: dict[str, Any] = self._call("POST", "/faults", {"product": product, "action": action, **rule})
        return result

    def clear_faults(self) -> None:
        self._call("POST", "/faults", {"clear": True})

    def load_fleet(self, fleet: dict[str, Any]) -> dict[str, Any]:
        """Build a fleet (the dict of a fleet YAML); ``{"instances": {group: [ids]}, "load_balancers",
        "vserver_groups", "instance_ids"}``."""
        result: dict[str, Any] = self._call("POST", "/fleet", fleet)
        return result

    def route_events_to_queue(self, name: str, retention: int | None = None) -> None:
        """Create MNS queue ``name`` if needed and deliver every ECS notification to it (once, however often
        this is called); ``retention`` sets its MessageRetentionPeriod (seconds)."""
        body: dict[str, Any] = {"queue": name}
        if retention is not None:
            body["retention"] = retention
        self._call("POST", "/events/route", body)

    def route_events_to_topic(self, name: str) -> None:
        self._call("POST", "/events/route", {"topic": name})

    # -- simulated events --
    def simulate(
        self,
        instance_id: str,
        event_type: str = "SystemMaintenance.Reboot",
        not_before: datetime | str | None = None,
        status: str = "Scheduled",
    ) -> str:
        """Publish a system event (``status`` Scheduled or Inquiring); its event id. ``not_before`` defaults to
        the cloud's now + 1 hour."""
        if not_before is None:
            not_before = self.now() + timedelta(hours=1)
        body = {"instance_id": instance_id, "event_type": event_type, "not_before": _iso(not_before), "status": status}
        return str(self._call("POST", "/simulate", body)["event_id"])

    def preempt(self, instance_id: str, notice_seconds: float = 300) -> None:
        """Interrupt a preemptible instance: notice now, released after ``notice_seconds``."""
        self._call("POST", "/simulate", {"preempt": instance_id, "notice_seconds": notice_seconds})

    def disk_event(self, disk_id: str, event_type: str = "Stalled", duration: float = 120) -> str:
        """A disk event (Executing now, finished after ``duration`` seconds); its event id."""
        body = {"disk_event": disk_id, "event_type": event_type, "duration": duration}
        return str(self._call("POST", "/simulate", body)["event_id"])
