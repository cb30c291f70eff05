"""What the actions return: small frozen facts read off the SDK responses, no SDK types leak past here.

Playbooks decide on these; they never see a response dict, so a wire shape changes in one place (the action).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

DiskType = Literal["system", "data"]
SnapshotStatus = Literal["progressing", "accomplished", "failed"]


@dataclass(frozen=True)
class InstanceFacts:
    instance_id: str
    status: str
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    lock_reasons: tuple[str, ...] = ()
    preemptible: bool = False


@dataclass(frozen=True)
class DiskFacts:
    disk_id: str
    type: DiskType
    category: str
    status: str
    device: str


@dataclass(frozen=True)
class SnapshotFacts:
    snapshot_id: str
    disk_id: str
    status: SnapshotStatus
    progress: str


@dataclass(frozen=True)
class Membership:
    """One backend entry of one server in one server group. ``group_id`` None is the load balancer's default server
    group (no port). ``weight`` is the weight it had when read: what ``Slb.set_weights(..., None)`` restores.
    ``type`` is the server's type (CLB ``ecs``, ``eni``; ALB/NLB ``Ecs``); ``kind`` the load balancer's (``clb``,
    ``alb``, ``nlb``). For ALB and NLB ``lb_id`` and ``group_id`` are both the server group id (the budget unit)."""

    lb_id: str
    group_id: str | None
    server_id: str
    port: int | None
    weight: int
    type: str = "ecs"
    kind: str = "clb"

    @property
    def key(self) -> str:
        """This backend entry's identity in the drain registry: kind, load balancer, group, server, port."""
        port = "-" if self.port is None else self.port
        return f"{self.kind}/{self.lb_id}/{self.group_id or '-'}/{self.server_id}/{port}"

    @property
    def group(self) -> tuple[str, str, str | None]:
        """The unit one API call changes: (kind, load balancer, group)."""
        return (self.kind, self.lb_id, self.group_id)


@dataclass(frozen=True)
class SlbView:
    """The memberships of one server, and per load balancer the number of distinct backend servers (default group
    and VServer groups together): the denominator of the disruption budget. For ALB and NLB the unit is the server
    group (``Membership.lb_id`` is the group id). ``drain_seconds``: per unit, the connection drain timeout of a
    group that has connection draining enabled (ALB ``ConnectionDrainConfig``, NLB ``ConnectionDrainTimeout``)."""

    memberships: list[Membership]
    lb_sizes: dict[str, int]
    drain_seconds: dict[str, int] = field(default_factory=dict)
    # Budget units ``find``'s ``spent`` said are full: discovery stopped there, the view is incomplete (see ``Spent``).
    blocked: list[str] = field(default_factory=list)


# Asked by ``find`` with the budget units its first, cheap listing found (CLB: DescribeLoadBalancers with ServerId;
# ALB, NLB: ListServerGroupServers with ServerIds): those whose disruption budget is known spent. Any: ``find``
# stops there (a deferred drain needs nothing more), and returns them as ``SlbView.blocked``.
Spent = Callable[[list[str]], list[str]]


@dataclass(frozen=True)
class CommandFacts:
    invoke_id: str
    status: str  # InvokeRecordStatus: Running | Finished | Failed | Stopped (InvocationStatus if absent)
    exit_code: int | None  # None while the command runs
    output: str  # base64-decoded


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str  # the wire text: base64 for what Queue.send wrote and for CloudMonitor events
    dequeue_count: int
    enqueue_time: datetime
    first_dequeue_time: datetime | None
