"""The history driver and the invariants of tests/reliability/test_invariants.py.

``History`` is one random history on an in-process localcloud (the real SDKs over HTTP, a sqlite store shared by
every consumer "process" of the history): a fleet on two shared CLBs (default and VServer groups), an ALB server
group and an NLB server group served by two NLBs (ALB/NLB changes are jobs: ``Configuring``, then ``Available``),
CloudMonitor events routed to the
events queue by the rule ``ecs-events subscribe`` puts, and the things that go wrong (duplicates, API outages,
crashes, lost messages, people). Time moves event by event (``run_until``): to the next message that becomes
visible, the next transition of the cloud, or the next reconciler pass that has work (passes every 5 simulated
minutes; a pass with nothing overdue, no drain and no unseen open event is a no-op and is skipped, so a 10-day
notBefore costs a handful of steps instead of 2,880 passes). The consumer runs until idle at every stop: a
queue-triggered consumer.

``check`` reads the end state off localcloud (its SLB, ALB and NLB state and jobs, its call log, the notifications
it emitted) and
returns the broken promises, one line each; the store is read only to name what each event became (I5).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ecs_events.engine.reconciler import GRACE
from ecs_events.engine.saga import Saga, SagaStatus
from ecs_events.engine.timers import parse_wake
from ecs_events.runtime.app import App, build_app, reconciler_for
from ecs_events.runtime.settings import Settings
from ecs_events.tools.subscribe import subscribe
from localcloud.cloud import LocalCloud

QUEUE = "ecs-events"
DLQ = f"{QUEUE}-dlq"
TAG_KEY, TAG_VALUE = "ecs-events:managed", "true"
TAG = {TAG_KEY: TAG_VALUE}
RECONCILE = timedelta(minutes=5)
MAX_DRAIN = timedelta(hours=2)  # the default policy's
LEAD = timedelta(minutes=30)
SLACK = timedelta(minutes=2)  # consumer polls, drain period, a reboot's seconds
MAX_BATCHES = 20  # batches of 16 at one instant: far more messages than any history sends
# Clock stops one history may make before it counts as a livelock (a wake or a retry that never converges, a pass that
# always has work). Counted, not timed, so load on the machine never trips it. Measured: 87 on average, 1,036 at most
# over 100 default histories (a saga polling an instance that never turns healthy every 15 s until max_drain).
MAX_STOPS = 4000

FLEET: dict[str, Any] = {
    "instances": [
        {"name": "web", "count": 3, "tags": {"app": "web", **TAG}, "disks": [{"size": 100}]},
        {"name": "api", "count": 2, "tags": {"app": "api", **TAG}, "disks": [{"size": 50}]},
        {"name": "batch", "count": 1, "preemptible": True, "tags": {"app": "batch", **TAG}},
        {"name": "stray", "count": 1, "tags": {"app": "web"}},
    ],
    "load_balancers": [
        {
            "name": "web-lb",
            "backends": [{"instances": "web", "weight": 100}, {"instances": "stray", "weight": 50},
                         {"instances": "batch", "weight": 30}],
            "vserver_groups": [{"name": "web-8080", "backends": [{"instances": "web", "port": 8080, "weight": 80}]}],
        },
        {"name": "api-lb", "backends": [{"instances": "api", "weight": 100}, {"instances": "web", "weight": 60}]},
    ],
    "albs": [  # a budget unit of 4 servers; connection draining shorter than the drain period
        {
            "name": "web-alb",
            "server_groups": [{"name": "web-80", "connection_drain": {"enabled": True, "timeout": 60},
                               "backends": [{"instances": "web", "port": 80, "weight": 70},
                                            {"instances": "stray", "port": 80, "weight": 20}]}],
            "listeners": [{"port": 80, "server_groups": ["web-80"]}],
        },
    ],
    "nlbs": [  # one server group behind two NLBs: one budget unit of 3 servers
        {
            "name": "api-nlb",
            "server_groups": [{"name": "api-443", "backends": [{"instances": "api", "port": 443, "weight": 60},
                                                               {"instances": "batch", "port": 443, "weight": 30}]}],
            "listeners": [{"port": 443, "server_group": "api-443"}],
        },
        {"name": "api-nlb-2", "listeners": [{"port": 8443, "server_group": "api-443"}]},
    ],
}  # fmt: skip
JOB_SECONDS = 5.0  # localcloud's default ALB/NLB job length

LOGGERS = ("ecs_events.engine", "ecs_events.consumer", "ecs_events.reconciler")
SET_CALLS = ("SetBackendServers", "SetVServerGroupAttribute")
REMOVE_CALLS = ("RemoveBackendServers", "RemoveVServerGroupBackendServers")
UPDATE_SERVERS, REMOVE_SERVERS = "UpdateServerGroupServersAttribute", "RemoveServersFromServerGroup"  # ALB, NLB
Entry = tuple[str, str, int | None]  # (CLB, VServer group, ALB or NLB server group; server; port)


class Crash(BaseException):
    """A consumer process dies right after a cloud call went out (not an Exception: nothing catches it)."""


@dataclass
class Window:
    start: datetime
    end: datetime | None = None

    def overlaps(self, a: datetime, b: datetime) -> bool:
        return self.start <= b and (self.end is None or self.end >= a)


class Capture(logging.Handler):
    """The engine's and consumer's "ignored <name>: <reason>" lines, by notification id."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.ignored: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event_id = getattr(record, "event_id", None)
        message = record.getMessage()
        if event_id and message.startswith("ignored "):
            self.ignored[str(event_id)] = message


@dataclass
class History:
    cloud: LocalCloud
    steps: int = 0
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="invariants-")))
    apps: list[App] = field(default_factory=list)
    wall_offset: float = 0.0
    notified: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)
    harness_calls: set[int] = field(default_factory=set)  # call-log indices of the harness's own calls
    outages: list[Window] = field(default_factory=list)  # SLB (and ECS) failing
    down: list[Window] = field(default_factory=list)  # no consumer ran (clock jumps), a crash, a stall, a loss
    lost: set[str] = field(default_factory=set)  # notification ids deleted with the queue
    opted_out: dict[str, datetime] = field(default_factory=dict)
    preempted: dict[str, datetime] = field(default_factory=dict)
    removed: list[tuple[datetime, Entry]] = field(default_factory=list)
    deleted_lbs: dict[str, datetime] = field(default_factory=dict)
    dead: dict[str, dict[str, Any]] = field(default_factory=dict)  # dead-letter records seen, by DLQ message id
    max_stops: int = MAX_STOPS
    crashes: int = 0
    stalls: int = 0
    errors: list[str] = field(default_factory=list)

    # -- setup ------------------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        cloud = self.cloud
        cloud.reset()
        fleet = cloud.load_fleet(FLEET)
        self.ids = fleet.instances
        self.lbs = fleet.load_balancers
        self.alb_group, self.nlb_group = fleet.server_groups["alb/web-80"], fleet.server_groups["nlb/api-443"]
        self.kind = {self.alb_group: "alb", self.nlb_group: "nlb"}  # a scope not here is a CLB or VServer group
        cloud.advance(60)
        cloud.mns.create_queue(cloud.account_id, QUEUE)
        cloud.mns.create_queue(cloud.account_id, DLQ)
        cloud.ctx.events.add_target("callback:invariants", lambda n: self.notified.append((self.now(), n)))
        self.start = self.last_pass = self.now()
        self.group_lb = {
            g: lb
            for lb in cloud.slb.load_balancer_ids(*self._where())
            for g in cloud.slb.vserver_groups(*self._where(), lb)
        }
        self.original = self.weights()
        self.app = self.new_app()
        self.standby = self.new_app()  # the other consumer process (takes over a stalled one's sagas)
        self.person = self.new_app().engine.slb  # the SLB calls a person makes by hand
        assert subscribe(self.app.settings) == "created"
        self.capture = Capture()
        self.loggers = [(logging.getLogger(n), logging.getLogger(n).level, logging.getLogger(n).propagate)
                        for n in LOGGERS]  # fmt: skip
        for logger, _, _ in self.loggers:  # the "ignored" lines, kept out of pytest's captured log
            logger.addHandler(self.capture)
            logger.setLevel(logging.INFO)
            logger.propagate = False
        self.setup_calls = len(cloud.call_log)

    def close(self) -> None:
        for logger, level, propagate in self.loggers:
            logger.removeHandler(self.capture)
            logger.setLevel(level)
            logger.propagate = propagate
        for app in self.apps:
            with contextlib.suppress(Exception):  # a crashed app's store may be closed already
                app.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _where(self) -> tuple[str, str]:
        return self.cloud.account_id, self.cloud.region_id

    def now(self) -> datetime:
        return self.cloud.clock.now()

    def new_app(self) -> App:
        app = build_app(
            Settings(
                account_id=self.cloud.account_id,
                region=self.cloud.region_id,
                queue=QUEUE,
                store=f"sqlite:///{self.tmp / 'store.sqlite3'}",
                localcloud=self.cloud.url,
            )
        )
        app.engine.wall = lambda: self.now().timestamp() + self.wall_offset  # leases run on the simulated clock
        self.apps.append(app)
        return app

    @property
    def managed(self) -> list[str]:
        return [i for g in ("web", "api", "batch") for i in self.ids[g]]

    @property
    def instances(self) -> list[str]:
        return [*self.managed, *self.ids["stray"]]

    def alive(self, instance_id: str) -> bool:
        return self.cloud.ecs.status(instance_id) != "Deleted"

    def harness(self, fn: Callable[[], Any]) -> Any:
        """Run a person's action; its calls are not the engine's."""
        before = len(self.cloud.call_log)
        try:
            return fn()
        finally:
            self.harness_calls.update(range(before, len(self.cloud.call_log)))

    # -- the load balancers' state --------------------------------------------------------------------------------
    def weights(self) -> dict[Entry, int]:
        """Every backend entry's weight, read off localcloud's CLB, ALB and NLB state (an ALB/NLB member whose
        removal job is under way is gone already)."""
        slb = self.cloud.slb
        out: dict[Entry, int] = {}
        for lb_id in slb.load_balancer_ids(*self._where()):
            for server, weight in slb.backends(*self._where(), lb_id).items():
                out[(lb_id, server, None)] = weight
            for group in slb.vserver_groups(*self._where(), lb_id):
                for (server, port), weight in slb.group_backends(*self._where(), group).items():
                    out[(group, server, port)] = weight
        for group, kind in self.kind.items():
            service = self.cloud.alb if kind == "alb" else self.cloud.nlb
            for (server, port), (weight, status) in service.members(*self._where(), group).items():
                if status != "Removing":
                    out[(group, server, port)] = weight
        return out

    def lb_of(self, scope: str) -> str:
        """The budget unit of a scope: a VServer group's CLB; a CLB, an ALB or NLB server group itself."""
        return self.group_lb.get(scope, scope)

    def jobs(self) -> list[Any]:
        """Every ALB and NLB job (``localcloud.alb.models.Job``: api_name, group_id, keys, create/modify time)."""
        return [
            job for service in (self.cloud.alb, self.cloud.nlb) for job in service.backend(*self._where()).jobs.values()
        ]

    # -- time -----------------------------------------------------------------------------------------------------
    def consume(self) -> None:
        try:
            done = self.app.consumer.run(until_idle=True, wait_seconds=0, max_batches=MAX_BATCHES)
            if done.batches >= MAX_BATCHES and done.received:
                self.errors.append(f"the consumer was never idle at {self.now()}: {MAX_BATCHES} batches (a livelock)")
        except Crash:
            self.after_crash()
        finally:
            self.keep_dead_letters()

    def keep_dead_letters(self) -> None:
        """Read the dead-letter queue as an operator's alarm on it would, before the clock moves: the queue keeps a
        record only its retention (4 days), shorter than a history (a 10-day notBefore), and I5 counts a record that
        was written, not one that happens to be left at the end."""
        for message in self.cloud.mns.queue_messages(self.cloud.account_id, DLQ):
            if message.message_id not in self.dead:
                self.dead[message.message_id] = _record(message.body)

    def after_crash(self) -> None:
        """The process died: its lease stays until it runs out, its message comes back; a new process starts."""
        self.crashes += 1
        self.down.append(Window(self.now(), self.now() + timedelta(minutes=10)))
        self.app = self.new_app()

    def reconcile(self) -> None:
        self.last_pass = self.now()
        try:
            reconciler_for(self.app).run_once()
        except Crash:
            self.after_crash()
        finally:
            self.keep_dead_letters()

    def next_pass(self, now: datetime) -> datetime | None:
        """When the next reconciler pass with work falls (on the 5-minute grid), or None: none has work."""
        store = self.app.store
        due: list[datetime] = []
        for doc in store.scan("saga/"):
            saga = Saga.from_doc(doc.value)
            if saga.status is SagaStatus.ACTIVE:
                at = saga.next_due(now)
                if at is not None:
                    due.append(at + GRACE + timedelta(seconds=1))
        for doc in store.scan("drain/"):
            if not doc.value.get("holders"):
                due.append(now)
            elif isinstance(doc.value.get("deadline"), str):
                due.append(datetime.fromisoformat(doc.value["deadline"].replace("Z", "+00:00")))
        for event in self.cloud.ecs.backend(*self._where()).events.events.values():
            key = f"saga/{event.instance_id}/{event.event_id}"
            if event.status in ("Scheduled", "Inquiring", "Executing") and self._tagged(event.instance_id):
                due.extend([now] if store.get(key) is None else [])
        if not due:
            return None
        at = max(min(due), now, self.last_pass + timedelta(seconds=1))
        ticks = -(-(at - self.start) // RECONCILE)  # ceil: the first pass at or after ``at``
        return self.start + ticks * RECONCILE

    def _tagged(self, instance_id: str) -> bool:
        """The reconciler's view: open events of instances carrying the opt-in tag."""
        if not self.alive(instance_id):
            return False
        return self.cloud.ecs.instance(instance_id).tags.get(TAG_KEY) == TAG_VALUE

    def next_stop(self, now: datetime, target: datetime) -> tuple[datetime, bool]:
        candidates = [target]
        messages = self.cloud.mns.queue_messages(self.cloud.account_id, QUEUE)
        candidates += [datetime.fromtimestamp(m.next_visible_time / 1000, now.tzinfo) for m in messages]
        candidates += [due for due, _ in self.cloud.ctx.scheduler.pending()[:1]]
        at = min(c for c in candidates)
        passes = self.next_pass(now)
        if passes is not None and passes <= at:
            return max(passes, now), True
        return max(at, now), False

    def run_until(self, target: datetime) -> None:
        self.consume()
        while self.now() < target:
            if self.steps >= self.max_stops:  # counted, not timed: the same history trips it on any machine
                self.errors.append(
                    f"{self.steps} clock stops by {self.now()}, the bound is {self.max_stops} (a livelock)"
                )
                return
            at, reconcile = self.next_stop(self.now(), target)
            self.cloud.advance(max(1.0, (at - self.now()).total_seconds()))
            self.steps += 1
            self.consume()
            if reconcile or self.now() >= target:
                self.reconcile()
                self.consume()

    def jump(self, seconds: float) -> None:
        """Nothing runs for a while (the consumer and the reconciler are down), then everything catches up."""
        start = self.now()
        self.cloud.advance(seconds)
        self.down.append(Window(start, self.now()))
        self.consume()
        self.reconcile()

    # -- things that go wrong ------------------------------------------------------------------------------------
    def outage(self, product: str) -> None:
        self.cloud.faults.set(product, "*", error_rate=1.0)
        if not self.outages or self.outages[-1].end is not None:
            self.outages.append(Window(self.now()))

    def clear_faults(self) -> None:
        self.cloud.faults.clear()
        if self.outages and self.outages[-1].end is None:
            self.outages[-1].end = self.now()

    def arm_crash(self) -> None:
        """The current consumer dies right after its next mutating cloud call, holding its lease."""
        app = self.app
        app.engine._release = lambda held: None  # type: ignore[method-assign]  # a dead process gives nothing back
        targets = [(app.engine.slb, "set_weights"), (app.engine.slb, "remove"), (app.engine.ecs, "reboot"),
                   (app.engine.ecs, "create_snapshot")]  # fmt: skip
        fired: list[bool] = []
        for obj, name in targets:
            real = getattr(obj, name)

            def dying(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                result = _real(*args, **kwargs)
                if not fired:
                    fired.append(True)
                    raise Crash(_name)
                return result

            setattr(obj, name, dying)

    def arm_stall(self) -> None:
        """The current consumer's next restore call outlasts its lease: meanwhile the instance's disk stalls (a
        remediation joins the drain), the standby consumer handles the queue, wakes every active saga and runs a
        reconciler pass; then the slow one carries on (a zombie, unless it checks)."""
        app, other = self.app, self.standby
        real = app.engine.slb.set_weights
        fired: list[bool] = []

        def slow(memberships: Any, weight: int | None) -> None:
            real(memberships, weight)
            if weight is None and not fired:
                fired.append(True)
                self.stalls += 1
                self.down.append(Window(self.now(), self.now() + timedelta(minutes=10)))
                self.wall_offset += app.engine.lease_seconds + 1
                iid = next(iter(memberships)).server_id  # meanwhile its disk stalls: a remediation joins the drain
                if self.alive(iid) and self.cloud.ecs.instance(iid).disk_ids:
                    disk = self.cloud.ecs.instance(iid).disk_ids[-1]
                    self.cloud.ecs.inject_disk_event(disk, "Stalled", duration_seconds=600)
                with contextlib.suppress(Exception):
                    other.consumer.run(until_idle=True, wait_seconds=0, max_batches=MAX_BATCHES)
                for doc in other.store.scan("saga/"):
                    if doc.value.get("status") == "active":
                        with contextlib.suppress(Exception):  # busy or failing: the takeover is best effort
                            other.engine.wake(doc.key)
                with contextlib.suppress(Exception):
                    reconciler_for(other).run_once()

        app.engine.slb.set_weights = slow  # type: ignore[method-assign]

    def lose_messages(self) -> None:
        """The queue loses everything on it (visible, delayed, in flight): deleted and created again."""
        from mns.queue import QueueMeta

        for message in self.cloud.mns.queue_messages(self.cloud.account_id, QUEUE):
            try:
                body = json.loads(message.body if message.body.startswith("{") else _b64(message.body))
            except ValueError:
                continue
            if isinstance(body, dict) and "id" in body and parse_wake(message.body) is None:
                self.lost.add(str(body["id"]))
        self.down.append(Window(self.now(), self.now() + RECONCILE + SLACK))

        def recreate() -> None:
            queue = self.cloud.mns_account().get_queue(QUEUE)
            queue.delete()
            queue.create(QueueMeta())

        self.harness(recreate)

    def redeliver(self, index: int, fresh_id: bool) -> None:
        """A notification delivered again, late (MNS delivers at least once, in any order)."""
        if not self.notified:
            return
        _, notification = self.notified[index % len(self.notified)]
        if fresh_id:
            notification = {**notification, "id": f"{notification['id']}-again"}
        from mns.queue import Message

        self.harness(lambda: self.cloud.mns_account().get_queue(QUEUE).send_message(Message(json.dumps(notification))))

    def remove_backend(self, instance_id: str, which: int) -> None:
        """A person takes one backend entry of the instance out by hand (CLB, ALB or NLB: through the SDK)."""
        from ecs_events.actions.types import Membership

        weights = self.weights()
        drained = sorted((e for e, w in weights.items() if w == 0), key=str)  # people act on what looks wrong
        entries = drained or sorted((e for e in weights if e[1] == instance_id), key=str)
        if not entries:
            return
        scope, server, port = entries[which % len(entries)]
        lb = self.lb_of(scope)
        kind = self.kind.get(scope, "clb")
        if kind == "clb":
            member = Membership(lb, None if scope == lb else scope, server, port, 0)
        else:
            member = Membership(scope, scope, server, port, 0, "Ecs", kind)
        try:
            self.harness(lambda: self.person.remove([member]))
        except Exception:  # the API is failing for people too (or the group is configuring): nothing removed
            return
        self.removed.append((self.now(), (scope, server, port)))

    def remove_from_alb(self, instance_id: str) -> None:
        """A person removes a server from the ALB group in the console (RemoveServersFromServerGroup through the
        SDK, not our code): a drained one if there is one (it looks wrong), else ``instance_id``."""
        from aliyunsdkalb.request.v20200616.RemoveServersFromServerGroupRequest import (
            RemoveServersFromServerGroupRequest,
        )

        mine = {e: w for e, w in self.weights().items() if e[0] == self.alb_group}
        drained = sorted((e for e, w in mine.items() if w == 0), key=str)
        entries = drained or [e for e in mine if e[1] == instance_id]
        if not entries:
            return
        _, server, port = entries[0]
        request = RemoveServersFromServerGroupRequest()
        request.set_ServerGroupId(self.alb_group)
        request.set_Servers([{"ServerId": server, "ServerType": "Ecs", "Port": port}])
        try:
            self.harness(lambda: self.cloud.acs_client().do_action_with_exception(request))
        except Exception:  # failing, or the group is configuring: nothing removed
            return
        self.removed.append((self.now(), (self.alb_group, server, port)))

    def arm_configuring(self, job_seconds: float) -> None:
        """From now on ALB and NLB jobs last ``job_seconds``; and the next time we change a weight in the ALB group
        (a drain or a restore), a person's change to the group (the stray's description, in the console) has just
        started a job there: the group is ``Configuring`` at that moment and refuses ours."""
        from aliyunsdkalb.request.v20200616.UpdateServerGroupServersAttributeRequest import (
            UpdateServerGroupServersAttributeRequest,
        )

        self.cloud.alb.set_job_seconds(job_seconds)
        self.cloud.nlb.set_job_seconds(job_seconds)
        app = self.app
        real = app.engine.slb.set_weights
        fired: list[bool] = []
        group = self.alb_group

        def configuring(memberships: Any, weight: int | None) -> None:
            members = list(memberships)
            if not fired and any(m.lb_id == group for m in members):
                fired.append(True)
                stray = [e for e in self.weights() if e[0] == group and e[1] in self.ids["stray"]]
                if stray:
                    request = UpdateServerGroupServersAttributeRequest()
                    request.set_ServerGroupId(group)
                    request.set_Servers(
                        [{"ServerId": stray[0][1], "ServerType": "Ecs", "Port": stray[0][2], "Description": "by hand"}]
                    )
                    with contextlib.suppress(Exception):  # configuring already, or failing: nothing started
                        self.harness(lambda: self.cloud.acs_client().do_action_with_exception(request))
            real(members, weight)

        app.engine.slb.set_weights = configuring  # type: ignore[method-assign]

    def delete_lb(self) -> None:
        lb = self.lbs["api-lb"]
        if lb in self.deleted_lbs:
            return
        from aliyunsdkslb.request.v20140515.DeleteLoadBalancerRequest import DeleteLoadBalancerRequest

        request = DeleteLoadBalancerRequest()
        request.set_LoadBalancerId(lb)
        try:
            self.harness(lambda: self.cloud.acs_client().do_action_with_exception(request))
        except Exception:  # the API is failing for people too: nothing deleted
            return
        self.deleted_lbs[lb] = self.now()

    def opt_out(self, instance_id: str, skip: bool) -> None:
        if skip:
            self.cloud.ecs.change_tags(instance_id, {"ecs-events:skip": "true"})
        else:
            self.cloud.ecs.change_tags(instance_id, remove=(TAG_KEY,))
        self.opted_out.setdefault(instance_id, self.now())

    def preempt(self) -> None:
        batch = self.ids["batch"][0]
        if batch in self.preempted:
            return
        self.cloud.ecs.interrupt_preemptible(batch)
        self.preempted[batch] = self.now()

    # -- the end ---------------------------------------------------------------------------------------------------
    def finish(self) -> None:
        """Faults cleared; the clock runs past every notBefore and drain deadline, reconciler passes included."""
        self.clear_faults()
        latest = self.now()
        for event in self.cloud.ecs.backend(*self._where()).events.events.values():
            latest = max(latest, event.not_before)
        self.run_until(latest + MAX_DRAIN + timedelta(hours=1))


def _b64(text: str) -> str:
    import base64

    return base64.b64decode(text).decode("utf-8", "replace")


# -- the invariants ---------------------------------------------------------------------------------------------------
def content_of(notification: dict[str, Any]) -> dict[str, Any]:
    content = notification.get("content")
    return content if isinstance(content, dict) else {}


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def check(h: History) -> list[str]:
    problems: list[str] = []
    calls = h.cloud.call_log.calls()[h.setup_calls :]  # people's removals included: the replays need them
    problems += check_restored(h, calls)
    problems += check_reboots(h, calls)
    problems += check_drained_before_reboot(h, calls)
    problems += check_budget(h, calls)
    problems += check_before_not_before(h, calls)
    problems += check_no_event_lost(h)
    problems += check_no_wake_dead_lettered(h)
    return problems + h.errors


def _excused(windows: list[Window], a: datetime, b: datetime) -> datetime | None:
    """The latest end of a disturbance overlapping [a, b] (None: none did)."""
    ends = [w.end or b for w in windows if w.overlaps(a, b)]
    return max(ends) if ends else None


def check_restored(h: History, calls: list[Any]) -> list[str]:
    """I1: every backend set to 0 is back at its original weight (unless gone or released), and each drain ended by
    max_drain past its latest claim plus one reconciler interval, or that long after the LB API answered again."""
    out: list[str] = []
    final = h.weights()
    gone = {e for _, e in h.removed} | {e for e in h.original if h.lb_of(e[0]) in h.deleted_lbs}
    for entry, weight in h.original.items():
        if entry in gone or not h.alive(entry[1]) or entry not in final:
            continue
        if final[entry] != weight:
            out.append(f"I1: {entry} ends at weight {final[entry]}, was {weight}")
    # timing, from the cloud's own call log: each zero episode of each entry
    state = dict(h.original)
    since: dict[Entry, datetime] = {}
    episodes: list[tuple[Entry, datetime, datetime]] = []
    for call in calls:
        for entry, weight in _changes(h, call):
            if weight == 0 and state.get(entry) != 0:
                since[entry] = call.time
            elif weight != 0 and entry in since:
                episodes.append((entry, since.pop(entry), call.time))
            if weight is None:
                state.pop(entry, None)
                since.pop(entry, None)
            else:
                state[entry] = weight
    claims = _claims(h)
    for entry, start, end in episodes:
        latest_claim = max([t for t in claims.get(entry[1], []) if start - SLACK <= t <= end] or [start])
        bound = latest_claim + MAX_DRAIN + RECONCILE + GRACE + SLACK
        late = _excused(h.outages + h.down, start, end)
        if late is not None:
            bound = max(bound, late + RECONCILE + GRACE + SLACK)
        if end > bound:
            out.append(f"I1: {entry} drained {start} .. {end}, past its bound {bound}")
    return out


def _claims(h: History) -> dict[str, list[datetime]]:
    """When each instance's drain could have been (re)claimed: the deadline is max_drain past the latest claim, or
    past the platform's notBefore (hold_until) when that is later."""
    out: dict[str, list[datetime]] = {}
    for at, n in h.notified:
        c = content_of(n)
        iid = c.get("instanceId") or c.get("ecsInstanceId")
        if not iid:
            continue
        out.setdefault(iid, []).append(at)
        nb = _time(c.get("notBefore"))
        if nb is not None:
            out[iid].append(nb)
    return out


def _changes(h: History, call: Any) -> list[tuple[Entry, int | None]]:
    """What one successful load balancer call did to which entries (None: removed). ALB/NLB weights show from
    the call on (the job only settles them), a removal is counted at its call."""
    if call.code == "OK" and call.action == "DeleteLoadBalancer":
        return [(e, None) for e in h.original if h.lb_of(e[0]) == call.params.get("LoadBalancerId")]
    if call.code == "OK" and call.action in (UPDATE_SERVERS, REMOVE_SERVERS):
        return _server_group_changes(call)
    if call.code != "OK" or call.action not in SET_CALLS + REMOVE_CALLS:
        return []
    scope = call.params.get("VServerGroupId") or call.params.get("LoadBalancerId")
    servers = json.loads(call.params.get("BackendServers") or "[]")
    out: list[tuple[Entry, int | None]] = []
    for s in servers:
        port = int(s["Port"]) if s.get("Port") not in (None, "") else None
        entry = (scope, s["ServerId"], port)
        out.append((entry, None if call.action in REMOVE_CALLS else int(s["Weight"])))
    return out


def _server_group_changes(call: Any) -> list[tuple[Entry, int | None]]:
    """An ALB/NLB ``Servers.N.{ServerId, Port, Weight}`` change (an update without a weight changes none)."""
    servers: dict[int, dict[str, str]] = {}
    for key, value in call.params.items():
        name, _, rest = key.partition(".")
        index, _, attribute = rest.partition(".")
        if name == "Servers" and index.isdigit() and attribute:
            servers.setdefault(int(index), {})[attribute] = value
    out: list[tuple[Entry, int | None]] = []
    for _, s in sorted(servers.items()):
        entry = (call.params["ServerGroupId"], s["ServerId"], int(s.get("Port") or 0))
        if call.action == REMOVE_SERVERS:
            out.append((entry, None))
        elif s.get("Weight") not in (None, ""):
            out.append((entry, int(s["Weight"])))
    return out


def check_reboots(h: History, calls: list[Any]) -> list[str]:
    """I2: every successful RebootInstance of ours avoids a reboot event still pending then (a second reboot for
    one event finds it Avoided already)."""
    out: list[str] = []
    for call in calls:
        if call.action != "RebootInstance" or call.code != "OK":
            continue
        iid = call.params["InstanceId"]
        avoided = [
            n
            for at, n in h.notified
            if at == call.time
            and content_of(n).get("instanceId") == iid
            and content_of(n).get("eventStatus") == "Avoided"
        ]
        if not avoided:
            out.append(f"I2: RebootInstance {iid} at {call.time} avoided no pending event (a second reboot?)")
    return out


def check_drained_before_reboot(h: History, calls: list[Any]) -> list[str]:
    """I6: our reboot of an instance comes once every backend entry it still has is at weight 0 (replayed call by
    call) and no ALB/NLB job changing its weight is still configuring (servers ``Available`` with weight 0): a
    reboot while a job is under way sends traffic to a rebooting server."""
    out: list[str] = []
    state = dict(h.original)
    jobs = [j for j in h.jobs() if j.api_name == UPDATE_SERVERS]
    for call in calls:
        for entry, weight in _changes(h, call):
            if weight is None:
                state.pop(entry, None)
            else:
                state[entry] = weight
        if call.action != "RebootInstance" or call.code != "OK":
            continue
        iid, at = call.params["InstanceId"], call.time
        serving = sorted((e for e, w in state.items() if e[1] == iid and w != 0), key=str)
        if serving:
            out.append(f"I6: RebootInstance {iid} at {at} with {serving} still serving")
        for job in jobs:
            touches = any(k[0] == iid for k in job.keys)
            if touches and job.create_time <= at and (job.modify_time is None or job.modify_time > at):
                kind = h.kind.get(job.group_id, "?")
                out.append(
                    f"I6: RebootInstance {iid} at {at} while {kind} job {job.job_id} on {job.group_id} "
                    f"(started {job.create_time}) was still configuring its weight"
                )
    return out


def _urgent(h: History, iid: str, at: datetime) -> bool:
    """Instance ``iid`` is failing or departing at ``at``: its drain is never deferred (and still counts)."""
    if iid in h.preempted and h.preempted[iid] <= at:
        return True
    for t, n in h.notified:
        if t > at:
            break
        c = content_of(n)
        if (c.get("instanceId") or c.get("ecsInstanceId")) != iid:
            continue
        if str(c.get("eventType", "")).startswith(("SystemFailure", "InstanceFailure", "Stalled")):
            return True
        if c.get("eventStatus") in ("Executing", "Executed") or n.get("name", "").startswith("Disk:"):
            return True
    return False


def check_budget(h: History, calls: list[Any]) -> list[str]:
    """I3: a voluntary drain never takes a load balancer past max(1, 10%) drained at once (urgent drains count);
    urgent drains are never deferred (the instance is at 0 within minutes of the platform acting)."""
    out: list[str] = []
    sizes: dict[str, set[str]] = {}
    for scope, server, _ in h.original:
        sizes.setdefault(h.lb_of(scope), set()).add(server)
    budget = {lb: max(1, len(s) * 10 // 100) for lb, s in sizes.items()}
    state: dict[Entry, int] = dict(h.original)

    def drained(lb: str) -> set[str]:
        return {s for (scope, s, _), w in state.items() if w == 0 and h.lb_of(scope) == lb}

    zero_at: dict[str, list[datetime]] = {}
    for call in calls:
        changes = _changes(h, call)
        if not changes:
            continue
        lb = h.lb_of(changes[0][0][0])
        before = drained(lb)
        for entry, weight in changes:
            if weight is None:
                state.pop(entry, None)
            else:
                state[entry] = weight
        # a released instance no longer counts against the budget
        live = {s for s in drained(lb) if s not in h.preempted or call.time < h.preempted[s] + timedelta(minutes=5)}
        for server in live - before:
            zero_at.setdefault(server, []).append(call.time)
            others = {s for s in before if s != server and (s not in h.preempted or call.time < h.preempted[s])}
            if not _urgent(h, server, call.time) and len(others) >= budget[lb]:
                out.append(f"I3: voluntary drain of {server} on {lb} at {call.time} with {sorted(others)} drained")
    # urgent drains never deferred
    for at, n in h.notified:
        c = content_of(n)
        iid = c.get("instanceId") or c.get("ecsInstanceId")
        urgent = c.get("eventStatus") == "Executing" or n.get("name") == "Instance:PreemptibleInstanceInterruption"
        if not iid or not urgent or iid not in h.managed or iid in h.opted_out:
            continue
        if not _entries_at(h, iid, at):
            continue  # behind no load balancer any more (removed by hand, load balancer deleted)
        window_end = at + timedelta(minutes=3)
        if _excused(h.outages + h.down, at - RECONCILE, window_end) is not None or n.get("id") in h.lost:
            continue
        ended = _time(c.get("executeFinishTime"))
        if ended is not None and ended <= at + timedelta(seconds=30):
            continue
        if not any(at - MAX_DRAIN <= t <= window_end for t in zero_at.get(iid, [])) and not _zero_throughout(
            h, calls, iid, at
        ):
            out.append(f"I3: urgent {n.get('name')} of {iid} at {at}: not drained within 3 minutes")
    return out


def _entries_at(h: History, iid: str, at: datetime) -> list[Entry]:
    """The instance's backend entries that still existed at ``at``."""
    removed = {e for t, e in h.removed if t <= at}
    return [
        e
        for e in h.original
        if e[1] == iid
        and e not in removed
        and not (h.lb_of(e[0]) in h.deleted_lbs and h.deleted_lbs[h.lb_of(e[0])] <= at)
    ]


def _zero_throughout(h: History, calls: list[Any], iid: str, at: datetime) -> bool:
    """Every entry of the instance was at 0 at ``at`` already (drained earlier, still drained)."""
    state = dict(h.original)
    for call in calls:
        if call.time > at:
            break
        for entry, weight in _changes(h, call):
            if weight is None:
                state.pop(entry, None)
            else:
                state[entry] = weight
    mine = [w for (_, s, _), w in state.items() if s == iid]
    return bool(mine) and all(w == 0 for w in mine)


def check_before_not_before(h: History, calls: list[Any]) -> list[str]:
    """I4: every voluntary reboot event (SystemMaintenance.Reboot) of a managed instance that could be done in time
    was avoided by our reboot before notBefore. Excused: opted out, released, a disturbance (outage, clock jump,
    crash, lost messages) or a spent budget on its load balancers in the lead before notBefore."""
    out: list[str] = []
    events = h.cloud.ecs.backend(*h._where()).events.events
    for event in events.values():
        if event.event_type != "SystemMaintenance.Reboot" or event.instance_id not in h.managed:
            continue
        iid, nb = event.instance_id, event.not_before
        if iid in h.opted_out or iid in h.preempted or event.status == "Avoided":
            continue
        planned = nb - LEAD - SLACK
        if _excused(h.outages + h.down, planned - RECONCILE, nb) is not None:
            continue
        if event.publish_time > planned:
            continue  # published inside the lead (not with these delays, but a re-plan can be)
        if _budget_busy(h, calls, iid, planned, nb):
            continue
        out.append(f"I4: {event.event_id} of {iid} (notBefore {nb}) ended {event.status}, not avoided in time")
    return out


def _budget_busy(h: History, calls: list[Any], iid: str, a: datetime, b: datetime) -> bool:
    """Another instance was drained on one of ``iid``'s load balancers at some moment in [a, b]."""
    lbs = {h.lb_of(scope) for scope, s, _ in h.original if s == iid}
    state = dict(h.original)

    def busy() -> bool:
        return any(w == 0 and s != iid and h.lb_of(scope) in lbs for (scope, s, _), w in state.items())

    if busy():
        return True
    for call in calls:
        if call.time > b:
            break
        for entry, weight in _changes(h, call):
            if weight is None:
                state.pop(entry, None)
            else:
                state[entry] = weight
        if call.time >= a and busy():
            return True
    return busy()


SYSTEM = ("Instance:System", "Instance:InstanceFailure", "Disk:", "Instance:PreemptibleInstanceInterruption")


def check_no_event_lost(h: History) -> list[str]:
    """I5: every system event emitted has a saga, or an "ignored" line with its reason for one of its notifications,
    or a dead-letter record; unless every notification of it was lost with the queue and nothing can find it again
    (a disk or preemption event, an instance event no longer open)."""
    out: list[str] = []
    store = h.app.store
    sagas = [Saga.from_doc(d.value) for d in store.scan("saga/")]
    by_event = {s.event_id for s in sagas}
    preemption = {s.instance_id for s in sagas if s.playbook == "preemption"}
    dead = _dead_letter_ids(h)
    notifications: dict[str, list[dict[str, Any]]] = {}
    for _, n in h.notified:
        if not str(n.get("name", "")).startswith(SYSTEM):
            continue
        c = content_of(n)
        key = c.get("eventId") or f"preempt/{c.get('instanceId')}"
        notifications.setdefault(str(key), []).append(n)
    for key, ns in notifications.items():
        if key in by_event or (key.startswith("preempt/") and key.removeprefix("preempt/") in preemption):
            continue
        ids = {str(n["id"]) for n in ns}
        if ids & set(h.capture.ignored) or ids & dead:
            continue
        if ids <= h.lost:
            continue
        names = sorted({str(n["name"]) for n in ns})
        out.append(f"I5: event {key} ({', '.join(names)}) has no saga, no ignored reason, no dead letter")
    return out


def _record(body: str) -> dict[str, Any]:
    """A dead-letter message's record (empty when it is not one)."""
    try:
        value = json.loads(body if body.startswith("{") else _b64(body))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _dead_letters(h: History) -> list[dict[str, Any]]:
    """Every dead-letter record written in the history (``keep_dead_letters``), and any left on the queue now."""
    h.keep_dead_letters()
    return [record for record in h.dead.values() if record]


def _dead_letter_ids(h: History) -> set[str]:
    ids: set[str] = set()
    for record in _dead_letters(h):
        if not record.get("reason"):
            continue
        body = str(record.get("body", ""))
        try:
            value = json.loads(body if body.startswith("{") else _b64(body))
        except ValueError:
            continue
        if isinstance(value, dict) and "id" in value:
            ids.add(str(value["id"]))
    return ids


def check_no_wake_dead_lettered(h: History) -> list[str]:
    """A saga's wake is never dead-lettered (the saga would sleep until the reconciler finds it)."""
    return [
        f"I5: a wake was dead-lettered: {str(r.get('reason'))[:120]}"
        for r in _dead_letters(h)
        if parse_wake(str(r.get("body", ""))) is not None
    ]
