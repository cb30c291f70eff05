"""Versions are never reused for a key, on every backend: a commit computed against a document that was deleted and
re-created since (ABA) fails instead of overwriting the new document.

The replays use the engine's own drain registry (``claim`` / ``release``), the place where the reproduced failure
was: a budget claim computed against an old ``budget/<lb>`` committed over a newly created one, leaving a phantom
holder and losing a real one; and the same shape on ``drain/<instance>``, which could leave an instance drained.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from ecs_events.actions.types import Membership, SlbView
from ecs_events.engine import drain
from ecs_events.store import Doc, Store, Write

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
LIMITS = {"lb-1": 2}


def _view(instance_id: str) -> SlbView:
    return SlbView([Membership("lb-1", None, instance_id, None, 100)], {"lb-1": 4})


def _claim(store: Store, instance_id: str, saga: str) -> drain.Claim:
    view = None if store.get(drain.drain_key(instance_id)) else _view(instance_id)
    return drain.claim(
        store, instance_id, saga, view=view, limits=LIMITS, urgent=False, now=NOW, deadline=NOW + timedelta(hours=2)
    )


def _let_go(store: Store, instance_id: str, saga: str) -> bool:
    """Release ``saga``'s hold; as the last holder, restore every backend and settle (the entry and budget go)."""
    release = drain.release(store, instance_id, saga)
    if not store.commit(release.writes):
        return False
    if not release.last:
        return True
    restored = {m.key: (drain.RESTORED, None) for m in release.pending}
    return bool(store.commit(drain.settle(store, instance_id, restored).writes))


def _holders(store: Store) -> set[str]:
    doc = store.get(drain.budget_key("lb-1"))
    return set() if doc is None else set(doc.value["holders"])


# -- the reproduced failures, replayed ---------------------------------------------------------------------------
def test_a_budget_claim_read_before_the_budget_was_deleted_and_re_created_fails(store: Store) -> None:
    assert store.commit(_claim(store, "i-1", "saga-1").writes)
    late = _claim(store, "i-2", "saga-2")  # reads budget/lb-1 = {i-1}, is slow to commit
    assert late.blocked_by == [] and late.fresh
    assert _let_go(store, "i-1", "saga-1")  # last holder: budget/lb-1 deleted
    assert store.get(drain.budget_key("lb-1")) is None
    assert store.commit(_claim(store, "i-3", "saga-3").writes)  # budget/lb-1 created again = {i-3}

    assert not store.commit(late.writes)  # i-1 would be a phantom holder and i-3's hold lost
    assert _holders(store) == {"i-3"}
    assert store.get(drain.drain_key("i-2")) is None  # all or nothing: the drain record went with it

    assert store.commit(_claim(store, "i-2", "saga-2").writes)  # read again, claimed again
    assert _holders(store) == {"i-2", "i-3"}
    assert _let_go(store, "i-3", "saga-3")
    assert _let_go(store, "i-2", "saga-2")
    assert store.scan("") == []  # nothing left holding the load balancer


def test_a_drain_join_read_before_the_drain_was_deleted_and_re_created_fails(store: Store) -> None:
    assert store.commit(_claim(store, "i-1", "saga-1").writes)
    join = _claim(store, "i-1", "saga-2")  # a second saga joins the drain of i-1, slowly
    assert not join.fresh
    assert _let_go(store, "i-1", "saga-1")  # saga-1 lets go: drain/i-1 deleted
    assert store.commit(_claim(store, "i-1", "saga-3").writes)  # a new drain of i-1 by saga-3

    assert not store.commit(join.writes)  # saga-1 would hold i-1 forever and saga-3 be forgotten
    current = store.get(drain.drain_key("i-1"))
    assert current is not None and current.value["holders"] == ["saga-3"]

    assert _let_go(store, "i-1", "saga-3")
    assert store.get(drain.drain_key("i-1")) is None  # undrained when its last real holder let go


def test_every_kind_of_stale_commit_fails_after_a_delete_and_re_create(store: Store) -> None:
    assert store.put_new("k", {"n": 1})
    old = store.get("k")
    assert old is not None
    assert store.commit([Write("k", None, old.version)])
    assert store.put_new("k", {"n": 2})
    new = store.get("k")
    assert new is not None and new.version != old.version
    assert not store.commit([Write("k", {"n": 3}, old.version)])  # stale update
    assert not store.commit([Write("k", None, old.version)])  # stale delete
    assert not store.commit([Write("other", {}, 0), Write("k", {"n": 3}, old.version)])  # stale in a batch
    assert store.scan("") == [new]


# -- what commit reports -----------------------------------------------------------------------------------------
def test_commit_reports_each_written_keys_new_version_and_versions_only_grow(store: Store) -> None:
    first = store.commit([Write("a", {"n": 1}, 0), Write("b", {"n": 1}, 0)])
    assert first and first.versions == {"a": store_version(store, "a"), "b": store_version(store, "b")}
    second = store.commit([Write("a", {"n": 2}, first.versions["a"]), Write("b", None, first.versions["b"])])
    assert second and second.versions == {"a": store_version(store, "a")}  # a delete has no version
    assert second.versions["a"] > max(first.versions.values())
    third = store.put_new("b", {"n": 3})
    assert third and third.versions["b"] > second.versions["a"]

    conflict = store.commit([Write("a", {"n": 9}, first.versions["a"])])
    assert not conflict and conflict.versions == {}
    assert store.get("a") == Doc("a", {"n": 2}, second.versions["a"])
    assert store.put_new("a", {}).versions == {}  # put_new of an existing key: a conflict too
    deleted_nothing = store.commit([Write("never", None, 0)])  # deleting the absent: nothing to do, done
    assert deleted_nothing and deleted_nothing.versions == {}
    assert store.scan("") == [Doc("a", {"n": 2}, second.versions["a"]), Doc("b", {"n": 3}, third.versions["b"])]


def test_update_returns_the_document_as_stored(store: Store) -> None:
    created = store.update("k", lambda value: {"n": 1})
    assert created is not None and created == store.get("k")
    assert store.update("k", lambda value: None) is None
    again = store.update("k", lambda value: {"n": 2})
    assert again == store.get("k")
    assert again is not None and again.version > created.version


def store_version(store: Store, key: str) -> int:
    doc = store.get(key)
    assert doc is not None, key
    return doc.version


# -- the property, over random histories ----------------------------------------------------------------------------
KEYS = ("budget/lb-1", "drain/i-1")  # few keys: the interesting histories touch one key several times
_key = st.sampled_from(KEYS)


class _History(RuleBasedStateMachine):
    """One writer at a time, and readers that commit what they read later. After every step: no key ever got a
    version it had before (even across delete and re-create); a commit with a version read before a later write of
    that key failed and changed nothing; one with a version nobody overwrote succeeded. Absence has no version: a
    create read while the key was absent succeeds exactly when it is absent again (it holds what the reader saw)."""

    open_store: Callable[[], Store]

    def __init__(self) -> None:
        super().__init__()
        self.store = self.open_store()
        self.issued: dict[str, set[int]] = {key: set() for key in KEYS}
        self.writes_of = dict.fromkeys(KEYS, 0)
        self.readers: dict[str, tuple[int, int]] = {}  # key -> (version read, writes of the key when read)
        self.step = 0

    def current(self, key: str) -> int:
        doc = self.store.get(key)
        return 0 if doc is None else doc.version

    def written(self, *keys: str) -> None:
        self.step += 1
        for key in keys:
            self.writes_of[key] += 1
            doc = self.store.get(key)
            if doc is not None:
                assert doc.version not in self.issued[key], f"{key}: version {doc.version} issued twice"
                self.issued[key].add(doc.version)

    @rule(key=_key)
    def write(self, key: str) -> None:
        assert self.store.commit([Write(key, {"step": self.step}, self.current(key))])
        self.written(key)

    @rule(key=_key)
    def write_both(self, key: str) -> None:
        other = KEYS[1 - KEYS.index(key)]
        writes = [Write(key, {"step": self.step}, self.current(key)), Write(other, {}, self.current(other))]
        assert self.store.commit(writes)
        self.written(key, other)

    @rule(key=_key)
    def delete(self, key: str) -> None:
        if self.current(key):
            assert self.store.commit([Write(key, None, self.current(key))])
            self.written(key)

    @rule(key=_key)
    def read(self, key: str) -> None:
        self.readers[key] = (self.current(key), self.writes_of[key])

    @precondition(lambda self: self.readers)
    @rule(data=st.data())
    def commit_what_was_read(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.readers)))
        version, seen = self.readers.pop(key)
        before, absent = self.store.scan(""), self.current(key) == 0
        applied = self.store.commit([Write(key, {"step": self.step, "stale": True}, version)])
        if version == 0:
            assert bool(applied) == absent, f"{key}: a create read while absent, applied={bool(applied)}"
        elif self.writes_of[key] > seen:
            assert not applied, f"{key}: a commit with version {version}, read before a write, was applied"
        else:
            assert applied, f"{key}: a commit with the current version {version} was refused"
        if applied:
            self.written(key)
        else:
            assert self.store.scan("") == before


def test_no_version_is_issued_twice_for_a_key_and_every_stale_commit_fails(fresh_stores: Callable[[], Store]) -> None:
    machine = type("History", (_History,), {"open_store": staticmethod(fresh_stores)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,  # the same histories on every run: a failure always reproduces
            database=None,
        ),
    )


# -- under concurrency ----------------------------------------------------------------------------------------------
def test_threads_deleting_and_re_creating_never_get_the_same_version(store: Store) -> None:
    """Every commit that writes a document takes its own revision, however many writers race: collected from what
    ``commit`` reports, no version appears twice (one shared key deleted and re-created, one key per thread)."""
    rounds, threads = 30, 4
    barrier = threading.Barrier(threads)

    def work(number: int) -> list[int]:
        barrier.wait(timeout=30)
        seen = []
        for n in range(rounds):
            own = store.update(f"own/{number}", lambda value: {"n": (value or {"n": 0})["n"] + 1})
            assert own is not None
            seen.append(own.version)
            doc = store.get("shared")
            done = store.commit([Write("shared", None if doc else {"by": number, "n": n}, doc.version if doc else 0)])
            seen += done.versions.values()
        return seen

    with ThreadPoolExecutor(threads) as pool:
        issued = [version for future in [pool.submit(work, i) for i in range(threads)] for version in future.result()]
    assert len(issued) >= threads * rounds
    assert len(set(issued)) == len(issued)
    assert all(doc.value["n"] == rounds for doc in store.scan("own/"))
