"""What each backend adds to the contract: sqlite's file (schema, WAL, persistence, unusable paths) and redis's keys
(layout under a prefix, namespaces apart, marker TTLs, the commit script surviving a SCRIPT FLUSH); and for both, a
database written by the old versioning scheme (version = expected + 1, no revision counter) keeps working."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.crc import key_slot

from ecs_events.store import Doc, Store, StoreError, Write
from ecs_events.store.redis import RedisStore
from ecs_events.store.sqlite import SqliteStore

# -- upgrade: a database written by the old scheme ---------------------------------------------------------------
# Written directly in the old layout: versions counted per key from 1 (and back to 1 after a delete), no counter.
OLD_DOCS = {
    "budget/lb-1": ({"holders": {"i-1": "2024-05-01T12:00:00Z"}}, 1),
    "saga/i-1/e": ({"step": "drain"}, 7),
    "drain/i-9": ({"holders": ["saga-9"]}, 9),
}


def _version(store: Store, key: str) -> int:
    doc = store.get(key)
    assert doc is not None, key
    return doc.version


def _keeps_working_after_the_upgrade(store: Store) -> list[int]:
    """The checks on a store opened over an old-scheme database; returns every version it saw issued."""
    assert store.scan("") == [Doc(key, value, version) for key, (value, version) in sorted(OLD_DOCS.items())]
    issued = []

    stale = store.get("budget/lb-1")  # the ABA on a key that existed before the upgrade, at version 1
    assert stale is not None
    assert store.commit([Write("budget/lb-1", None, 1)])
    assert store.put_new("budget/lb-1", {"holders": {"i-3": "2024-05-01T12:05:00Z"}})
    issued.append(_version(store, "budget/lb-1"))
    assert not store.commit([Write("budget/lb-1", {"holders": {"i-1": "", "i-2": ""}}, stale.version)])

    assert store.commit([Write("saga/i-1/e", {"step": "restore"}, 7)])  # an existing key counts on from its version
    issued.append(_version(store, "saga/i-1/e"))
    assert issued[-1] > 7

    assert store.commit([Write("drain/i-9", None, 9)])  # never back to a version it had before the upgrade
    version = 0
    for n in range(12):
        assert store.commit([Write("drain/i-9", {"n": n}, version)])
        version = _version(store, "drain/i-9")
        issued.append(version)
    assert min(issued[-12:]) > 9
    assert not store.commit([Write("drain/i-9", {"stale": True}, 9)])

    assert len(set(issued)) == len(issued)
    return issued


def test_a_sqlite_file_of_the_old_scheme_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE docs (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL)")
        db.execute("CREATE TABLE markers (key TEXT PRIMARY KEY, expires REAL NOT NULL)")
        db.execute("CREATE INDEX markers_expires ON markers (expires)")
        for key, (value, version) in OLD_DOCS.items():
            db.execute("INSERT INTO docs VALUES (?, ?, ?)", (key, json.dumps(value), version))
        db.commit()
    finally:
        db.close()
    with SqliteStore(path) as store:
        issued = _keeps_working_after_the_upgrade(store)
    with SqliteStore(path) as reopened:  # the counter is in the file, not in the process
        assert reopened.put_new("new", {})
        assert _version(reopened, "new") > max(issued)


def test_a_redis_namespace_of_the_old_scheme_keeps_working(redis_url: str, raw: redis.Redis) -> None:
    for key, (value, version) in OLD_DOCS.items():
        raw.hset(f"ecs-events:doc:{key}", mapping={"v": str(version), "d": json.dumps(value)})
        raw.zadd("ecs-events:docs", {key: 0})
    with RedisStore(redis_url) as store:
        issued = _keeps_working_after_the_upgrade(store)
    with RedisStore(redis_url) as reopened:
        assert reopened.put_new("new", {})
        assert _version(reopened, "new") > max(issued)


# -- sqlite ---------------------------------------------------------------------------------------------------------
def test_sqlite_creates_parent_directories_the_schema_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.sqlite3"
    with SqliteStore(path) as store:
        store.put_new("k", {"n": 1})
        store.add_once("m", 60)
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        columns = {
            table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            for table in ("docs", "markers", "meta")
        }
        assert columns == {
            "docs": ["key", "value", "version"],
            "markers": ["key", "expires"],
            "meta": ["name", "value"],
        }
        assert db.execute("SELECT key, value, version FROM docs").fetchall() == [("k", '{"n": 1}', 1)]
        assert db.execute("SELECT name, value FROM meta").fetchall() == [("revision", 1)]
    finally:
        db.close()


def test_sqlite_documents_and_markers_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with SqliteStore(path) as store:
        store.commit([Write("saga/i-1/e", {"step": "drain"}, 0), Write("budget/lb-1", {"held": 1}, 0)])
        assert store.add_once("msg/1", 600) is True
    with SqliteStore(path) as again:
        assert again.scan("") == [Doc("budget/lb-1", {"held": 1}, 1), Doc("saga/i-1/e", {"step": "drain"}, 1)]
        assert again.add_once("msg/1", 600) is False


def test_two_sqlite_stores_on_one_file_see_each_other(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.sqlite3") as one, SqliteStore(tmp_path / "s.sqlite3") as two:
        assert one.put_new("k", {"by": "one"})
        assert not two.put_new("k", {"by": "two"})
        assert two.commit([Write("k", {"by": "two"}, 1)])
        assert one.get("k") == Doc("k", {"by": "two"}, 2)


def test_a_directory_as_the_path_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        SqliteStore(tmp_path)
    assert str(info.value) == f"store: sqlite database {tmp_path}: unable to open database file"


def test_a_file_as_the_parent_directory_is_one_line_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    path = tmp_path / "file" / "store.sqlite3"
    with pytest.raises(StoreError) as info:
        SqliteStore(path)
    message = str(info.value)
    assert message.startswith(f"store: sqlite database {path}: ")
    assert "File exists" in message or "Not a directory" in message


def test_a_file_that_is_no_database_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not a sqlite database, just some bytes" * 100)
    with pytest.raises(StoreError) as info:
        SqliteStore(path)
    assert str(info.value) == f"store: sqlite database {path}: file is not a database"


def test_sqlite_used_after_close_is_refused(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3")
    store.close()
    with pytest.raises(StoreError) as info:
        store.get("k")
    assert str(info.value) == f"store: sqlite database {tmp_path / 's.sqlite3'}: used after close()"


# -- redis ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def raw(redis_url: str, redis_store: RedisStore) -> Iterator[redis.Redis]:
    """A plain client on the (flushed) database the store uses, to look at the keys it wrote."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def test_redis_layout_is_a_hash_per_document_an_index_a_counter_and_marker_strings(
    redis_store: RedisStore, raw: redis.Redis
) -> None:
    redis_store.commit([Write("saga/i-1/e", {"step": "drain"}, 0), Write("outbox/n-1", {"x": 1}, 0)])
    redis_store.add_once("msg/1", 60)
    assert raw.hgetall("ecs-events:doc:saga/i-1/e") == {"v": "1", "d": '{"step": "drain"}'}
    assert raw.zrange("ecs-events:docs", 0, -1) == ["outbox/n-1", "saga/i-1/e"]
    assert raw.get("ecs-events:revision") == "1"
    assert 0 < raw.pttl("ecs-events:once:msg/1") <= 60_000
    redis_store.commit([Write("outbox/n-1", None, 1)])
    assert raw.exists("ecs-events:doc:outbox/n-1") == 0
    assert raw.zrange("ecs-events:docs", 0, -1) == ["saga/i-1/e"]
    redis_store.commit([Write("saga/i-1/e", {"step": "restore"}, 1)])
    assert raw.hget("ecs-events:doc:saga/i-1/e", "v") == raw.get("ecs-events:revision") == "2"
    assert sorted(raw.keys("*")) == [
        "ecs-events:doc:saga/i-1/e",
        "ecs-events:docs",
        "ecs-events:once:msg/1",
        "ecs-events:revision",
    ]


def test_redis_keys_under_a_hash_tag_prefix_share_one_cluster_slot(redis_url: str, raw: redis.Redis) -> None:
    with RedisStore(redis_url, prefix="{ecs-events}:") as tagged:
        assert tagged.commit([Write("saga/i-1/e", {}, 0), Write("budget/lb-1", {}, 0)])
        assert tagged.commit([Write("budget/lb-1", None, 1)])
        assert tagged.add_once("msg/1", 60)
    keys = raw.keys("*")
    assert "{ecs-events}:revision" in keys and len(keys) == 4
    assert {key_slot(key.encode()) for key in keys} == {key_slot(b"ecs-events")}


def test_redis_prefixes_are_separate_namespaces(redis_url: str, redis_store: RedisStore) -> None:
    with RedisStore(redis_url, prefix="{other}:") as other:
        assert redis_store.put_new("k", {"ns": "default"})
        assert other.put_new("k", {"ns": "other"})
        assert redis_store.add_once("m", 60) is True
        assert other.add_once("m", 60) is True
        assert other.scan("") == [Doc("k", {"ns": "other"}, 1)]
        assert redis_store.scan("") == [Doc("k", {"ns": "default"}, 1)]


def test_redis_commit_reloads_its_script_after_a_script_flush(redis_store: RedisStore, raw: redis.Redis) -> None:
    assert redis_store.put_new("k", {"n": 1})
    raw.script_flush()
    assert redis_store.commit([Write("k", {"n": 2}, 1)])
    assert redis_store.scan("") == [Doc("k", {"n": 2}, 2)]


def test_redis_errors_after_connecting_are_one_line_store_errors(redis_store: RedisStore, raw: redis.Redis) -> None:
    raw.set("ecs-events:doc:k", "a string where a hash belongs")
    with pytest.raises(StoreError) as info:
        redis_store.get("k")
    assert str(info.value).startswith(f"store: redis {redis_store.url}: get: ResponseError: WRONGTYPE")
