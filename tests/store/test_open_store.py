"""``open_store`` URL parsing and the refusal of sqlite on Function Compute: the ``ECS_EVENTS_STORE`` setting."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from ecs_events.store import Doc, StoreError, open_store, refuse_sqlite_on_fc
from ecs_events.store.memory import MemoryStore
from ecs_events.store.redis import RedisStore, redact_url
from ecs_events.store.sqlite import SqliteStore

UNSUPPORTED = "ECS_EVENTS_STORE: unsupported store URL '{}' (expected sqlite:///PATH or redis://HOST:PORT/DB)"
ON_FC = "ECS_EVENTS_STORE: sqlite cannot be shared by concurrent Function Compute instances; use redis://..."


def test_memory_url_opens_a_memory_store() -> None:
    with open_store("memory://") as store:
        assert isinstance(store, MemoryStore)
        assert store.url == "memory://"
        assert store.put_new("k", {})


def test_three_slashes_is_a_path_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///state/ecs-events.sqlite3") as store:
        assert isinstance(store, SqliteStore)
        assert store.path == Path("state/ecs-events.sqlite3")
        store.put_new("k", {"n": 1})
    with SqliteStore(tmp_path / "state" / "ecs-events.sqlite3") as again:
        assert again.get("k") == Doc("k", {"n": 1}, 1)


def test_four_slashes_is_an_absolute_path(tmp_path: Path) -> None:
    path = tmp_path / "abs" / "s.sqlite3"
    with open_store(f"sqlite:///{path}") as store:  # f"sqlite:///" + "/tmp/..." = four slashes
        assert isinstance(store, SqliteStore)
        assert store.path == path
        assert store.url == f"sqlite:///{path}"
    assert path.is_file()


def test_redis_url_opens_a_redis_store(redis_url: str) -> None:
    with open_store(redis_url) as store:
        assert isinstance(store, RedisStore)
        assert store.url == redis_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("", ""),
        ("memory", "memory"),
        ("memory://x", "memory://x"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///", "sqlite:///"),
        ("sqlite:relative.db", "sqlite:relative.db"),
        ("redis://", "redis://"),
        ("/var/lib/ecs-events.sqlite3", "/var/lib/ecs-events.sqlite3"),
        ("postgres://admin:hunter2@db:5432/x", "postgres://***@db:5432/x"),
        ("mysql://db/x?user=a&password=hunter2", "mysql://db/x?user=a&password=***"),
    ],
)
def test_anything_else_is_refused_naming_the_setting_without_the_password(url: str, shown: str) -> None:
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert str(info.value) == UNSUPPORTED.format(shown)
    assert "hunter2" not in str(info.value)


def test_an_unreachable_redis_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as info:
        open_store("redis://:s3cret-pw@127.0.0.1:1/0")
    message = str(info.value)
    assert message.startswith("store: redis redis://***@127.0.0.1:1/0: connect: ConnectionError: ")
    assert "s3cret-pw" not in message
    assert "\n" not in message


def test_a_wrong_password_is_one_line_without_the_password(redis_url: str) -> None:
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser("ecs-events-test", enabled=True, passwords=["+right-password"], commands=["+@all"], keys=["*"])
    try:
        url = redis_url.replace("redis://", "redis://ecs-events-test:s3cret-pw@")
        with pytest.raises(StoreError) as info:
            open_store(url)
    finally:
        admin.acl_deluser("ecs-events-test")
        admin.close()
    message = str(info.value)
    assert message.startswith(f"store: redis {redact_url(url)}: connect: AuthenticationError: ")
    assert "s3cret-pw" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:pw@host:6379/0", "redis://***@host:6379/0"),
        ("rediss://user:pw@host:6380/1", "rediss://***@host:6380/1"),
        ("redis://host/0?password=pw&socket_timeout=3", "redis://host/0?password=***&socket_timeout=3"),
    ],
)
def test_redact_url_masks_userinfo_and_password_parameters(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


@pytest.mark.parametrize("variable", ["FC_FUNCTION_NAME", "FC_FUNC_CODE_PATH"])
def test_sqlite_is_refused_on_function_compute(variable: str) -> None:
    with pytest.raises(StoreError) as info:
        refuse_sqlite_on_fc("sqlite:////tmp/x.sqlite3", {variable: "handler"})
    assert str(info.value) == ON_FC


@pytest.mark.parametrize(
    ("url", "environ"),
    [
        ("sqlite:///x.sqlite3", {}),
        ("sqlite:///x.sqlite3", {"FC_FUNCTION_NAME": ""}),
        ("redis://10.0.0.5:6379/0", {"FC_FUNCTION_NAME": "handler", "FC_FUNC_CODE_PATH": "/code"}),
    ],
)
def test_sqlite_off_function_compute_and_redis_on_it_are_accepted(url: str, environ: dict[str, str]) -> None:
    assert refuse_sqlite_on_fc(url, environ) is None
