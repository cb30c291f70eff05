"""ECS records (instances, disks, snapshots, the transitions' delays) and ``Backend``: what system events
(``events.py``) and Cloud Assistant (``assistant.py``) use of ``models.EcsBackend``, so that they need not import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from localcloud.core import CloudContext
from localcloud.emit import Emitter
from localcloud.errors import CloudError


@dataclass
class Delays:
    """Seconds each transition takes on the localcloud clock (set any to 0 for instant transitions)."""

    create: float = 1.0  # Pending -> Starting
    start: float = 2.0  # Starting -> Running
    stop: float = 2.0  # Stopping -> Stopped (and the stop half of a reboot)
    snapshot: float = 5.0  # progressing -> accomplished
    command: float = 1.0  # Cloud Assistant invocation Running -> Finished
    event_execute: float = 2.0  # Executing -> Executed for events that change no instance state
    disk_operation: float = 1.0  # Attaching / Detaching -> In_use / Available


@dataclass
class Disk:
    disk_id: str
    disk_type: str  # system | data
    category: str
    size: int
    device: str
    instance_id: str
    zone_id: str
    creation_time: datetime
    disk_name: str = ""
    status: str = "In_use"
    delete_with_instance: bool = True
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Instance:
    instance_id: str
    instance_name: str
    instance_type: str
    image_id: str
    zone_id: str
    private_ip: str
    creation_time: datetime
    status: str = "Pending"
    spot_strategy: str = "NoSpot"
    tags: dict[str, str] = field(default_factory=dict)
    disk_ids: list[str] = field(default_factory=list)
    start_time: datetime | None = None
    health_override: str | None = None
    lock_reasons: list[str] = field(default_factory=list)
    console_output: str | None = None
    op: int = 0  # bumped by every operation; a stale scheduled step sees a different value and does nothing

    @property
    def preemptible(self) -> bool:
        return self.spot_strategy != "NoSpot"


@dataclass
class Snapshot:
    snapshot_id: str
    snapshot_name: str
    description: str
    disk: Disk
    creation_time: datetime
    retention_days: int | None
    status: str = "progressing"
    progress: str = "0%"
    finished_time: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)


_SNAPSHOT_NAME = re.compile(r"^[A-Za-z\u4e00-\u9fa5][\w.:\-\u4e00-\u9fa5]{1,127}$")


def check_snapshot_name(name: str) -> None:
    """2-128 characters, starts with a letter, not with ``auto`` or ``http://``/``https://``; letters, digits,
    periods, colons, underscores and hyphens."""
    lowered = name.lower()
    if not _SNAPSHOT_NAME.match(name) or lowered.startswith(("auto", "http://", "https://")):
        raise CloudError("InvalidSnapshotName.Malformed", "Specified snapshot name is not valid.", 400)


class Backend(Protocol):
    """One account's ECS in one region, as system events and Cloud Assistant drive it (``models.EcsBackend``)."""

    ctx: CloudContext
    emitter: Emitter
    delays: Delays
    account_id: str
    region_id: str
    instances: dict[str, Instance]

    def now(self) -> datetime: ...
    def later(self, seconds: float, fn: Callable[[], None], name: str) -> None: ...
    def instance(self, instance_id: str) -> Instance: ...
    def disk(self, disk_id: str) -> Disk: ...
    def set_state(self, inst: Instance, state: str) -> None: ...
    def chain(self, inst: Instance, steps: list[tuple[float, str]], done: Callable[[], None] | None = None) -> None: ...
    def reboot(self, inst: Instance, done: Callable[[], None] | None = None) -> None: ...
    def release(self, inst: Instance) -> None: ...
