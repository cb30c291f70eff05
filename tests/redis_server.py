"""pytest plugin: a real ``redis-server`` for the session (fixture ``redis_url``) and a clean ``RedisStore`` per test
(fixture ``redis_store``).

A real server, not a fake: the store's guarantees live in its Lua scripts and in Redis's own atomicity, which only the
real thing exercises. A missing ``redis-server`` is a failure, never a skip: a skipped store contract reads as green.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecs_events.store.redis import RedisStore

START_TIMEOUT_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _start(binary: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server on a free port and wait until it answers PING (retrying on a port lost to a race)."""
    for _ in range(3):
        port = _free_port()
        command = [binary, "--save", "", "--appendonly", "no", "--port", str(port), "--bind", "127.0.0.1"]
        command += ["--dir", str(log.parent)]  # nothing is saved, but never into the checkout
        with log.open("ab") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            if _ping(url):
                return process, url
            time.sleep(0.05)
        _stop(process)
    tail = log.read_text(errors="replace")[-1000:]
    pytest.fail(f"redis-server did not start (3 attempts); its log ends with:\n{tail}", pytrace=False)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a private redis-server started for this session (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server not found on PATH: the store tests need a real Redis (apt-get install redis-server)",
            pytrace=False,
        )
    with tempfile.TemporaryDirectory(prefix="ecs-events-redis-") as workdir:
        process, url = _start(binary, Path(workdir) / "redis.log")
        try:
            yield url
        finally:
            _stop(process)


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[RedisStore]:
    """A RedisStore on an empty database (FLUSHDB before the test), closed after it."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()
    store = RedisStore(redis_url)
    try:
        yield store
    finally:
        store.close()
