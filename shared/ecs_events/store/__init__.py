"""The document store: ``open_store(url)`` picks the backend from the ``ECS_EVENTS_STORE`` URL.

Backends are imported lazily: a function that uses sqlite never loads redis-py and vice versa (FC cold start).
"""

from __future__ import annotations

from collections.abc import Mapping

from ecs_events.store.base import Committed, ConflictError, Doc, Store, StoreError, Write
from ecs_events.store.redis import redact_url

__all__ = ["Committed", "ConflictError", "Doc", "Store", "StoreError", "Write", "open_store", "refuse_sqlite_on_fc"]

_FC_VARIABLES = ("FC_FUNCTION_NAME", "FC_FUNC_CODE_PATH")


def open_store(url: str) -> Store:
    """``memory://``; ``sqlite:///relative/path`` (relative to the working directory) or ``sqlite:////abs/path``;
    ``redis://[:password@]host:port/db`` or ``rediss://...`` (TLS). Anything else is a one-line StoreError naming
    the setting, with any password in the URL masked."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme = ""
    if scheme == "memory" and rest == "":
        from ecs_events.store.memory import MemoryStore

        return MemoryStore()
    if scheme == "sqlite" and rest.startswith("/") and len(rest) > 1:
        from ecs_events.store.sqlite import SqliteStore

        return SqliteStore(rest[1:])  # "sqlite:///a" -> "a", "sqlite:////a" -> "/a"
    if scheme in ("redis", "rediss") and rest:
        from ecs_events.store.redis import RedisStore

        return RedisStore(url)
    raise StoreError(
        f"ECS_EVENTS_STORE: unsupported store URL '{redact_url(url)}' (expected sqlite:///PATH or redis://HOST:PORT/DB)"
    )


def refuse_sqlite_on_fc(url: str, environ: Mapping[str, str]) -> None:
    """Function Compute runs many instances with no shared file system that honours sqlite locks: a sqlite store
    there would silently split dedupe and sagas per instance. Refuse it when the environment says we are on FC."""
    if url.startswith("sqlite:") and any(environ.get(name) for name in _FC_VARIABLES):
        raise StoreError(
            "ECS_EVENTS_STORE: sqlite cannot be shared by concurrent Function Compute instances; use redis://..."
        )
