"""The store: a small versioned document store that every backend implements with four primitives.

Everything durable the engine keeps is a JSON document under a string key, with a version that grows by one on
every write: sagas (``saga/<instance>/<event>``), disruption budgets (``budget/<load balancer>``), the notification
outbox (``outbox/<id>``), indexes (``index/...``). ``commit`` applies several writes all-or-nothing and only if every
key still has the version the caller read (compare-and-set; version 0 means "absent"): that one primitive gives
atomic claims, dedupe of concurrent deliveries, and an outbox written in the same transaction as the saga.

A backend implements ``get``, ``commit``, ``scan`` and ``add_once`` (and ``close``); the helpers below are shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_events.errors import EcsEventsError


class StoreError(EcsEventsError):
    """The store cannot be opened or used (bad URL, unreachable server, refused configuration)."""


class ConflictError(StoreError):
    """A compare-and-set kept losing to concurrent writers."""


@dataclass(frozen=True, slots=True)
class Doc:
    key: str
    value: dict[str, Any]
    version: int  # >= 1 for a stored document


@dataclass(frozen=True, slots=True)
class Write:
    """Set ``key`` to ``value`` (or delete it when ``value`` is None) if its version is ``expected`` now
    (0: the key must be absent). A successful write stores version ``expected + 1``."""

    key: str
    value: dict[str, Any] | None
    expected: int


class Store(ABC):
    """One interface, a module per backend: memory (tests, ``plan``), sqlite (embedded default), redis (shared)."""

    url: str = ""

    # -- the primitives each backend implements -------------------------------------------------------------------
    @abstractmethod
    def get(self, key: str) -> Doc | None:
        """The document at ``key``, or None."""

    @abstractmethod
    def commit(self, writes: Sequence[Write]) -> bool:
        """Apply every write, or none: False when any key's current version differs from its ``expected``.
        Keys in one commit are distinct."""

    @abstractmethod
    def scan(self, prefix: str) -> list[Doc]:
        """Every document whose key starts with ``prefix``, sorted by key."""

    @abstractmethod
    def add_once(self, key: str, ttl_seconds: float) -> bool:
        """True the first time ``key`` is added (a marker that expires after ``ttl_seconds``), False while it
        exists: dedupe of repeated deliveries. Markers live apart from documents (``get``/``scan`` never see them)."""

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release connections and files."""

    # -- shared helpers ---------------------------------------------------------------------------------------------
    def put_new(self, key: str, value: dict[str, Any]) -> bool:
        """Create ``key`` if it does not exist yet; False if it does."""
        return self.commit([Write(key, value, 0)])

    def update(
        self, key: str, change: Callable[[dict[str, Any] | None], dict[str, Any] | None], attempts: int = 50
    ) -> Doc | None:
        """Read-modify-write with compare-and-set, retried on conflict. ``change`` gets the current value (None when
        absent) and returns the new one (None deletes). Returns the stored document (None when deleted)."""
        for _ in range(attempts):
            doc = self.get(key)
            new = change(None if doc is None else doc.value)
            expected = 0 if doc is None else doc.version
            if new is None and doc is None:
                return None
            if self.commit([Write(key, new, expected)]):
                return None if new is None else Doc(key, new, expected + 1)
        raise ConflictError(f"store: {key}: gave up after {attempts} concurrent updates")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_distinct(writes: Sequence[Write]) -> None:
    """Refuse a commit that names a key twice: its meaning would depend on the backend's order of application."""
    keys = [write.key for write in writes]
    if len(set(keys)) != len(keys):
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise StoreError(f"store: commit names key {duplicate!r} more than once")
