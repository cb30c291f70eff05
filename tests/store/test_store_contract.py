"""The Store contract, run against every backend: memory, sqlite (a file in tmp_path) and redis (a real server).

The engine's safety rests on these properties (compare-and-set, all-or-nothing commits, one winner of a race, markers
apart from documents), so each backend must show them the same way, including under threads and processes.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from store_support import FakeClock

from ecs_events.store import ConflictError, Doc, Store, StoreError, Write, open_store

WORKERS = 4
INCREMENTS = 50
ATTEMPTS = 1000  # the contested tests must count every increment, not give up: losing a round is expected


def _increment(value: dict[str, Any] | None) -> dict[str, Any]:
    return {"n": (value or {"n": 0})["n"] + 1}


# -- get / commit ---------------------------------------------------------------------------------------------------
def test_get_of_a_missing_key_is_none(store: Store) -> None:
    assert store.get("saga/i-1/e-1") is None


def test_put_new_creates_version_1_once(store: Store) -> None:
    assert store.put_new("saga/i-1/e-1", {"state": "new"})
    assert not store.put_new("saga/i-1/e-1", {"state": "other"})
    assert store.get("saga/i-1/e-1") == Doc("saga/i-1/e-1", {"state": "new"}, 1)


def test_each_commit_grows_the_version_by_one_and_a_stale_one_changes_nothing(store: Store) -> None:
    store.put_new("k", {"n": 1})
    assert store.commit([Write("k", {"n": 2}, 1)])
    assert store.commit([Write("k", {"n": 3}, 2)])
    assert not store.commit([Write("k", {"n": 99}, 2)])
    assert store.get("k") == Doc("k", {"n": 3}, 3)


def test_expected_zero_means_absent(store: Store) -> None:
    assert not store.commit([Write("k", {"n": 1}, 1)])  # absent is version 0, not 1
    assert store.get("k") is None
    store.put_new("k", {"n": 1})
    assert not store.commit([Write("k", {"n": 2}, 0)])
    assert store.get("k") == Doc("k", {"n": 1}, 1)


def test_none_deletes_and_a_re_created_key_gets_a_version_it_never_had(store: Store) -> None:
    store.put_new("k", {"n": 1})
    store.commit([Write("k", {"n": 2}, 1)])
    assert not store.commit([Write("k", None, 1)])  # stale delete
    assert store.get("k") == Doc("k", {"n": 2}, 2)
    assert store.commit([Write("k", None, 2)])
    assert store.get("k") is None
    assert store.scan("") == []
    assert store.put_new("k", {"n": 3})
    assert store.get("k") == Doc("k", {"n": 3}, 3)  # not 1 again: a reader of the first k cannot mistake it


def test_one_stale_version_applies_none_of_the_writes(store: Store) -> None:
    store.commit([Write("saga/a", {"n": 1}, 0), Write("saga/b", {"n": 1}, 0)])
    stale = [Write("saga/a", {"n": 2}, 1), Write("outbox/1", {"x": 1}, 0), Write("saga/b", None, 7)]
    assert not store.commit(stale)
    assert [(doc.key, doc.value, doc.version) for doc in store.scan("")] == [
        ("saga/a", {"n": 1}, 1),
        ("saga/b", {"n": 1}, 1),
    ]
    fresh = [Write("saga/a", {"n": 2}, 1), Write("outbox/1", {"x": 1}, 0), Write("saga/b", None, 1)]
    assert store.commit(fresh)
    assert store.scan("") == [Doc("outbox/1", {"x": 1}, 2), Doc("saga/a", {"n": 2}, 2)]  # one commit, one version


def test_an_empty_commit_succeeds_and_a_repeated_key_is_refused(store: Store) -> None:
    assert store.commit([])
    with pytest.raises(StoreError, match=r"^store: commit names key 'k' more than once$"):
        store.commit([Write("k", {"n": 1}, 0), Write("k", {"n": 2}, 1)])
    assert store.get("k") is None


def test_values_round_trip_as_json_and_are_copies(store: Store) -> None:
    value: dict[str, Any] = {"s": "实例 ✓", "f": 1.5, "b": True, "none": None, "list": [1, {"x": []}], "nested": {}}
    store.put_new("k", value)
    value["s"] = "changed by the caller after the commit"
    doc = store.get("k")
    assert doc is not None
    assert doc.value == {"s": "实例 ✓", "f": 1.5, "b": True, "none": None, "list": [1, {"x": []}], "nested": {}}
    doc.value["f"] = 2.5
    assert store.get("k") == Doc("k", {**doc.value, "f": 1.5}, 1)


# -- scan -----------------------------------------------------------------------------------------------------------
def test_scan_is_sorted_by_key_and_isolated_by_prefix(store: Store) -> None:
    keys = ["saga/i-2/e", "saga/i-1/b", "saga/i-10/x", "saga/i-1/a", "sagas/x", "budget/lb-1", "saga/é", "saga/z"]
    for number, key in enumerate(keys):
        store.put_new(key, {"n": number})
    assert [doc.key for doc in store.scan("saga/i-1/")] == ["saga/i-1/a", "saga/i-1/b"]
    assert [doc.key for doc in store.scan("saga/")] == [
        "saga/i-1/a",
        "saga/i-1/b",
        "saga/i-10/x",
        "saga/i-2/e",
        "saga/z",
        "saga/é",
    ]
    assert [doc.key for doc in store.scan("")] == sorted(keys)
    assert store.scan("nothing/") == []
    assert store.scan("saga/i-1/a") == [Doc("saga/i-1/a", {"n": 3}, 4)]  # the 4th commit of this store


def test_scan_prefix_is_literal_not_a_pattern(store: Store) -> None:
    for key in ["a_b/1", "axb/1", "a%c/1", "abc/1", "a*/1", "a[/1"]:
        store.put_new(key, {})
    assert [doc.key for doc in store.scan("a_")] == ["a_b/1"]
    assert [doc.key for doc in store.scan("a%")] == ["a%c/1"]
    assert [doc.key for doc in store.scan("a*")] == ["a*/1"]
    assert [doc.key for doc in store.scan("a[")] == ["a[/1"]


def test_scan_reports_current_versions(store: Store) -> None:
    store.put_new("x/1", {"n": 0})
    store.put_new("x/2", {"n": 0})
    store.update("x/2", _increment)
    assert store.scan("x/") == [Doc("x/1", {"n": 0}, 1), Doc("x/2", {"n": 1}, 3)]


# -- add_once -------------------------------------------------------------------------------------------------------
def test_add_once_is_true_only_the_first_time_and_apart_from_documents(store: Store) -> None:
    assert store.add_once("msg/m-1", 600) is True
    assert store.add_once("msg/m-1", 600) is False
    assert store.add_once("msg/m-2", 600) is True
    assert store.get("msg/m-1") is None
    assert store.scan("") == []
    assert store.put_new("msg/m-1", {"doc": True})  # a document may share a marker's name
    assert store.add_once("msg/m-1", 600) is False


def test_add_once_expires_after_its_ttl(store: Store, backend: str, clock: FakeClock) -> None:
    if backend == "redis":  # the server's clock decides: a real, short wait
        assert store.add_once("m", 0.05) is True
        assert store.add_once("long", 600) is True
        assert _eventually(lambda: store.add_once("m", 600), within=2.0) is True
        assert store.add_once("m", 600) is False
        assert store.add_once("long", 600) is False
        return
    assert store.add_once("m", 60) is True
    clock.now += 59.9
    assert store.add_once("m", 60) is False
    clock.now += 0.2
    assert store.add_once("m", 60) is True
    assert store.add_once("m", 60) is False


def _eventually(check: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# -- update ---------------------------------------------------------------------------------------------------------
def test_update_creates_changes_and_deletes(store: Store) -> None:
    assert store.update("k", _increment) == Doc("k", {"n": 1}, 1)
    assert store.update("k", _increment) == Doc("k", {"n": 2}, 2)
    assert store.get("k") == Doc("k", {"n": 2}, 2)
    assert store.update("k", lambda value: None) is None
    assert store.get("k") is None
    assert store.update("k", lambda value: None) is None  # deleting the absent writes nothing
    assert store.put_new("k", {"n": 0})


def test_update_gives_up_with_conflict_error_when_it_keeps_losing(store: Store) -> None:
    store.put_new("k", {"n": 0})

    def lose_the_race(value: dict[str, Any] | None) -> dict[str, Any]:
        doc = store.get("k")  # another writer commits between our read and our commit, every time
        assert doc is not None
        assert store.commit([Write("k", _increment(doc.value), doc.version)])
        return _increment(value)

    with pytest.raises(ConflictError, match=r"^store: k: gave up after 3 concurrent updates$"):
        store.update("k", lose_the_race, attempts=3)
    assert store.get("k") == Doc("k", {"n": 3}, 4)


# -- concurrency: threads -------------------------------------------------------------------------------------------
def _in_threads(work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in WORKERS threads released together; re-raise the first failure."""
    barrier = threading.Barrier(WORKERS)

    def released(number: int) -> Any:
        barrier.wait(timeout=30)
        return work(number)

    with ThreadPoolExecutor(WORKERS) as pool:
        return [future.result() for future in [pool.submit(released, i) for i in range(WORKERS)]]


def test_threads_racing_update_lose_no_increment(store: Store) -> None:
    def work(_: int) -> None:
        for _ in range(INCREMENTS):
            store.update("counter", _increment, attempts=ATTEMPTS)

    _in_threads(work)
    assert store.get("counter") == Doc("counter", {"n": WORKERS * INCREMENTS}, WORKERS * INCREMENTS)


def test_threads_racing_put_new_have_exactly_one_winner(store: Store) -> None:
    outcomes = [bool(won) for won in _in_threads(lambda number: store.put_new("claim", {"by": number}))]
    assert outcomes.count(True) == 1
    assert store.get("claim") == Doc("claim", {"by": outcomes.index(True)}, 1)


def test_threads_moving_units_between_two_keys_keep_the_sum(store: Store) -> None:
    store.commit([Write("acct/a", {"n": 0}, 0), Write("acct/b", {"n": 0}, 0)])
    moves = 25

    def move_one() -> None:
        for _ in range(ATTEMPTS):
            a, b = store.get("acct/a"), store.get("acct/b")
            assert a is not None and b is not None
            writes = [
                Write("acct/a", {"n": a.value["n"] + 1}, a.version),
                Write("acct/b", {"n": b.value["n"] - 1}, b.version),
            ]
            if store.commit(writes):
                return
        raise AssertionError("a move kept losing")

    def work(_: int) -> None:
        for _ in range(moves):
            move_one()

    _in_threads(work)
    total = WORKERS * moves
    assert store.scan("acct/") == [Doc("acct/a", {"n": total}, total + 1), Doc("acct/b", {"n": -total}, total + 1)]


# -- concurrency: processes -----------------------------------------------------------------------------------------
def _increment_in_process(url: str, start: Any) -> None:
    """Child process body (spawned, so it must be importable): once released, open the store by URL (all children at
    once: for sqlite that also races the creation of a fresh file) and increment."""
    if not start.wait(60):
        raise SystemExit("never released")
    store = open_store(url)
    try:
        for _ in range(INCREMENTS):
            store.update("counter", _increment, attempts=ATTEMPTS)
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("shared", ["sqlite", "redis"])
def test_processes_racing_update_lose_no_increment(shared: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if shared == "redis":
        request.getfixturevalue("redis_store")  # flushed database
        url: str = request.getfixturevalue("redis_url")
    else:
        url = f"sqlite:///{tmp_path / 'fresh' / 'shared.sqlite3'}"  # absent until the children open it
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    children = [context.Process(target=_increment_in_process, args=(url, start)) for _ in range(WORKERS)]
    for child in children:
        child.start()
    start.set()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0] * WORKERS
    with open_store(url) as store:
        assert store.get("counter") == Doc("counter", {"n": WORKERS * INCREMENTS}, WORKERS * INCREMENTS)
