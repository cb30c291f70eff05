"""The embedded store: one sqlite file, safe for several threads and several processes on one machine.

Why it is safe: every connection runs in autocommit mode (``isolation_level=None``), so a read is its own snapshot,
and every write takes the database write lock first (``BEGIN IMMEDIATE``) before it reads the versions it checks. Two
writers can therefore never both pass the version check. WAL lets readers proceed while a writer holds the lock, and
``busy_timeout`` makes a writer wait for the lock instead of failing. The revision counter that versions come from is
a row of ``meta``, read and written inside the same transaction. Each thread (and each process after a fork) gets
its own connection: sqlite connections must not be shared across threads mid-transaction nor survive a fork.

Not for Function Compute: instances do not share a file system that honours sqlite locks (see ``refuse_sqlite_on_fc``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ecs_events.store.base import (
    CONFLICT,
    Committed,
    Doc,
    Store,
    StoreError,
    Write,
    check_distinct,
    committed,
    next_revision,
)

BUSY_TIMEOUT_SECONDS = 30.0

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS docs (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS markers (key TEXT PRIMARY KEY, expires REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS markers_expires ON markers (expires)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    # A file written before the counter existed gets it at 0: commits raise it past each version they check.
    "INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0)",
)


class SqliteStore(Store):
    """Documents in table ``docs(key, value, version)``, dedupe markers in ``markers(key, expires)``, the revision
    counter in ``meta(name='revision', value)``.

    ``clock`` (seconds since the epoch, like ``time.time``) decides when markers expire; every process sharing the
    file must use the same clock, which the wall clock is."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error(exc) from None
        with self._transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    # -- primitives -------------------------------------------------------------------------------------------------
    def get(self, key: str) -> Doc | None:
        with self._errors():
            row = self._db().execute("SELECT value, version FROM docs WHERE key = ?", (key,)).fetchone()
        return None if row is None else Doc(key, _decode(row[0]), row[1])

    def commit(self, writes: Sequence[Write]) -> Committed:
        check_distinct(writes)
        if not writes:
            return Committed(True)
        encoded = [(write, None if write.value is None else json.dumps(write.value)) for write in writes]
        try:
            with self._transaction() as db:
                for write in writes:
                    row = db.execute("SELECT version FROM docs WHERE key = ?", (write.key,)).fetchone()
                    if (0 if row is None else row[0]) != write.expected:
                        raise _Mismatch
                (counter,) = db.execute("SELECT value FROM meta WHERE name = 'revision'").fetchone()
                revision = next_revision(counter, writes)
                if revision != counter:
                    db.execute("UPDATE meta SET value = ? WHERE name = 'revision'", (revision,))
                for write, text in encoded:
                    if text is None:
                        db.execute("DELETE FROM docs WHERE key = ?", (write.key,))
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO docs (key, value, version) VALUES (?, ?, ?)",
                            (write.key, text, revision),
                        )
        except _Mismatch:
            return CONFLICT
        return committed(writes, revision)

    def scan(self, prefix: str) -> list[Doc]:
        # A range on the primary key (binary collation = code point order), not LIKE: '%' and '_' are literal here.
        upper = _prefix_end(prefix)
        query, params = "SELECT key, value, version FROM docs WHERE key >= ?", [prefix]
        if upper is not None:
            query, params = query + " AND key < ?", [prefix, upper]
        with self._errors():
            rows = self._db().execute(query + " ORDER BY key", params).fetchall()
        return [Doc(key, _decode(text), version) for key, text, version in rows if key.startswith(prefix)]

    def add_once(self, key: str, ttl_seconds: float) -> bool:
        now = self._clock()
        with self._transaction() as db:
            db.execute("DELETE FROM markers WHERE expires <= ?", (now,))
            added = db.execute(
                "INSERT OR IGNORE INTO markers (key, expires) VALUES (?, ?)", (key, now + ttl_seconds)
            ).rowcount
        return bool(added == 1)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    # -- connections and transactions -------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        """This thread's connection (a new one after a fork: the parent's must not be used by the child)."""
        if self._closed:
            raise StoreError(f"store: sqlite database {self.path}: used after close()")
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            return connection
        with self._lock:
            with self._errors():
                connection = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
                )
                try:
                    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
                    connection.execute("PRAGMA journal_mode = WAL")
                except sqlite3.Error:
                    connection.close()
                    raise
            self._connections.append(connection)
        self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` (take the write lock before reading what we check) .. ``COMMIT``; rolled back on any
        exception, which is re-raised (``commit`` raises ``_Mismatch`` to roll back a failed version check)."""
        db = self._db()
        with self._errors():
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> StoreError:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return StoreError(f"store: sqlite database {self.path}: {reason}")


class _Mismatch(Exception):
    """A version check failed inside the transaction: roll back, ``commit`` returns False."""


def _prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None: no upper bound)."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be stored as UTF-8; skip past them
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


def _decode(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value
