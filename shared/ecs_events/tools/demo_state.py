"""The demo's state (``World``: the cloud, the fleet, the app, names), what ``ecs-events demo`` reads back once the
clock has run, and what it checks.

The fleet's final state comes from the cloud, not from our own records: weights off localcloud's SLB, the system
events' statuses (DescribeInstanceHistoryEvents) and the snapshots (DescribeSnapshots) through the ECS SDK. Each
check is one promise of the design, verified from those reads, the cloud's call log and the timeline (the store):
a demo that did not remediate says which promise broke, and exits 1.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecs_events.tools.timeline import Labels, Lane, Timeline, clean, hms

if TYPE_CHECKING:
    from ecs_events.runtime.app import App
    from localcloud.cloud import LocalCloud
    from localcloud.fleet import FleetSummary


@dataclass
class World:
    """The running demo: the cloud, the fleet, the app, and what is known by name."""

    cloud: LocalCloud
    fleet: FleetSummary
    app: App
    lb_id: str
    group_id: str
    alb_group: str  # the api service's ALB server group
    labels: Labels = field(default_factory=Labels)
    before: dict[tuple[str, str], int] = field(default_factory=dict)  # (lb or group name, instance name) -> weight
    event_ids: dict[str, str] = field(default_factory=dict)  # what -> event id
    not_before: datetime | None = None
    story: list[str] = field(default_factory=list)  # the setting and what happened when, for the report

    def ids(self, group: str) -> list[str]:
        return self.fleet.instances[group]

    def name(self, value: str) -> str:
        return self.labels.names.get(value, value)


Check = tuple[bool, str]  # (held, what)
ALL_STATUSES = ["Inquiring", "Scheduled", "Executing", "Executed", "Avoided", "Canceled", "Failed"]


def weights(world: World) -> dict[tuple[str, str], int]:
    """(load balancer or VServer group name, instance name) -> weight, read off localcloud's SLB now."""
    slb, account, region = world.cloud.slb, world.cloud.account_id, world.cloud.region_id
    out: dict[tuple[str, str], int] = {}
    for server, weight in slb.backends(account, region, world.lb_id).items():
        out[(world.name(world.lb_id), world.name(server))] = weight
    for (server, _port), weight in slb.group_backends(account, region, world.group_id).items():
        out[(world.name(world.group_id), world.name(server))] = weight
    for (server, _port), (weight, _status) in world.cloud.alb.members(account, region, world.alb_group).items():
        out[(world.name(world.alb_group), world.name(server))] = weight
    return out


def _sdk(world: World, action: str, **params: Any) -> dict[str, Any]:
    """One ECS call through aliyunsdkecs against the in-process localcloud, a new request object each time."""
    import importlib

    module = importlib.import_module(f"aliyunsdkecs.request.v20140526.{action}Request")
    request = getattr(module, f"{action}Request")()
    request.set_accept_format("json")
    for key, value in params.items():
        getattr(request, f"set_{key}")(value)
    body: dict[str, Any] = json.loads(world.cloud.acs_client().do_action_with_exception(request))
    return body


def history_events(world: World) -> list[dict[str, Any]]:
    """Every system event of the account, any status (DescribeInstanceHistoryEvents)."""
    body = _sdk(world, "DescribeInstanceHistoryEvents", InstanceEventCycleStatuss=ALL_STATUSES)
    events: list[dict[str, Any]] = body["InstanceSystemEventSet"]["InstanceSystemEventType"]
    return events


def snapshots(world: World) -> list[dict[str, Any]]:
    """Every snapshot of the account (DescribeSnapshots)."""
    found: list[dict[str, Any]] = _sdk(world, "DescribeSnapshots", PageSize=100)["Snapshots"]["Snapshot"]
    return found


def _event_line(world: World, event: dict[str, Any]) -> str:
    name, status = event["EventType"]["Name"], event["EventCycleStatus"]["Name"]
    where = f"{world.name(event['InstanceId'])} ({event['InstanceId']})"
    return clean(f"{event['EventId']} {name} on {where}: {status} (notBefore {event.get('NotBefore') or '-'})")


def _weight_lines(world: World, now: dict[tuple[str, str], int]) -> list[str]:
    """One line per load balancer / VServer group: each backend's weight now, and before where it differs."""
    lines = []
    for group in sorted({g for g, _ in world.before} | {g for g, _ in now}):
        parts = []
        for name in sorted({n for g, n in [*world.before, *now] if g == group}):
            was, weight = world.before.get((group, name)), now.get((group, name))
            if weight is None:
                parts.append(f"{name} removed (was {was})")
            else:
                parts.append(f"{name} {weight}" + ("" if weight == was else f" (was {was})"))
        lines.append(f"{group}: " + ", ".join(parts))
    return lines


def final_state(world: World) -> list[tuple[str, list[str]]]:
    events = [_event_line(world, e) for e in history_events(world)]
    shots = [
        clean(f"{s['SnapshotId']} of {s['SourceDiskId']} ({s.get('SourceDiskType', '?')} disk): {s['Status']}")
        for s in snapshots(world)
    ]
    weight_lines = _weight_lines(world, weights(world))
    return [
        ("weights per load balancer / VServer group (now, and before where different)", weight_lines),
        ("system events (DescribeInstanceHistoryEvents)", events or ["none"]),
        ("snapshots (DescribeSnapshots)", shots or ["none"]),
    ]


# -- the checks --------------------------------------------------------------------------------------------------
@dataclass
class Facts:
    """Everything the checks read, read once."""

    world: World
    lanes: dict[str, Lane]
    weights: dict[tuple[str, str], int]
    statuses: dict[str, str]  # event id -> final status

    def lane(self, group: str, n: int = 0) -> Lane:
        return self.lanes[self.world.ids(group)[n]]


def _maintenance(f: Facts) -> Check:
    web1 = f.world.ids("web")[0]
    status = f.statuses.get(f.world.event_ids.get("maintenance", ""), "missing")
    deadline = f.world.not_before
    reboots = [
        c
        for c in f.world.cloud.call_log.calls("RebootInstance")
        if deadline and c.time < deadline and c.params.get("InstanceId") == web1
    ]
    rebooted = len(reboots) == 1
    said = f", we rebooted it at {hms(reboots[0].time)}, before notBefore" if rebooted else ""
    return status == "Avoided" and rebooted, f"maintenance reboot of {f.world.name(web1)}: {status}{said}"


def _disk_stall(f: Facts) -> Check:
    lane, name = f.lane("web", 2), f.world.name(f.world.ids("web")[2])
    drained = [m for m in lane.marks if m.kind == "drain" and not m.open]
    restored = [m for m in lane.marks if m.kind == "restore"]
    back = all(f.weights.get(k) == w for k, w in f.world.before.items() if k[1] == name)
    if drained and restored and back:
        return True, f"disk stall on {name}: drained {hms(drained[0].start)}, restored {hms(restored[0].start)}"
    return False, f"disk stall on {name}: not drained and restored"


def _preemption(f: Facts) -> Check:
    name = f.world.name(f.world.ids("batch")[0])
    gone = all(n != name for _, n in f.weights) and bool(f.world.cloud.call_log.calls("RemoveBackendServers"))
    return gone, f"preempted {name}: " + ("drained, then removed from web-lb" if gone else "still a backend")


def _weights_back(f: Facts) -> Check:
    before = f.world.before
    changed = [f"{g}/{n} {w} (was {before[(g, n)]})" for (g, n), w in sorted(f.weights.items())
               if (g, n) in before and w != before[(g, n)]]  # fmt: skip
    if changed:
        return False, "weights not restored: " + ", ".join(changed)
    return True, "weights: every remaining backend at its original weight"


def _untouched(f: Facts) -> Check:
    legacy = f.world.ids("legacy")[0]
    touched = [c.action for c in f.world.cloud.call_log.calls()
               if c.product in ("Ecs", "Slb") and not c.action.startswith(("Describe", "Get"))
               and legacy in json.dumps(c.params)]  # fmt: skip
    name = f.world.name(legacy)
    return not touched, f"{name} (no opt-in tag): untouched" if not touched else f"{name} touched by {touched}"


def _alb(f: Facts) -> Check:
    api1 = f.world.ids("api")[0]
    name, lane = f.world.name(api1), f.lanes.get(api1)
    status = f.statuses.get(f.world.event_ids.get("api", ""), "missing")
    drained = [m for m in lane.marks if m.kind == "drain" and not m.open] if lane else []
    back = all(f.weights.get(k) == w for k, w in f.world.before.items() if k[1] == name)
    ok = status == "Avoided" and bool(drained) and back
    said = f"drained {hms(drained[0].start)}, restored {hms(drained[0].end)}" if drained and drained[0].end else ""
    return ok, f"maintenance reboot of {name} behind the ALB: {status}, {said or 'not drained and restored'}"


def _budget(f: Facts) -> Check:
    web_lanes = [f.lanes[i] for i in f.world.ids("web") if i in f.lanes]
    spans = sorted((m.start, m.end) for lane in web_lanes for m in lane.marks if m.kind == "drain")
    overlap = any(a[1] is not None and b[0] < a[1] for a, b in itertools.pairwise(spans))
    waited = any(m.kind == "deferred" for m in f.lane("web").marks)
    web = [f.world.name(i) for i in f.world.ids("web")]
    said = f" ({web[0]}'s drain waited for {web[2]})" if waited else ""
    return not overlap, f"disruption budget: one web-lb backend drained at a time{said}"


def checks(world: World, timeline: Timeline) -> list[Check]:
    """What the demo promises, each read back from the cloud or the store."""
    statuses = {e["EventId"]: e["EventCycleStatus"]["Name"] for e in history_events(world)}
    facts = Facts(world, {lane.instance_id: lane for lane in timeline.lanes}, weights(world), statuses)
    return [
        check(facts) for check in (_maintenance, _alb, _disk_stall, _preemption, _weights_back, _untouched, _budget)
    ]
