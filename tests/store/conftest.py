"""Store fixtures: ``store`` runs a test once per backend (memory, sqlite in tmp_path, redis on a real server);
``fresh_stores`` opens any number of empty stores of that backend in one test (one per hypothesis example)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from store_support import FakeClock

from ecs_events.store import Store
from ecs_events.store.memory import MemoryStore
from ecs_events.store.redis import RedisStore
from ecs_events.store.sqlite import SqliteStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def store(backend: str, tmp_path: Path, clock: FakeClock, request: pytest.FixtureRequest) -> Iterator[Store]:
    if backend == "redis":
        redis_store: Store = request.getfixturevalue("redis_store")
        yield redis_store
        return
    opened: Store = (
        MemoryStore(clock=clock) if backend == "memory" else SqliteStore(tmp_path / "s.sqlite3", clock=clock)
    )
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def fresh_stores(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], Store]]:
    """``fresh_stores()`` is a new, empty store of ``backend`` (the previous one is closed): a new sqlite file, or
    the redis database flushed."""
    redis_url: str = request.getfixturevalue("redis_url") if backend == "redis" else ""
    opened: list[Store] = []
    numbers = itertools.count()

    def fresh() -> Store:
        for old in opened:
            old.close()
        opened.clear()
        if backend == "memory":
            new: Store = MemoryStore()
        elif backend == "sqlite":
            new = SqliteStore(tmp_path / f"fresh-{next(numbers)}.sqlite3")
        else:
            client = redis.Redis.from_url(redis_url)
            try:
                client.flushdb()
            finally:
                client.close()
            new = RedisStore(redis_url)
        opened.append(new)
        return new

    yield fresh
    for old in opened:
        old.close()
