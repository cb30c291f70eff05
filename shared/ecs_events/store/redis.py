"""The shared store: Redis, for every Function Compute instance at once.

Layout under a namespace prefix (default ``ecs-events:``): each document is a hash ``<prefix>doc:<key>`` with fields
``v`` (version) and ``d`` (JSON); ``<prefix>docs`` is a sorted set of every document key (all scores 0, so members are
ordered by bytes = by code point); ``<prefix>revision`` is the revision counter versions come from (a string holding
an integer; absent = 0); dedupe markers are plain strings ``<prefix>once:<key>`` with a TTL. ``commit`` and ``scan``
are Lua scripts, so each runs atomically on the server: a commit checks every expected version before it writes
anything, takes its version from the counter, and keeps the index in step with the documents; a scan reads the index
and the documents in one snapshot. Standalone Redis, or a cluster when the prefix is a hash tag (``{ecs-events}:``)
so all keys share a slot (every key a script touches is passed in KEYS).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ecs_events.store.base import (
    CONFLICT,
    Committed,
    Doc,
    Store,
    StoreError,
    Write,
    check_distinct,
    committed,
)

if TYPE_CHECKING:
    import redis

DEFAULT_PREFIX = "ecs-events:"
TIMEOUT_SECONDS = 10.0

# KEYS[1] = index, KEYS[2] = revision counter, KEYS[3..] = document hashes; ARGV per write i: expected version,
# '1' to write a document or '' to delete it, JSON, key name (the index member). Returns nil on a conflict, else the
# counter after the commit: the version of every document written (see ecs_events.store.base.next_revision).
_COMMIT = """
local n = #KEYS - 2
local top = tonumber(redis.call('GET', KEYS[2]) or '0')
local before, documents = top, false
for i = 1, n do
  local expected = tonumber(ARGV[4 * i - 3])
  if tonumber(redis.call('HGET', KEYS[i + 2], 'v') or '0') ~= expected then return false end
  if expected > top then top = expected end
  if ARGV[4 * i - 2] ~= '' then documents = true end
end
if documents then top = top + 1 end
local revision = string.format('%d', top)
if top ~= before then redis.call('SET', KEYS[2], revision) end
for i = 1, n do
  local doc, data, name = KEYS[i + 2], ARGV[4 * i - 1], ARGV[4 * i]
  if ARGV[4 * i - 2] == '' then
    redis.call('DEL', doc)
    redis.call('ZREM', KEYS[1], name)
  else
    redis.call('HSET', doc, 'v', revision, 'd', data)
    redis.call('ZADD', KEYS[1], 0, name)
  end
end
return top
"""

# KEYS[1] = index; ARGV = lex range min, max, document key prefix. Returns key, version, JSON triples.
_SCAN = """
local out = {}
for _, name in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])) do
  local doc = redis.call('HMGET', ARGV[3] .. name, 'v', 'd')
  if doc[1] then
    out[#out + 1] = name
    out[#out + 1] = doc[1]
    out[#out + 1] = doc[2]
  end
end
return out
"""


class RedisStore(Store):
    """``RedisStore("redis://[:password@]host:port/db", prefix="ecs-events:")``; connects (PING) at once so a bad
    URL or an unreachable server fails where the store is opened, as a one-line ``StoreError``."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, timeout: float = TIMEOUT_SECONDS) -> None:
        import redis

        self.url = redact_url(url)
        self.prefix = prefix
        self._secrets = _secrets(url)
        self._index = f"{prefix}docs"
        self._revision = f"{prefix}revision"
        self._redis_error = redis.RedisError
        try:
            self._redis: redis.Redis = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
            )
            self._redis.ping()
        except (redis.RedisError, ValueError, OSError) as exc:
            raise self._error("connect", exc) from None
        self._commit = self._redis.register_script(_COMMIT)  # EVALSHA, loading the script on NOSCRIPT
        self._scan = self._redis.register_script(_SCAN)

    def get(self, key: str) -> Doc | None:
        with self._errors("get"):
            found: dict[str, str] = self._redis.hgetall(self._doc(key))  # type: ignore[assignment]
        if "v" not in found:
            return None
        return Doc(key, _decode(found["d"]), int(found["v"]))

    def commit(self, writes: Sequence[Write]) -> Committed:
        check_distinct(writes)
        if not writes:
            return Committed(True)
        args: list[str] = []
        for write in writes:
            if write.value is None:
                args += [str(write.expected), "", "", write.key]
            else:
                args += [str(write.expected), "1", json.dumps(write.value), write.key]
        keys = [self._index, self._revision, *(self._doc(write.key) for write in writes)]
        with self._errors("commit"):
            revision: int | None = self._commit(keys=keys, args=args)
        return CONFLICT if revision is None else committed(writes, revision)

    def scan(self, prefix: str) -> list[Doc]:
        # Valid UTF-8 never contains byte 0xff, so "(prefix\xff" bounds every key that starts with prefix.
        low, high = (b"-", b"+") if not prefix else (b"[" + prefix.encode(), b"(" + prefix.encode() + b"\xff")
        with self._errors("scan"):
            flat: list[str] = self._scan(keys=[self._index], args=[low, high, f"{self.prefix}doc:"])
        return [Doc(flat[i], _decode(flat[i + 2]), int(flat[i + 1])) for i in range(0, len(flat), 3)]

    def add_once(self, key: str, ttl_seconds: float) -> bool:
        milliseconds = max(1, math.ceil(ttl_seconds * 1000))
        with self._errors("add_once"):
            added = self._redis.set(f"{self.prefix}once:{key}", "1", nx=True, px=milliseconds)
        return bool(added)

    def close(self) -> None:
        self._redis.close()

    def _doc(self, key: str) -> str:
        return f"{self.prefix}doc:{key}"

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._redis_error as exc:
            raise self._error(what, exc) from None

    def _error(self, what: str, exc: BaseException) -> StoreError:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        for secret in self._secrets:
            reason = reason.replace(secret, "***")
        return StoreError(f"store: redis {self.url}: {what}: {type(exc).__name__}: {reason}")


_USERINFO = re.compile(r"//[^/@?#]*@")
_SECRET_PARAM = re.compile(r"([?&][^=&#]*(?:password|secret|token)[^=&#]*=)[^&#]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with any user/password (``//user:pass@``) and password-like query values replaced by ``***``: the only
    form of a store URL that may appear in a message or a log."""
    return _SECRET_PARAM.sub(r"\1***", _USERINFO.sub("//***@", url))


def _secrets(url: str) -> list[str]:
    """The password and password-like query values in ``url``, to scrub from error text that might echo them."""
    found = [match.group(0)[len(match.group(1)) :] for match in _SECRET_PARAM.finditer(url)]
    userinfo = _USERINFO.search(url)
    if userinfo and ":" in userinfo.group(0):
        password = userinfo.group(0)[2:-1].split(":", 1)[1]
        found += [password, unquote(password)]
    return [secret for secret in found if secret]


def _decode(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value
