"""FC function ``reconciler``: a timer trigger runs one reconcile pass beside the event path: it wakes overdue sagas,
enforces every drain's deadline from the registry, repairs half-done restores and starts sagas for system events
whose notification was lost.

Handler ``index.handler``, initializer ``index.initialize``. The timer fires every ``ReconcileIntervalMinutes``
minutes (template.yml; ``vars.reconcileIntervalMinutes`` in s.yaml). Nothing is built at import time:
``ecs_events.runtime.handlers`` builds the App once per instance.
"""

from __future__ import annotations

from typing import Any

from ecs_events.runtime import handlers

NAME = "reconciler"


def initialize(context: Any) -> None:
    """FC initializer: the App once per instance (account, store, credentials checked here, in one line; the other
    settings at the first event that needs them)."""
    handlers.initialize(context)


def handler(event: bytes, context: Any) -> dict[str, Any]:
    """One timer tick: one reconcile pass within the deadline; its report back."""
    return handlers.handle_reconcile(event, context)
