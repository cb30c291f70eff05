"""The in-process store: tests, ``ecs-events plan`` and anything that needs no durability.

Values are kept as JSON text, not as the caller's dicts: a caller mutating a dict after ``commit`` (or a ``Doc`` it
read) cannot change what is stored, and a value that is not JSON fails here exactly as it would in sqlite or redis.
One lock serialises every operation, which makes ``commit`` trivially all-or-nothing across threads; the revision
counter that versions come from lives under the same lock.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ecs_events.store.base import CONFLICT, Committed, Doc, Store, Write, check_distinct, committed, next_revision

_PURGE_EVERY = 256  # add_once calls between sweeps of expired markers


class MemoryStore(Store):
    """A thread-safe dict of ``key -> (json, version)`` plus a dict of dedupe markers ``key -> expiry``.

    ``clock`` (seconds, like ``time.time``) decides when markers expire; tests inject a fake one."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.url = "memory://"
        self._clock = clock
        self._lock = threading.Lock()
        self._docs: dict[str, tuple[str, int]] = {}
        self._markers: dict[str, float] = {}
        self._adds = 0
        self._revision = 0  # the highest version issued (see ecs_events.store.base)

    def get(self, key: str) -> Doc | None:
        with self._lock:
            found = self._docs.get(key)
        return None if found is None else Doc(key, _decode(found[0]), found[1])

    def commit(self, writes: Sequence[Write]) -> Committed:
        check_distinct(writes)
        encoded = [(write, None if write.value is None else json.dumps(write.value)) for write in writes]
        with self._lock:
            if any(self._version(write.key) != write.expected for write in writes):
                return CONFLICT
            self._revision = revision = next_revision(self._revision, writes)
            for write, text in encoded:
                if text is None:
                    self._docs.pop(write.key, None)
                else:
                    self._docs[write.key] = (text, revision)
        return committed(writes, revision)

    def scan(self, prefix: str) -> list[Doc]:
        with self._lock:
            found = sorted((key, doc) for key, doc in self._docs.items() if key.startswith(prefix))
        return [Doc(key, _decode(text), version) for key, (text, version) in found]

    def add_once(self, key: str, ttl_seconds: float) -> bool:
        now = self._clock()
        with self._lock:
            expires = self._markers.get(key)
            if expires is not None and expires > now:
                return False
            self._adds += 1
            if self._adds % _PURGE_EVERY == 0:
                self._purge(now)
            self._markers[key] = now + ttl_seconds
        return True

    def _version(self, key: str) -> int:
        found = self._docs.get(key)
        return 0 if found is None else found[1]

    def _purge(self, now: float) -> None:
        """Forget expired markers so a long-lived process does not grow without bound (caller holds the lock)."""
        for key in [key for key, expires in self._markers.items() if expires <= now]:
            del self._markers[key]


def _decode(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value
