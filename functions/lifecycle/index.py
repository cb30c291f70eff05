"""FC function ``lifecycle``.

Instance:StateChange (advances sagas: Running after our reboot -> restore; an unexpected Stop of a managed instance ->
notify) from CloudMonitor, through an MNS topic trigger (STREAM or JSON).

Handler ``index.handler``, initializer ``index.initialize``. Poison is dead-lettered and acknowledged; a transient
failure raises so the trigger retries. Nothing is built at import time: ``ecs_events.runtime.handlers`` builds the App
once per instance.
"""

from __future__ import annotations

from typing import Any

from ecs_events.runtime import handlers

NAME = "lifecycle"


def initialize(context: Any) -> None:
    """FC initializer: the App once per instance (account, store, credentials checked here, in one line; the other
    settings at the first event that needs them)."""
    handlers.initialize(context)


def handler(event: bytes, context: Any) -> dict[str, Any]:
    """One delivery (the raw bytes FC passes): every event it carries into the engine; a summary back."""
    return handlers.handle_push(event, context, expect=handlers.KINDS[NAME])
