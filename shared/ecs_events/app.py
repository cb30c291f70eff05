"""Wiring: settings -> store, policy, clients, engine, outbox, consumer. The CLI and the FC handlers build one
``App`` per process (FC: in ``initialize``), never at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ecs_events.clients import Clients, Credentials, resolve_credentials
from ecs_events.clock import Now, clock_for
from ecs_events.consumer import Consumer
from ecs_events.engine.engine import Engine
from ecs_events.engine.timers import Timers
from ecs_events.notify.outbox import Outbox
from ecs_events.notify.senders import senders_from_urls
from ecs_events.policy import Policy, load_policy
from ecs_events.settings import Settings, load_settings
from ecs_events.store import Store, open_store, refuse_sqlite_on_fc

if TYPE_CHECKING:
    from ecs_events.engine.reconciler import Reconciler

LOCALCLOUD_KEY = ("LTAI-localcloud", "localcloud-secret")  # localcloud's default key pair


@dataclass
class App:
    settings: Settings
    store: Store
    policy: Policy
    clients: Clients
    engine: Engine
    outbox: Outbox
    consumer: Consumer
    now: Now

    def close(self) -> None:
        self.store.close()


def credentials_for(settings: Settings, context: Any = None) -> Credentials:
    """The FC context's or the environment's credentials; against a localcloud, its default key pair when none."""
    try:
        return resolve_credentials(context)
    except Exception:
        if settings.localcloud:
            return Credentials(*LOCALCLOUD_KEY, None)
        raise


def lease_seconds(environ: Mapping[str, str]) -> float:
    """``ECS_EVENTS_LEASE_SECONDS`` (default 120): how long (wall clock) a crashed consumer's saga stays blocked.
    Reliability tests that SIGKILL consumers shorten it; a bad value is ignored (the default is the safe one)."""
    try:
        value = float(environ.get("ECS_EVENTS_LEASE_SECONDS", "120"))
    except ValueError:
        return 120.0
    return value if 1.0 <= value <= 3600.0 else 120.0


def build_app(settings: Settings | None = None, context: Any = None, *, store: Store | None = None) -> App:
    settings = settings or load_settings()
    account = settings.require_account()
    if store is None:
        refuse_sqlite_on_fc(settings.store, os.environ)
        store = open_store(settings.store)
    policy = load_policy(settings.policy)
    now = clock_for(settings.localcloud)
    clients = Clients(settings, credentials_for(settings, context))
    queue = clients.queue(settings.queue)
    engine = Engine(
        store=store,
        ecs=clients.ecs(),
        # CLB, ALB and NLB: ``Balancers`` has ``Slb``'s methods (the engine's annotation still names ``Slb``;
        # ``actions.balancers.LoadBalancers`` is the protocol both satisfy)
        slb=clients.balancers(),
        timers=Timers(queue, queue.retention),
        policy=policy,
        account_id=account,
        tag=(settings.tag_key, settings.tag_value),
        now=now,
        lease_seconds=lease_seconds(os.environ),
    )
    outbox = Outbox(store, senders_from_urls(list(settings.webhooks)), now)
    consumer = Consumer(queue, clients.queue(settings.dlq_name), engine, outbox, max_receives=settings.max_receives)
    return App(settings, store, policy, clients, engine, outbox, consumer, now)


def reconciler_for(app: App) -> Reconciler:
    """The reconciler over the App's engine (its store, clients and leases)."""
    from ecs_events.engine.reconciler import Reconciler

    return Reconciler(app.engine, region=app.settings.region, stuck_after=timedelta(seconds=app.settings.stuck_after))
