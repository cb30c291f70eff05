"""The ``LocalCloud`` facade: one context, the services (ECS, SLB, ALB, NLB, MNS, CMS), one HTTP server, SDK clients
aimed at it.

    with LocalCloud(seed=0) as cloud:
        client = cloud.acs_client()           # aliyunsdkcore AcsClient, Ecs/Slb/Alb/Nlb/Cms endpoints -> this server
        account = cloud.mns_account()         # mns.account.Account at http://127.0.0.1:PORT
        cloud.clock.advance(60)               # run every state transition due in the next minute

ECS notifications reach MNS through CloudMonitor event rules (``cloud.cms``: PutEventRule / PutEventRuleTargets
over the SDK, as in production) and, for tests that want every notification without a rule, through the direct
``route_events_to_queue`` / ``route_events_to_topic`` routes. Both are taken (see ``localcloud.emit``).

``reset()`` drops all state (instances, queues, load balancers, event rules, call log, faults, event targets) and
restarts the ids from the seed. A manual clock (the default) also goes back to its fixed start, so every test sees
the same times; a wall clock (``manual_clock=False``, used when serving) keeps running.

``strict_requests`` (default on) refuses replayed RPC SignatureNonces and RPC Timestamps / MNS Dates more than
15 minutes off the wall clock, as the real cloud does; the SDKs stamp wall time, so a stepped manual clock does
not matter. Turn it off to replay captured requests. ``idle_timeout`` closes connections idle that long.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localcloud.alb import AlbService
from localcloud.cms import CmsService
from localcloud.control import ControlApi
from localcloud.core import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    CallLog,
    Clock,
    CloudContext,
    Faults,
)
from localcloud.ecs import EcsService
from localcloud.ecs.models import Instance
from localcloud.emit import RoutedEventBus, mns_exists, queue_target, rules_router, topic_target
from localcloud.errors import CloudError
from localcloud.mns import MnsService
from localcloud.nlb import NlbService
from localcloud.rpc import RpcDispatcher
from localcloud.server import DEFAULT_IDLE_TIMEOUT, LocalCloudHTTPServer, ServerThread
from localcloud.slb import SlbService

if TYPE_CHECKING:
    from localcloud.fleet import FleetSummary
    from localcloud.mns.trigger import QueueTrigger, TriggerConfig


class LocalCloud:
    def __init__(
        self,
        seed: int = 0,
        *,
        region_id: str = DEFAULT_REGION,
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET,
        account_id: str = DEFAULT_ACCOUNT_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        manual_clock: bool = True,
        strict_requests: bool = True,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.seed = seed
        self.region_id = region_id
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.account_id = account_id
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self.ctx = CloudContext(
            seed=seed, region_id=region_id, clock=Clock(manual=manual_clock), strict_requests=strict_requests
        )
        self.ctx.credentials.add(access_key_id, access_key_secret, account_id)
        bus = self.ctx.events = RoutedEventBus()  # before the services: they emit on ctx.events
        self.ecs = EcsService(self.ctx)
        self.slb = SlbService(self.ctx)
        self.alb = AlbService(self.ctx, self._ecs_instance)
        self.nlb = NlbService(self.ctx, self._ecs_instance)
        self.mns = MnsService(self.ctx)
        self.cms = CmsService(self.ctx, mns_exists(self.mns))
        bus.routers.append(rules_router(self.cms, self.mns))
        self.rpc = RpcDispatcher(self.ctx, [self.ecs, self.slb, self.alb, self.nlb, self.cms])
        self.control = ControlApi(self)  # /_localcloud on the same port: see localcloud.control
        self.queue_triggers: list[QueueTrigger] = []
        self._thread: ServerThread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> LocalCloud:
        if self._thread is None:
            server = LocalCloudHTTPServer(
                (self.host, self.port), self.rpc, self.mns, self.control, idle_timeout=self.idle_timeout
            )
            self._thread = ServerThread(server).start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        self.queue_triggers.clear()
        self.ctx.reset()
        self.ctx.events.clear_targets()
        self.ctx.clock.reset()
        self.ecs.reset()
        self.slb.reset()
        self.alb.reset()
        self.nlb.reset()
        self.mns.reset()
        self.cms.reset()

    def _ecs_instance(self, account_id: str, region_id: str, instance_id: str) -> Instance | None:
        """ALB/NLB read ECS instances (existence, private IP, state for health) through this."""
        return self.ecs.backend(account_id, region_id).instances.get(instance_id)

    # -- shortcuts ---------------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        if self._thread is None:
            raise RuntimeError("LocalCloud is not started")
        return self._thread.endpoint

    @property
    def server(self) -> LocalCloudHTTPServer:
        if self._thread is None:
            raise RuntimeError("LocalCloud is not started")
        return self._thread.server

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def call_log(self) -> CallLog:
        return self.ctx.call_log

    @property
    def faults(self) -> Faults:
        return self.ctx.faults

    @property
    def emitted(self) -> list[dict[str, Any]]:
        """Every notification emitted since the last reset, in order."""
        return self.ctx.events.emitted

    def advance(self, seconds: float) -> None:
        """Move the clock forward, running every transition that becomes due; then every queue trigger delivers
        what became visible (``add_queue_trigger``)."""
        self.ctx.clock.advance(seconds)
        for trigger in list(self.queue_triggers):
            trigger.drain()

    def add_queue_trigger(self, config: TriggerConfig, handler: Callable[[bytes], Any], **kw: Any) -> QueueTrigger:
        """Register an FC 3.0 MNS queue trigger (``localcloud.mns.trigger``): ``handler(event_bytes)`` gets the
        queue's messages as the trigger's events, on every ``advance`` and on ``trigger.drain()``. ``kw``:
        ``function_name``, ``trigger_name`` (its ``source`` is ``MNS-<function>-<trigger>``)."""
        from localcloud.mns.trigger import QueueTrigger

        trigger = QueueTrigger(self.mns_account(), config, handler, now=self.clock.now, account_id=self.account_id,
                               region_id=self.region_id, seed=self.seed, **kw)  # fmt: skip
        self.queue_triggers.append(trigger)
        return trigger

    # -- SDK clients -------------------------------------------------------------------------------------------
    def acs_client(self, region_id: str | None = None, **kw: Any) -> Any:
        """An aliyunsdkcore ``AcsClient`` for this cloud's key pair (or ``credential=`` given in ``kw``); the Ecs, Slb,
        Alb, Nlb and Cms endpoints point at this server."""
        from aliyunsdkcore.client import AcsClient

        region = region_id or self.region_id
        if "credential" not in kw:
            kw.setdefault("ak", self.access_key_id)
            kw.setdefault("secret", self.access_key_secret)
        client = AcsClient(region_id=region, **kw)
        for product in ("Ecs", "Slb", "Alb", "Nlb", "Cms"):
            client.add_endpoint(region, product, self.endpoint)
        return client

    def mns_account(self, access_key_id: str | None = None, access_key_secret: str | None = None, **kw: Any) -> Any:
        from mns.account import Account

        return Account(self.url, access_key_id or self.access_key_id, access_key_secret or self.access_key_secret, **kw)

    # -- events ------------------------------------------------------------------------------------------------
    def route_events_to_queue(self, name: str, create: bool = True, retention: int | None = None) -> None:
        """Deliver every ECS notification of this account to MNS queue ``name`` (base64 JSON body); ``retention``
        sets its MessageRetentionPeriod (seconds, 60-604800), on a new queue or an existing one."""
        if create:
            self._ensure(lambda: self.mns.create_queue(self.account_id, name))
        if retention is not None:
            self.mns.set_queue_retention(self.account_id, name, retention)
        self.ctx.events.add_target(f"queue:{name}", queue_target(self.mns, self.account_id, name))

    def route_events_to_topic(self, name: str, create: bool = True) -> None:
        if create:
            self._ensure(lambda: self.mns.create_topic(self.account_id, name))
        self.ctx.events.add_target(f"topic:{name}", topic_target(self.mns, self.account_id, name))

    def on_event(self, callback: Callable[[dict[str, Any]], None]) -> None:
        self.ctx.events.add_target(f"callback:{getattr(callback, '__name__', 'fn')}", callback)

    @staticmethod
    def _ensure(create: Callable[[], object]) -> None:
        try:
            create()
        except CloudError as err:
            if not err.code.endswith("AlreadyExist"):
                raise

    # -- fleets ------------------------------------------------------------------------------------------------
    def load_fleet(self, source: str | Path | dict[str, Any]) -> FleetSummary:
        """Build a fleet (YAML file or dict) through the APIs; see ``localcloud.fleet``."""
        from localcloud.fleet import load_fleet

        return load_fleet(self, source)
