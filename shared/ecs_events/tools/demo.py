"""``ecs-events demo``: the whole product on the embedded default, in one process, with no account and no network.

A localcloud runs in-process on a manual clock (starting 2026-11-26T02:00:00Z). A small fleet sits behind one load
balancer: web-1..4 in its default server group (web-1 and web-2 also in the VServer group web-8080), ``legacy``
without the opt-in tag, and the preemptible ``batch``; each with a data disk. Every ECS notification goes to the
events queue as CloudMonitor would write it. Then, on the simulated clock:

- 02:00  a maintenance reboot of web-1 is scheduled through the SDK (CreateSimulatedSystemEvents), notBefore 04:00;
- 02:30  batch's preemptible instance is interrupted (released 5 minutes later);
- 03:15  web-3's data disk stalls for 20 minutes: web-3 is drained at once, which spends the load balancer's
  disruption budget, so web-1's planned drain at 03:30 waits (deferred) until web-3 is back;

while the queue consumer runs after every clock step, as the timer-triggered consumer function would. The report is
read back from the store (the timeline) and from the cloud through the SDKs (weights, the events' final statuses,
snapshots), and checked: a demo that did not remediate says so and fails.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TextIO

from ecs_events.tools.demo_state import World, checks, final_state, weights
from ecs_events.tools.timeline import Timeline, from_store, hms, render_text

if TYPE_CHECKING:
    from ecs_events.runtime.settings import Settings
    from localcloud.cloud import LocalCloud

QUEUE = "ecs-events"
RULE = "ecs-events"
TAG = {"ecs-events:managed": "true"}
DISK = [{"size": 100, "category": "cloud_essd"}]
FLEET: dict[str, Any] = {
    "instances": [
        {"name": "web", "count": 4, "tags": {"app": "web", **TAG}, "disks": DISK},
        {"name": "legacy", "count": 1, "tags": {"app": "web"}, "disks": DISK},
        {"name": "batch", "count": 1, "preemptible": True, "tags": {"app": "batch", **TAG}, "disks": DISK},
        {"name": "api", "count": 2, "tags": {"app": "api", **TAG}, "disks": DISK},
    ],
    "albs": [  # the api service is behind an ALB: its server group drains connections for 2 minutes
        {
            "name": "api-alb",
            "server_groups": [
                {
                    "name": "api-80",
                    "backends": [{"instances": "api", "port": 80, "weight": 100}],
                    "connection_drain": {"enabled": True, "timeout": 120},
                }
            ],
            "listeners": [{"port": 80, "server_groups": ["api-80"]}],
        }
    ],
    "load_balancers": [
        {
            "name": "web-lb",
            "backends": [
                {"instances": "web", "weight": 100},
                {"instances": "legacy", "weight": 50},
                {"instances": "batch", "weight": 30},
            ],
        }
    ],
}
VSERVER_GROUP, VSERVER_PORT, VSERVER_WEIGHT = "web-8080", 8080, 80
ALB_GROUP = "api-80"
API_AT, API_LEAD = timedelta(minutes=10), timedelta(minutes=60)  # the api-1 maintenance: when notified, notBefore
MAINTENANCE_LEAD = timedelta(hours=2)  # notBefore of the scheduled reboot, from the start
PREEMPT_AT = timedelta(minutes=30)
STALL_AT, STALL_FOR = timedelta(minutes=75), timedelta(minutes=20)
RUN_FOR = timedelta(hours=2, minutes=10)  # past notBefore: the platform would have acted by then
STEP_SECONDS = 60
RECONCILE_EVERY = timedelta(minutes=5)  # the reconciler function's default timer


@dataclass
class Report:
    lines: list[str]
    timeline: Timeline
    checks: list[tuple[bool, str]]
    sections: list[tuple[str, list[str]]]
    seconds_simulated: float = 0.0

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.checks)


class Progress:
    """One status line on ``stream`` while the clock runs: rewritten in place on a terminal, else a plain line
    whenever something was handled (a log file gets the story, not a line per clock step)."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.width = 0

    def show(self, text: str, changed: bool) -> None:
        if self.stream is None:
            return
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width))
            self.width = len(text)
        elif changed:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.stream is not None and self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


# -- setting the stage -------------------------------------------------------------------------------------------
def demo_settings(cloud: LocalCloud, store_url: str) -> Settings:
    """Every field given: nothing in the caller's environment (``ECS_EVENTS_*``) changes the demo."""
    from ecs_events.runtime.settings import DEFAULT_TAG, Settings

    return Settings(
        account_id=cloud.account_id,
        region=cloud.region_id,
        queue=QUEUE,
        dlq=None,
        store=store_url,
        policy=None,
        dry_run=False,
        tag=DEFAULT_TAG,
        webhooks=(),
        localcloud=cloud.url,
        mns_endpoint=None,
        max_receives=5,
    )


def build_world(cloud: LocalCloud, store_url: str) -> World:
    from ecs_events.runtime.app import build_app

    fleet = cloud.load_fleet(FLEET)
    lb_id = fleet.load_balancers["web-lb"]
    members = [(i, VSERVER_PORT, VSERVER_WEIGHT) for i in fleet.instances["web"][:2]]
    group_id = cloud.slb.create_vserver_group(cloud.account_id, cloud.region_id, lb_id, VSERVER_GROUP, members)
    settings = demo_settings(cloud, store_url)
    keys = SimpleNamespace(access_key_id=cloud.access_key_id, access_key_secret=cloud.access_key_secret)
    context = SimpleNamespace(credentials=keys)  # localcloud's key pair, whatever the environment says
    for queue in (settings.queue, settings.dlq_name):
        cloud.mns.create_queue(cloud.account_id, queue)
    subscribed = subscribe_events(settings, context)
    world = World(cloud, fleet, build_app(settings, context), lb_id, group_id, fleet.server_groups[f"alb/{ALB_GROUP}"])
    _learn_names(world)
    world.before = weights(world)
    world.story.append(
        f"fleet: {fleet.describe()}, VServer group {VSERVER_GROUP} (web-1, web-2 on :{VSERVER_PORT}), "
        f"ALB server group {ALB_GROUP} (api-1, api-2 on :80, connection draining 120 s)"
    )
    world.story.append(f"events: CloudMonitor rule {RULE!r} -> MNS queue {settings.queue!r} ({subscribed})")
    return world


def subscribe_events(settings: Settings, context: Any) -> str:
    """The CloudMonitor event rule to the events queue, as ``ecs-events subscribe`` puts it (through the CMS SDK):
    localcloud then delivers every matching ECS notification to the queue, base64 JSON as CloudMonitor does."""
    from ecs_events.tools.subscribe import subscribe

    return subscribe(settings, rule_name=RULE, context=context)


def _learn_names(world: World) -> None:
    """Instance names (DescribeInstances) and load balancer memberships (the engine's own SLB reads), by name."""
    ids = world.fleet.instance_ids
    names = world.labels.names
    for iid, facts in world.app.clients.ecs().describe_instances(ids).items():
        names[iid] = facts.name or iid
    names[world.lb_id] = "web-lb"
    names[world.group_id] = VSERVER_GROUP
    names[world.alb_group] = ALB_GROUP
    slb = world.app.clients.balancers()  # CLB, ALB and NLB
    for iid in ids:
        view = slb.find(iid)
        world.labels.memberships[iid] = [
            names.get(m.group_id or m.lb_id, m.group_id or m.lb_id) for m in view.memberships
        ]
    world.labels.instances = list(ids)
    world.labels.unmanaged = set(world.ids("legacy"))


# -- the events ---------------------------------------------------------------------------------------------------
def simulate_maintenance(world: World, instance_id: str, not_before: datetime) -> str:
    """CreateSimulatedSystemEvents through aliyunsdkecs, as one would against a real account."""
    from aliyunsdkecs.request.v20140526.CreateSimulatedSystemEventsRequest import CreateSimulatedSystemEventsRequest

    request = CreateSimulatedSystemEventsRequest()
    request.set_accept_format("json")
    request.set_InstanceIds([instance_id])
    request.set_EventType("SystemMaintenance.Reboot")
    request.set_NotBefore(not_before.strftime("%Y-%m-%dT%H:%M:%SZ"))
    body = json.loads(world.cloud.acs_client().do_action_with_exception(request))
    event_id: str = body["EventIdSet"]["EventId"][0]
    return event_id


def scenario(world: World, start: datetime) -> list[tuple[datetime, str, Callable[[], None]]]:
    """What happens when, on the simulated clock."""
    web, batch, api = world.ids("web"), world.ids("batch")[0], world.ids("api")[0]
    world.not_before = start + MAINTENANCE_LEAD
    stalled = world.cloud.ecs.instance(web[2]).disk_ids[-1]  # web-3's data disk

    def maintenance() -> None:
        assert world.not_before is not None
        world.event_ids["maintenance"] = simulate_maintenance(world, web[0], world.not_before)

    def api_maintenance() -> None:
        world.event_ids["api"] = simulate_maintenance(world, api, start + API_AT + API_LEAD)

    def preempt() -> None:
        world.cloud.ecs.interrupt_preemptible(batch)

    def stall() -> None:
        world.event_ids["stall"] = world.cloud.ecs.inject_disk_event(stalled, "Stalled", STALL_FOR.total_seconds())

    return [
        (
            start,
            f"maintenance reboot of {world.name(web[0])} scheduled (notBefore {hms(world.not_before)})",
            maintenance,
        ),
        (
            start + API_AT,
            f"maintenance reboot of {world.name(api)} (behind the ALB) scheduled "
            f"(notBefore {hms(start + API_AT + API_LEAD)})",
            api_maintenance,
        ),
        (start + PREEMPT_AT, f"{world.name(batch)} interrupted (preemptible)", preempt),
        (start + STALL_AT, f"{world.name(web[2])}'s data disk stalled ({STALL_FOR.seconds // 60} minutes)", stall),
    ]


def run_clock(world: World, progress: Progress) -> float:
    """Advance the cloud clock in steps, firing the scenario and consuming the queue until idle after each."""
    from ecs_events.runtime.app import reconciler_for

    cloud, consumer = world.cloud, world.app.consumer
    reconciler = reconciler_for(world.app)
    start = cloud.clock.now()
    pending = scenario(world, start)
    handled = 0
    next_pass, passes = start, 0
    while True:
        now = cloud.clock.now()
        while pending and pending[0][0] <= now:
            _, what, act = pending.pop(0)
            act()
            world.story.append(f"{hms(now)}  {what}")
        report = consumer.run(until_idle=True, wait_seconds=0)
        if now >= next_pass:  # the reconciler function's timer (every 5 minutes)
            passed = reconciler.run_once()
            passes += 1
            next_pass = now + RECONCILE_EVERY
            acted = passed.woken or passed.restores_finished or passed.started or passed.deadlines_enforced
            if acted or passes == 1:
                world.story.append(f"{hms(now)}  reconciler pass {passes}: {passed.summary().split(': ', 1)[1]}")
        handled += report.handled
        active = sum(1 for d in world.app.store.scan("saga/") if d.value.get("status") == "active")
        sagas = len(world.app.store.scan("saga/"))
        text = f"demo: {hms(now)} UTC  {_count(handled, 'message')} handled  {_count(sagas, 'saga')}, {active} active"
        progress.show(text, changed=report.handled > 0)
        if now - start >= RUN_FOR:
            break
        cloud.advance(STEP_SECONDS)
    progress.done()
    world.story.append(f"{hms(cloud.clock.now())}  reconciler: {passes} passes, one every {RECONCILE_EVERY}")
    return (cloud.clock.now() - start).total_seconds()


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


# -- the whole run -----------------------------------------------------------------------------------------------
def run_demo(*, seed: int = 0, store: str | None = None, progress: TextIO | None = None) -> Report:
    """Run the demo and return its report. ``store``: a store URL to keep (default: sqlite in a temporary folder,
    removed afterwards); ``progress``: where the progress line goes (None: nowhere)."""
    from localcloud.cloud import LocalCloud

    with tempfile.TemporaryDirectory(prefix="ecs-events-demo-") as tmp:
        url = store or f"sqlite:///{Path(tmp) / 'demo.sqlite3'}"
        with LocalCloud(seed=seed, manual_clock=True) as cloud:
            world = build_world(cloud, url)
            try:
                simulated = run_clock(world, Progress(progress))
                timeline = from_store(world.app.store, now=cloud.clock.now(), labels=world.labels)
                sections = final_state(world)
                verdict = checks(world, timeline)
            finally:
                world.app.close()
    lines = ["scenario (simulated clock, UTC):", *[f"  {line}" for line in world.story], "", *render_text(timeline), ""]
    for title, items in sections:
        lines += [f"{title}:", *[f"  {item}" for item in items]]
    lines += ["", "checks:", *[f"  {'ok  ' if ok else 'FAIL'}  {text}" for ok, text in verdict]]
    return Report(lines, timeline, verdict, sections, simulated)


if __name__ == "__main__":  # python -m ecs_events.tools.demo: the same as `ecs-events demo`
    from ecs_events.cli import main

    sys.exit(main(["demo", *sys.argv[1:]]))
