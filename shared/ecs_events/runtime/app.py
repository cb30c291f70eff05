"""Wiring: settings -> store, policy, clients, engine, outbox, consumer. The CLI and the FC handlers build one
``App`` per process (FC: in ``initialize``), never at import time.

``build_app`` checks the whole configuration and opens the store (a bad setting, a sqlite store on FC, missing
credentials or a bad policy file fail there, in one line): the CLI's App. ``deferred_app`` is FC's: it checks only
what an event answered by a store read needs (account, store, localcloud: ``ecs_events.runtime.env``, no pydantic),
resolves the credentials and opens the store; the full ``Settings`` are built and validated when an event first needs
them (the engine, the clients, the dead-letter queue), raising the same one-line error there. Either way the engine,
the timers, the outbox and the queue consumer are built on first use, so an event answered by a store read alone
(``ecs_events.runtime.rawtriage``, ``ecs_events.runtime.triage``) never imports them, nor an SDK.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ecs_events.runtime.clients import Clients, Credentials, resolve_credentials
from ecs_events.runtime.clock import Now, clock_for
from ecs_events.runtime.env import early_settings
from ecs_events.store import Store, open_store, refuse_sqlite_on_fc

if TYPE_CHECKING:
    from ecs_events.engine.engine import Engine
    from ecs_events.engine.reconciler import Reconciler
    from ecs_events.notify.outbox import Outbox
    from ecs_events.policy import Policy
    from ecs_events.runtime.consumer import Consumer
    from ecs_events.runtime.settings import Settings

LOCALCLOUD_KEY = ("LTAI-localcloud", "localcloud-secret")  # localcloud's default key pair
T = TypeVar("T")


class App:
    """Account, store and clock at once; settings, clients, policy, engine, outbox and consumer given or built on
    first use (once per App, also under FC instance concurrency)."""

    def __init__(
        self,
        settings: Settings | None,
        store: Store,
        clients: Clients | None,
        now: Now,
        *,
        policy: Policy | None = None,
        account: str | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        """``settings`` and ``clients`` given (``build_app``), or None with the ``account`` and the
        ``credentials`` to build them from on first use (``deferred_app``)."""
        if settings is not None:
            account = settings.require_account()
        elif account is None or credentials is None:
            raise TypeError("App: without settings, the account and the credentials are required")
        self.account: str = account
        self.store = store
        self.now = now
        self._credentials = credentials
        self._parts: dict[str, Any] = {} if policy is None else {"policy": policy}
        if settings is not None:
            self._parts["settings"] = settings
        if clients is not None:
            self._parts["clients"] = clients
        self._lock = threading.RLock()

    def _part(self, name: str, build: Callable[[], T]) -> T:
        found = self._parts.get(name)
        if found is None:
            with self._lock:
                found = self._parts.get(name)
                if found is None:
                    found = self._parts[name] = build()
        return cast("T", found)

    def built(self, name: str) -> bool:
        """Whether ``settings``, ``clients``, ``policy``, ``engine``, ``outbox`` or ``consumer`` was built already."""
        return name in self._parts

    @property
    def settings(self) -> Settings:
        """The full settings; a deferred App validates them here (the one-line SettingsError of a bad value)."""
        return self._part("settings", _load_settings)

    @property
    def clients(self) -> Clients:
        def build() -> Clients:
            assert self._credentials is not None  # __init__: given whenever the clients are not
            return Clients(self.settings, self._credentials)

        return self._part("clients", build)

    @property
    def policy(self) -> Policy:
        from ecs_events.policy import load_policy

        return self._part("policy", lambda: load_policy(self.settings.policy))

    @property
    def engine(self) -> Engine:
        return self._part("engine", self._build_engine)

    @property
    def outbox(self) -> Outbox:
        return self._part("outbox", self._build_outbox)

    @property
    def consumer(self) -> Consumer:
        return self._part("consumer", self._build_consumer)

    def _build_engine(self) -> Engine:
        from ecs_events.engine.engine import Engine
        from ecs_events.engine.timers import Timers

        settings, queue = self.settings, self.clients.queue(self.settings.queue)
        return Engine(
            store=self.store,
            ecs=self.clients.ecs(),
            slb=self.clients.balancers(),  # CLB, ALB and NLB
            timers=Timers(queue, queue.retention),
            policy=self.policy,
            account_id=self.account,
            tag=(settings.tag_key, settings.tag_value),
            now=self.now,
            lease_seconds=lease_seconds(os.environ),
        )

    def _build_outbox(self) -> Outbox:
        from ecs_events.notify.outbox import Outbox
        from ecs_events.notify.senders import senders_from_urls

        return Outbox(self.store, senders_from_urls(list(self.settings.webhooks)), self.now)

    def _build_consumer(self) -> Consumer:
        from ecs_events.runtime.consumer import Consumer

        queues = self.clients.queue(self.settings.queue), self.clients.queue(self.settings.dlq_name)
        return Consumer(*queues, self.engine, self.outbox, max_receives=self.settings.max_receives)

    def close(self) -> None:
        self.store.close()


def _load_settings() -> Settings:
    from ecs_events.runtime.settings import load_settings

    return load_settings()


def credentials_for(settings: Settings | str | None, context: Any = None) -> Credentials:
    """The FC context's or the environment's credentials; against a localcloud (``settings.localcloud``, or its
    URL given alone), its default key pair when none."""
    try:
        return resolve_credentials(context)
    except Exception:
        localcloud = settings if settings is None or isinstance(settings, str) else settings.localcloud
        if localcloud:
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
    """The App; every configuration error raised here, in one line. A policy file (``ECS_EVENTS_POLICY``) is read
    now, so a bad one fails the initializer; the default policy is built when the engine first needs it."""
    settings = settings or _load_settings()
    settings.require_account()
    opened = store is None
    if store is None:
        refuse_sqlite_on_fc(settings.store, os.environ)
        store = open_store(settings.store)
    try:
        policy = None
        if settings.policy is not None:
            from ecs_events.policy import load_policy

            policy = load_policy(settings.policy)
        clients = Clients(settings, credentials_for(settings, context))
    except BaseException:
        if opened:
            store.close()
        raise
    return App(settings, store, clients, clock_for(settings.localcloud), policy=policy)


def deferred_app(context: Any = None, *, store: Store | None = None) -> App:
    """FC's App: the account, the store and the localcloud URL checked (``ecs_events.runtime.env``), the credentials
    resolved and the store opened now, each failure in one line; every other setting (and the policy file) is read
    and validated when an event first needs it (``App.settings``). No pydantic is imported here."""
    early = early_settings()
    opened = store is None
    if store is None:
        refuse_sqlite_on_fc(early.store, os.environ)
        store = open_store(early.store)
    try:
        credentials = credentials_for(early.localcloud, context)
    except BaseException:
        if opened:
            store.close()
        raise
    return App(None, store, None, clock_for(early.localcloud), account=early.account_id, credentials=credentials)


def reconciler_for(app: App) -> Reconciler:
    """The reconciler over the App's engine (its store, clients and leases)."""
    from ecs_events.engine.reconciler import Reconciler

    return Reconciler(app.engine, region=app.settings.region, stuck_after=timedelta(seconds=app.settings.stuck_after))
