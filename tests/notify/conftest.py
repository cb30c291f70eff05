"""Notification test fixtures; the last one fails any test whose log output contains a test secret or token."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_support import SECRETS, Clock, LogCapture, Receiver, serve_receiver

from ecs_events.store.base import Store
from ecs_events.store.memory import MemoryStore
from ecs_events.store.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The outbox against each embedded backend (the redis one has its own tests against a real redis-server)."""
    opened: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "store.db")
    with opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as received:
        yield received


@pytest.fixture(autouse=True)
def captured() -> Iterator[LogCapture]:
    """Captures everything at DEBUG; after the test, no line (formatted, and raw unless the test put a secret in a
    message on purpose) may contain a test secret or token."""
    logger = logging.getLogger("ecs_events")
    saved = (logger.level, logger.propagate, list(logger.handlers))
    capture = LogCapture()
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers[:] = saved[2]
    texts = capture.lines() + ([] if capture.raw_secrets_ok else capture.raw())
    leaked = [(s[:6], t) for t in texts for s in SECRETS if s in t]
    assert not leaked, f"a secret reached the log: {leaked[0][0]}... in {leaked[0][1][:200]!r}"
