"""Where notices go: a DingTalk robot, a plain JSON webhook, the log. urllib only, 5 s timeouts.

A sender either returns (delivered) or raises ``SendError``; the outbox owns retries, so a sender never retries and
never sleeps. A sender's ``name`` is stable across processes for the same configured URL (the outbox records which
senders already have a notice) and never contains the URL's token; nor does any error message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ecs_events.logs import add_secret, get_logger, redact
from ecs_events.notify.notice import Notice, NotifyError, escape, render_text

TIMEOUT = 5.0
SETTING = "ECS_EVENTS_WEBHOOKS"
_MAX_ANSWER = 64 * 1024
RATE_LIMITED = 130101  # "send too fast, exceed 20 times per minute": the robot is throttled for 10 minutes
RATE_LIMIT_PENALTY = 600.0
_SECRET_PARAMS = ("token", "access_token", "key", "secret", "sign", "signature", "password", "auth")
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}

log = get_logger("notify")


class SendError(NotifyError):
    """A sender could not deliver. ``code``: the DingTalk errcode or HTTP status when there was an answer."""

    def __init__(self, sender: str, reason: str, *, code: str | None = None) -> None:
        self.sender = sender
        self.code = code
        self.reason = escape(redact(reason), 300)
        super().__init__(f"{sender}: {self.reason}")


class Throttled(SendError):
    """Not sent, on purpose (our side of a rate limit): try again after ``retry_after`` seconds; not a failure."""

    def __init__(self, sender: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(sender, f"rate limit, retry in {retry_after:.0f} s", code="throttled")


class Sender(Protocol):
    name: str

    def send(self, notice: Notice) -> None:
        """Deliver ``notice`` or raise SendError."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would be replayed as a GET without its body by urllib: treat a 3xx as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect())


def _post_json(sender: str, url: str, payload: Any, timeout: float) -> tuple[int, bytes]:
    """POST ``payload`` as JSON; the status and body of any HTTP answer, SendError when there is none."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header("User-Agent", "ecs-events")
    try:
        with _opener.open(request, timeout=timeout) as answer:
            return int(answer.status), answer.read(_MAX_ANSWER)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(_MAX_ANSWER)
    except urllib.error.URLError as exc:
        raise SendError(sender, f"request failed: {exc.reason}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise SendError(sender, f"request failed: {type(exc).__name__}: {exc}") from None


def _stable_name(kind: str, url: str) -> str:
    """``kind:host:hash``: the same URL gives the same name in every process; the token stays out of it."""
    host = urllib.parse.urlsplit(url).hostname or "?"
    return f"{kind}:{host}:{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def _register_url_secrets(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    add_secret(parts.password)
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _SECRET_PARAMS:
            add_secret(value)


class _RateLimit:
    """At most ``per_minute`` sends in any 60 s (DingTalk throttles a robot for 10 min past 20/min)."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.sent: deque[float] = deque()
        self.blocked_until = 0.0
        self.lock = threading.Lock()

    def block(self, seconds: float) -> None:
        """DingTalk said we went too fast anyway (another process shares the robot): hold every send."""
        with self.lock:
            self.blocked_until = max(self.blocked_until, self.clock() + seconds)

    def take(self) -> float:
        """0 when a send may go now (and counts it), else the seconds to wait."""
        with self.lock:
            now = self.clock()
            if now < self.blocked_until:
                return max(1.0, self.blocked_until - now)
            while self.sent and now - self.sent[0] >= 60:
                self.sent.popleft()
            if len(self.sent) >= self.per_minute:
                return max(1.0, 60 - (now - self.sent[0]))
            self.sent.append(now)
            return 0.0


class DingTalkSender:
    """A DingTalk custom robot with signing: markdown messages, ``errcode`` checked (DingTalk answers 200 on errors)."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = TIMEOUT,
        per_minute: int | None = 20,
        clock: Callable[[], float] = time.time,
        rate_clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
    ) -> None:
        """``clock``: wall time for the signed timestamp (DingTalk refuses one over 1 h off); ``rate_clock``: for
        ``per_minute`` (None: no limit of ours)."""
        add_secret(secret)
        _register_url_secrets(url)
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.clock = clock
        self.limit = _RateLimit(per_minute, rate_clock) if per_minute else None
        self.name = name or _stable_name("dingtalk", url)

    def __repr__(self) -> str:
        return f"DingTalkSender(name={self.name!r})"

    def sign(self, timestamp_ms: int) -> str:
        """base64(hmac_sha256(key=secret, msg=f"{ts}\\n{secret}")), URL-quoted with quote_plus."""
        digest = hmac.new(self.secret.encode(), f"{timestamp_ms}\n{self.secret}".encode(), hashlib.sha256).digest()
        return urllib.parse.quote_plus(base64.b64encode(digest))

    def signed_url(self, timestamp_ms: int) -> str:
        separator = "&" if urllib.parse.urlsplit(self.url).query else "?"
        return f"{self.url}{separator}timestamp={timestamp_ms}&sign={self.sign(timestamp_ms)}"

    @staticmethod
    def body(notice: Notice) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"title": escape(notice.title, 64), "text": render_text(notice)}}

    def send(self, notice: Notice) -> None:
        if self.limit is not None and (wait := self.limit.take()):
            raise Throttled(self.name, wait)
        url = self.signed_url(int(self.clock() * 1000))
        status, raw = _post_json(self.name, url, self.body(notice), self.timeout)
        if not 200 <= status < 300:
            raise SendError(self.name, f"HTTP {status}", code=str(status))
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "errcode" not in answer:
            raise SendError(self.name, f"not a DingTalk answer (HTTP {status})", code=str(status))
        if answer["errcode"] != 0:
            code = answer["errcode"]
            if code == RATE_LIMITED and self.limit is not None:
                self.limit.block(RATE_LIMIT_PENALTY)
            raise SendError(self.name, f"errcode {code}: {answer.get('errmsg', '')}", code=str(code))


class WebhookSender:
    """POST the notice document as JSON; any 2xx is delivered."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT, name: str | None = None) -> None:
        _register_url_secrets(url)
        self.url = url
        self.timeout = timeout
        self.name = name or _stable_name("webhook", url)

    def __repr__(self) -> str:
        return f"WebhookSender(name={self.name!r})"

    def send(self, notice: Notice) -> None:
        status, _ = _post_json(self.name, self.url, notice.to_doc(), self.timeout)
        if not 200 <= status < 300:
            raise SendError(self.name, f"HTTP {status}", code=str(status))


class LogSender:
    """One log line per notice at the notice's level: the notification that always works (FC logs to SLS)."""

    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or get_logger("notice")

    def send(self, notice: Notice) -> None:
        parts = [f"{notice.phase}: {notice.title}"]
        if notice.text:
            parts.append(notice.text)
        parts += [f"{key}={value}" for key, value in sorted(notice.fields.items())]
        extra = {"event_id": notice.event_id, "instance_id": notice.instance_id, "saga": notice.saga}
        extra["code"] = f"notice.{notice.phase}"
        self.logger.log(_LEVELS[notice.level], "%s", escape(" | ".join(parts), 2000), extra=extra)


def senders_from_urls(urls: Sequence[str], *, timeout: float = TIMEOUT) -> list[Sender]:
    """The senders of ``ECS_EVENTS_WEBHOOKS``, plus the LogSender. ``dingtalk+https://...&secret=SEC...`` is a signed
    DingTalk robot (``secret`` is taken out of the URL), ``https://`` / ``http://`` a JSON webhook."""
    senders: list[Sender] = []
    seen: dict[str, int] = {}
    for position, url in enumerate(urls):
        sender = _sender_from_url(position, url.strip(), timeout)
        if sender.name in seen:
            raise NotifyError(f"{SETTING}[{position}]: the same destination as {SETTING}[{seen[sender.name]}]")
        seen[sender.name] = position
        senders.append(sender)
    senders.append(LogSender())
    return senders


def _sender_from_url(position: int, url: str, timeout: float) -> Sender:
    where = f"{SETTING}[{position}]"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise NotifyError(f"{where}: not a URL") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise NotifyError(f"{where}: the URL has no host")
        return WebhookSender(url, timeout=timeout)
    if scheme not in ("dingtalk+https", "dingtalk+http"):
        shown = escape(scheme, 20) or "none"
        raise NotifyError(f"{where}: unsupported scheme {shown!r} (use https://, http:// or dingtalk+https://)")
    if not parts.hostname:
        raise NotifyError(f"{where}: the URL has no host")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    secrets = [value for key, value in query if key == "secret"]
    kept = [(key, value) for key, value in query if key != "secret"]
    for value in secrets:
        add_secret(value)
    _register_url_secrets(url)
    if len(secrets) != 1 or not secrets[0]:
        raise NotifyError(f"{where}: a DingTalk URL needs exactly one secret= query parameter (the robot's SEC...)")
    if not any(key == "access_token" and value for key, value in kept):
        raise NotifyError(f"{where}: a DingTalk URL needs an access_token= query parameter")
    if not secrets[0].startswith("SEC"):
        log.warning("%s: the DingTalk secret does not start with SEC; signing will likely fail", where)
    plain = parts._replace(scheme=scheme.removeprefix("dingtalk+"), query=urllib.parse.urlencode(kept))
    return DingTalkSender(urllib.parse.urlunsplit(plain), secrets[0], timeout=timeout)
