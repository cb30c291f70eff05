"""The store: a small versioned document store that every backend implements with four primitives.

Everything durable the engine keeps is a JSON document under a string key, with a version: sagas
(``saga/<instance>/<event>``), disruption budgets (``budget/<load balancer>``), drains (``drain/<instance>``), the
notification outbox (``outbox/<id>``), indexes (``index/...``). ``commit`` applies several writes all-or-nothing and
only if every key still has the version the caller read (compare-and-set; version 0 means "absent"): that one
primitive gives atomic claims, dedupe of concurrent deliveries, and an outbox written in the same transaction as the
saga.

Versions are never reused for a key, not even after a delete and re-create: each store keeps one revision counter
(like etcd's), and every successful commit that writes a document takes the next revision, above any version the
store ever issued, as the new version of every document it writes (a delete only removes the key: no tombstones).
So equal versions mean the same stored value, and a commit computed against a document that has since been deleted
and created again fails instead of overwriting it (ABA). Absence has no version: a create (expected 0) succeeds
whenever the key is absent, which is exactly what the caller read. Versions are opaque to callers beyond that: they
grow but by any step, and ``commit`` returns the new ones (never compute ``version + 1``).

Stores written before the counter existed (versions counted per key from 1) upgrade in place: the counter starts at
0 and every commit first raises it to at least each expected version it checks (``new = max(counter, expected) + 1``,
deletes included), so a key that exists at the upgrade never gets back a version it had.

A backend implements ``get``, ``commit``, ``scan`` and ``add_once`` (and ``close``); the helpers below are shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    (0: the key must be absent). The version a successful write stores is in ``Committed.versions``."""

    key: str
    value: dict[str, Any] | None
    expected: int


@dataclass(frozen=True, slots=True)
class Committed:
    """What ``commit`` did: true when every write was applied, false on a version conflict (nothing applied), so
    ``if not store.commit(...)`` reads as before. ``versions``: the new version of each key written (deleted keys
    are absent; empty on a conflict)."""

    applied: bool
    versions: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.applied


CONFLICT = Committed(False)


def committed(writes: Sequence[Write], revision: int) -> Committed:
    """A successful commit whose documents (not the deletes) all got version ``revision``."""
    return Committed(True, {write.key: revision for write in writes if write.value is not None})


def next_revision(counter: int, writes: Sequence[Write]) -> int:
    """The store's counter after a successful commit of ``writes``, and the version of every document they write:
    one above the counter and above every expected version (so a store written before the counter existed never
    issues a version a key already had). A commit that only deletes issues no version but still raises the counter
    to its expected versions."""
    top = max([counter, *(write.expected for write in writes)])
    return top + 1 if any(write.value is not None for write in writes) else top


class Store(ABC):
    """One interface, a module per backend: memory (tests, ``plan``), sqlite (embedded default), redis (shared)."""

    url: str = ""

    # -- the primitives each backend implements -------------------------------------------------------------------
    @abstractmethod
    def get(self, key: str) -> Doc | None:
        """The document at ``key``, or None."""

    @abstractmethod
    def commit(self, writes: Sequence[Write]) -> Committed:
        """Apply every write, or none: falsy (``CONFLICT``) when any key's current version differs from its
        ``expected``. Keys in one commit are distinct. A commit that writes a document takes a new revision of the
        store (see the module docstring); one that only deletes takes none."""

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
    def put_new(self, key: str, value: dict[str, Any]) -> Committed:
        """Create ``key`` if it does not exist yet; falsy if it does."""
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
            done = self.commit([Write(key, new, expected)])
            if done:
                return None if new is None else Doc(key, new, done.versions[key])
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
