"""ECS state and the transitions it owns: instances, disks, snapshots (per account and region).

Every timed transition (Pending -> Starting -> Running, Stopping -> Stopped, snapshot completion) goes through the
context's scheduler, so tests move it with the clock. Each state change is emitted as a CloudMonitor notification.
System events live in ``events.py`` and Cloud Assistant in ``assistant.py``; both work on this backend through the
``state.Backend`` protocol. The records (instances, disks, snapshots) are in ``state.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from localcloud.core import CloudContext
from localcloud.ecs.assistant import Assistant
from localcloud.ecs.errors import (
    disk_not_found,
    dry_run,
    incorrect_disk_status,
    incorrect_instance_status,
    instance_not_found,
    snapshot_in_progress,
)
from localcloud.ecs.events import SystemEvents
from localcloud.ecs.state import Delays, Disk, Instance, Snapshot, check_snapshot_name
from localcloud.emit import Emitter, iso

__all__ = ["Delays", "Disk", "EcsBackend", "Instance", "Snapshot", "check_snapshot_name"]


class EcsBackend:
    """One account's ECS in one region."""

    def __init__(self, ctx: CloudContext, emitter: Emitter, delays: Delays, account_id: str, region_id: str) -> None:
        self.ctx = ctx
        self.emitter = emitter
        self.delays = delays
        self.account_id = account_id
        self.region_id = region_id
        self.zone_id = f"{region_id}-h"
        self.instances: dict[str, Instance] = {}
        self.disks: dict[str, Disk] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.snapshot_tokens: dict[str, str] = {}
        self.failing_snapshot_disks: set[str] = set()
        self._ip_seq = 10
        # System events and Cloud Assistant state (see events.py / assistant.py).
        self.events = SystemEvents(self)
        self.assistant = Assistant(self)

    # -- helpers -----------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.ctx.clock.now()

    def later(self, seconds: float, fn: Callable[[], None], name: str) -> None:
        self.ctx.scheduler.call_later(seconds, fn, name)

    def instance(self, instance_id: str) -> Instance:
        inst = self.instances.get(instance_id)
        if inst is None:
            raise instance_not_found(instance_id)
        return inst

    def disk(self, disk_id: str) -> Disk:
        disk = self.disks.get(disk_id)
        if disk is None:
            raise disk_not_found(disk_id)
        return disk

    def set_state(self, inst: Instance, state: str) -> None:
        inst.status = state
        if state == "Running":
            inst.start_time = self.now()
        self.emitter.state_change(self.account_id, self.region_id, inst.instance_id, state)

    def chain(self, inst: Instance, steps: list[tuple[float, str]], done: Callable[[], None] | None = None) -> None:
        """Walk ``inst`` through ``(delay, state)`` steps on the clock; a newer operation cancels the rest."""
        inst.op += 1
        op = inst.op

        def step(i: int) -> None:
            if inst.op != op or inst.instance_id not in self.instances:
                return
            self.set_state(inst, steps[i][1])
            if i + 1 < len(steps):
                self.later(steps[i + 1][0], lambda: step(i + 1), f"{inst.instance_id}:{steps[i + 1][1]}")
            elif done is not None:
                done()

        self.later(steps[0][0], lambda: step(0), f"{inst.instance_id}:{steps[0][1]}")

    def _next_ip(self) -> str:
        n = self._ip_seq
        self._ip_seq += 1
        return f"172.16.{n // 250}.{n % 250 + 1}"

    # -- instances ---------------------------------------------------------------------------------------------
    def run_instances(
        self,
        amount: int,
        *,
        name: str | None = None,
        instance_type: str = "ecs.g6.large",
        image_id: str = "aliyun_3_x64_20G_alibase_20240819.vhd",
        spot_strategy: str = "NoSpot",
        tags: dict[str, str] | None = None,
        system_disk: tuple[str, int] = ("cloud_essd", 40),
        data_disks: list[tuple[str, int, bool]] | None = None,
    ) -> list[str]:
        ids: list[str] = []
        for _ in range(amount):
            instance_id = self.ctx.ids.new("i")
            inst = Instance(
                instance_id=instance_id,
                instance_name=name or instance_id,
                instance_type=instance_type,
                image_id=image_id,
                zone_id=self.zone_id,
                private_ip=self._next_ip(),
                creation_time=self.now(),
                spot_strategy=spot_strategy,
                tags=dict(tags or {}),
            )
            self.instances[instance_id] = inst
            self._add_disk(inst, "system", *system_disk, True)
            for category, size, delete_with in data_disks or []:
                self._add_disk(inst, "data", category, size, delete_with)
            self.set_state(inst, "Pending")
            self.chain(inst, [(self.delays.create, "Starting"), (self.delays.start, "Running")])
            ids.append(instance_id)
        return ids

    def _add_disk(self, inst: Instance, disk_type: str, category: str, size: int, delete_with: bool) -> Disk:
        used = {self.disks[d].device for d in inst.disk_ids if d in self.disks}
        letter = next(c for c in "abcdefghijklmnopqrstuvwxyz" if f"/dev/xvd{c}" not in used)
        disk = Disk(
            disk_id=self.ctx.ids.new("d"),
            disk_type=disk_type,
            category=category,
            size=size,
            device=f"/dev/xvd{letter}",
            instance_id=inst.instance_id,
            zone_id=inst.zone_id,
            creation_time=self.now(),
            delete_with_instance=delete_with,
        )
        self.disks[disk.disk_id] = disk
        inst.disk_ids.append(disk.disk_id)
        return disk

    def start_instance(self, instance_id: str, dry: bool = False) -> None:
        inst = self.instance(instance_id)
        if inst.status != "Stopped":
            raise incorrect_instance_status(inst.status)
        if dry:
            raise dry_run()
        self.set_state(inst, "Starting")
        self.chain(inst, [(self.delays.start, "Running")], done=lambda: self.events.on_restarted(inst))

    def stop_instance(self, instance_id: str, force: bool = False, dry: bool = False) -> None:
        inst = self.instance(instance_id)
        if inst.status != "Running":
            raise incorrect_instance_status(inst.status)
        if dry:
            raise dry_run()
        self.set_state(inst, "Stopping")
        self.chain(inst, [(self.delays.stop, "Stopped")])

    def reboot_instance(self, instance_id: str, force: bool = False, dry: bool = False) -> None:
        inst = self.instance(instance_id)
        if inst.status != "Running":
            raise incorrect_instance_status(inst.status)
        if dry:
            raise dry_run()
        self.events.on_user_reboot(inst)
        self.reboot(inst)

    def reboot(self, inst: Instance, done: Callable[[], None] | None = None) -> None:
        self.set_state(inst, "Stopping")
        self.chain(inst, [(self.delays.stop, "Starting"), (self.delays.start, "Running")], done=done)

    def delete_instance(self, instance_id: str, force: bool = False, dry: bool = False) -> None:
        inst = self.instance(instance_id)
        if not force and inst.status not in ("Stopped", "Pending"):
            raise incorrect_instance_status(inst.status)
        if dry:
            raise dry_run()
        self.release(inst)

    def release(self, inst: Instance) -> None:
        inst.op += 1
        del self.instances[inst.instance_id]
        for disk_id in inst.disk_ids:
            disk = self.disks.get(disk_id)
            if disk is None:
                continue
            if disk.delete_with_instance:
                del self.disks[disk_id]
            else:
                disk.status, disk.instance_id, disk.device = "Available", "", ""
        inst.status = "Deleted"
        self.emitter.state_change(self.account_id, self.region_id, inst.instance_id, "Deleted")
        self.events.on_released(inst)

    def health(self, inst: Instance) -> str:
        if inst.health_override:
            return inst.health_override
        if self.events.executing(inst.instance_id):
            return "Maintaining"
        return {"Running": "OK", "Pending": "Initializing", "Starting": "Initializing"}.get(
            inst.status, "NotApplicable"
        )

    # -- disks -------------------------------------------------------------------------------------------------
    def detach_disk(self, instance_id: str, disk_id: str) -> None:
        inst, disk = self.instance(instance_id), self.disk(disk_id)
        if disk.instance_id != instance_id or disk.status != "In_use" or disk.disk_type == "system":
            raise incorrect_disk_status(disk.status)
        disk.status = "Detaching"

        def done() -> None:
            if disk.disk_id in inst.disk_ids:
                inst.disk_ids.remove(disk.disk_id)
            disk.status, disk.instance_id, disk.device = "Available", "", ""
            self.emitter.disk_operation(self.account_id, self.region_id, disk.disk_id, "DetachDisk")

        self.later(self.delays.disk_operation, done, f"{disk_id}:DetachDisk")

    def attach_disk(self, instance_id: str, disk_id: str) -> None:
        inst, disk = self.instance(instance_id), self.disk(disk_id)
        if disk.status != "Available":
            raise incorrect_disk_status(disk.status)
        if inst.status not in ("Running", "Stopped"):
            raise incorrect_instance_status(inst.status)
        used = {self.disks[d].device for d in inst.disk_ids if d in self.disks}
        letter = next(c for c in "bcdefghijklmnopqrstuvwxyz" if f"/dev/xvd{c}" not in used)
        disk.status, disk.instance_id, disk.device = "Attaching", instance_id, f"/dev/xvd{letter}"
        inst.disk_ids.append(disk_id)

        def done() -> None:
            disk.status = "In_use"
            self.emitter.disk_operation(self.account_id, self.region_id, disk.disk_id, "AttachDisk")

        self.later(self.delays.disk_operation, done, f"{disk_id}:AttachDisk")

    # -- snapshots ---------------------------------------------------------------------------------------------
    def create_snapshot(
        self,
        disk_id: str,
        *,
        name: str | None,
        description: str = "",
        retention_days: int | None = None,
        client_token: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        if client_token and client_token in self.snapshot_tokens:
            return self.snapshot_tokens[client_token]
        disk = self.disk(disk_id)
        if name is not None:
            check_snapshot_name(name)
        if any(s.disk.disk_id == disk_id and s.status == "progressing" for s in self.snapshots.values()):
            raise snapshot_in_progress()
        if disk.status not in ("In_use", "Available"):
            raise incorrect_disk_status(disk.status)
        snap = Snapshot(
            snapshot_id=self.ctx.ids.new("s"),
            snapshot_name=name or "",
            description=description,
            disk=disk,
            creation_time=self.now(),
            retention_days=retention_days,
            tags=dict(tags or {}),
        )
        self.snapshots[snap.snapshot_id] = snap
        if client_token:
            self.snapshot_tokens[client_token] = snap.snapshot_id
        self.later(self.delays.snapshot, lambda: self._finish_snapshot(snap), f"{snap.snapshot_id}:complete")
        return snap.snapshot_id

    def _finish_snapshot(self, snap: Snapshot) -> None:
        failed = snap.disk.disk_id in self.failing_snapshot_disks
        snap.status = "failed" if failed else "accomplished"
        snap.progress = "0%" if failed else "100%"
        snap.finished_time = self.now()
        content = {
            "result": snap.status,
            "snapshotId": snap.snapshot_id,
            "snapshotName": snap.snapshot_name,
            "diskId": snap.disk.disk_id,
            "startTime": iso(snap.creation_time),
            "endTime": iso(snap.finished_time),
        }
        self.emitter.snapshot_completed(self.account_id, self.region_id, content)
