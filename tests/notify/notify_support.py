"""Test support for tests/notify: a real local HTTP receiver (a DingTalk robot that checks signatures, and a
webhook), an injected clock, a log capture, notices."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ecs_events.logs import JsonFormatter
from ecs_events.notify import Notice

SECRET = "SECd0c5e7a1b2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9"
TOKEN = "7f3e9a1c5b2d8e4f6a0b3c7d9e1f5a2b4c6d8e0f1a3b5c7d9e2f4a6b8c0d1e3f5a"
WEBHOOK_TOKEN = "whk-9b8a7f6e5d4c3b2a1f0e"
SECRETS = (SECRET, TOKEN, WEBHOOK_TOKEN)
ROBOT = "/robot/send"
HOOK = "/hook"


# -- time ---------------------------------------------------------------------------------------------------------
class Clock:
    """An injected ``now``; ``advance`` instead of sleeping. ``seconds()`` is the same clock as epoch seconds."""

    def __init__(self) -> None:
        self.at = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.at

    def seconds(self) -> float:
        return self.at.timestamp()

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


# -- the receiver -------------------------------------------------------------------------------------------------
@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]
    body: bytes
    sign_ok: bool | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST. Robot paths check the signature like DingTalk (recomputed from SECRET) and answer
    errcode JSON; other paths answer 200. ``script`` queues special answers per path, consumed in order."""

    server: ThreadingHTTPServer
    requests: list[Request] = field(default_factory=list)
    script: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def robot_url(self, path: str = ROBOT) -> str:
        """The robot URL as configured in ECS_EVENTS_WEBHOOKS (dingtalk+http for the local receiver)."""
        return f"dingtalk+{self.url(path)}?access_token={TOKEN}&secret={SECRET}"

    def fail(self, path: str, times: int, status: int = 500) -> None:
        self.script.setdefault(path, []).extend([("status", status)] * times)

    def errcode(self, path: str, times: int, code: int, message: str) -> None:
        self.script.setdefault(path, []).extend([("errcode", (code, message))] * times)

    def hang(self, path: str, times: int) -> None:
        self.script.setdefault(path, []).extend([("hang", None)] * times)

    def answer(self, path: str, times: int, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.script.setdefault(path, []).extend([("raw", (status, body, headers or {}))] * times)

    def at(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def next_action(self, path: str) -> tuple[str, Any] | None:
        with self.lock:
            queue = self.script.get(path)
            return queue.pop(0) if queue else None


def verify_sign(query: dict[str, list[str]]) -> bool:
    """DingTalk's check: sign == base64(hmac_sha256(secret, f"{timestamp}\\n{secret}")), timestamp within 1 h."""
    try:
        timestamp = query["timestamp"][0]
        sign = query["sign"][0]
    except (KeyError, IndexError):
        return False
    if abs(int(timestamp) - time.time() * 1000) > 3600 * 1000:
        return False
    digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), sign)


class RobotHandler(BaseHTTPRequestHandler):
    receiver: Receiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = urllib.parse.parse_qs(parts.query)
        request = Request(parts.path, query, parts.query, dict(self.headers.items()), body)
        if parts.path.startswith("/robot"):
            request.sign_ok = verify_sign(query)
        with self.receiver.lock:
            self.receiver.requests.append(request)
        action = self.receiver.next_action(parts.path)
        if action is None:
            self._default(request)
        elif action[0] == "status":
            self._reply(action[1], b'{"error":"scripted failure"}')
        elif action[0] == "errcode":
            code, message = action[1]
            self._reply(200, json.dumps({"errcode": code, "errmsg": message}).encode())
        elif action[0] == "hang":
            self.receiver.release.wait(10)
        else:
            status, raw, headers = action[1]
            self._reply(status, raw, headers)

    def _default(self, request: Request) -> None:
        if not request.path.startswith("/robot"):
            self._reply(200, b"ok")
        elif request.query.get("access_token") != [TOKEN]:
            self._reply(200, json.dumps({"errcode": 300001, "errmsg": "token is not exist"}).encode())
        elif not request.sign_ok:
            self._reply(200, json.dumps({"errcode": 310000, "errmsg": "sign not match"}).encode())
        else:
            self._reply(200, b'{"errcode":0,"errmsg":"ok"}')

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


# -- notices ------------------------------------------------------------------------------------------------------
def make_notice(number: int = 1, **changes: Any) -> Notice:
    values: dict[str, Any] = {
        "id": f"n-{number:04d}",
        "phase": "started",
        "level": "warning",
        "title": f"Reboot of i-bp1abc{number:04d} started (n-{number:04d})",
        "text": "Drained from 2 load balancers; rebooting now.",
        "at": datetime(2025, 3, 1, 7, 59, tzinfo=timezone.utc),
        "event_id": f"e-{number:04d}",
        "instance_id": f"i-bp1abc{number:04d}",
        "saga": f"saga/i-bp1abc{number:04d}/e-{number:04d}",
        "fields": {"event_type": "SystemMaintenance.Reboot", "not_before": "2025-03-02T02:00:00+00:00"},
    }
    values.update(changes)
    return Notice(**values)


# -- the secret guard ---------------------------------------------------------------------------------------------
class LogCapture(logging.Handler):
    """Every record any ``ecs_events`` logger emits during a test, raw and as the JSON line ``configure`` writes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.formatter_ = JsonFormatter()
        self.raw_secrets_ok = False

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [self.formatter_.format(r) for r in self.records]

    def raw(self) -> list[str]:
        texts = []
        for record in self.records:
            texts.append(record.getMessage())
            texts += [str(v) for v in record.__dict__.values() if isinstance(v, str)]
            if record.exc_info and record.exc_info[1] is not None:
                texts.append(logging.Formatter().formatException(record.exc_info))
        return texts

    def at(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno == level]


@contextlib.contextmanager
def serve_receiver() -> Iterator[Receiver]:
    """A started receiver on 127.0.0.1 (a free port), shut down on exit."""
    handler = type("Handler", (RobotHandler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    received = Receiver(server)
    handler.receiver = received  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="notify-receiver", daemon=True)
    thread.start()
    try:
        yield received
    finally:
        received.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
