"""System events as the real cloud runs them, on the localcloud clock.

- Created Scheduled (CreateSimulatedSystemEvents) or Inquiring (facade); Inquiring waits for
  AcceptInquiredSystemEvent, which makes it Scheduled.
- A user RebootInstance (or a stop + start) before notBefore turns a Scheduled/Inquiring ``*.Reboot`` event Avoided.
- At notBefore a Scheduled event goes Executing, the platform acts (reboot, redeploy, stop, release) and it ends
  Executed. Releasing the instance cancels its open events.
- Preemptible interruption: notice, then release after the notice period. Disk events: Executing with
  executeStartTime, then again with executeFinishTime.
Every status change is emitted as ``Instance:<EventType>:<Status>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from localcloud.ecs.errors import no_inquiring_event
from localcloud.emit import iso

if TYPE_CHECKING:
    from localcloud.ecs.state import Backend, Instance

EVENT_TYPES = (
    "SystemMaintenance.Reboot",
    "SystemMaintenance.Redeploy",
    "SystemMaintenance.Stop",
    "SystemMaintenance.IsolateErrorDisk",
    "SystemMaintenance.ReInitErrorDisk",
    "SystemMaintenance.RebootAndIsolateErrorDisk",
    "SystemMaintenance.RebootAndReInitErrorDisk",
    "SystemFailure.Reboot",
    "SystemFailure.Redeploy",
    "SystemFailure.Stop",
    "SystemFailure.Delete",
    "InstanceFailure.Reboot",
    "InstanceExpiration.Stop",
    "InstanceExpiration.Delete",
    "AccountUnbalanced.Stop",
    "AccountUnbalanced.Delete",
)
OPEN = ("Inquiring", "Scheduled", "Executing")
# Codes as DescribeInstanceHistoryEvents shows them next to the names.
TYPE_CODES = {t: i + 1 for i, t in enumerate(EVENT_TYPES)}
STATUS_CODES = {
    "Scheduled": 1,
    "Avoided": 2,
    "Executing": 24,
    "Executed": 8,
    "Canceled": 16,
    "Failed": 32,
    "Inquiring": 64,
}


@dataclass
class SystemEvent:
    event_id: str
    instance_id: str
    event_type: str
    status: str
    publish_time: datetime
    not_before: datetime
    execute_start: datetime | None = None
    execute_finish: datetime | None = None
    reason: str = ""

    def content(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "eventId": self.event_id,
            "publishTime": iso(self.publish_time),
            "notBefore": iso(self.not_before),
            "instanceId": self.instance_id,
            "eventType": self.event_type,
            "eventStatus": self.status,
        }
        if self.execute_start is not None:
            out["executeStartTime"] = iso(self.execute_start)
        if self.execute_finish is not None:
            out["executeFinishTime"] = iso(self.execute_finish)
        return out


class SystemEvents:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.events: dict[str, SystemEvent] = {}

    def _set(self, event: SystemEvent, status: str) -> None:
        event.status = status
        b = self.backend
        b.emitter.system_event(b.account_id, b.region_id, event.instance_id, event.content())

    def for_instance(self, instance_id: str) -> list[SystemEvent]:
        return [e for e in self.events.values() if e.instance_id == instance_id]

    def executing(self, instance_id: str) -> bool:
        return any(e.status == "Executing" for e in self.for_instance(instance_id))

    # -- creation and consent ----------------------------------------------------------------------------------
    def create(self, instance_id: str, event_type: str, not_before: datetime, status: str = "Scheduled") -> str:
        b = self.backend
        b.instance(instance_id)
        event = SystemEvent(
            event_id=b.ctx.ids.new("e"),
            instance_id=instance_id,
            event_type=event_type,
            status=status,
            publish_time=b.now(),
            not_before=not_before,
        )
        self.events[event.event_id] = event
        self._set(event, status)
        b.ctx.scheduler.call_at(not_before, lambda: self._due(event), f"{event.event_id}:notBefore")
        return event.event_id

    def accept(self, event_id: str) -> None:
        event = self.events.get(event_id)
        if event is None or event.status != "Inquiring":
            raise no_inquiring_event(event_id)
        self._set(event, "Scheduled")
        if event.not_before <= self.backend.now():
            self.backend.later(0, lambda: self._due(event), f"{event.event_id}:notBefore")

    def cancel(self, event_id: str) -> None:
        event = self.events[event_id]
        if event.status in OPEN:
            now = self.backend.now()
            event.execute_start = event.execute_start or now
            event.execute_finish = now
            self._set(event, "Canceled")

    # -- what the user does ------------------------------------------------------------------------------------
    def on_user_reboot(self, inst: Instance) -> None:
        """A restart by the user before notBefore avoids the instance's pending reboot events."""
        now = self.backend.now()
        for event in self.for_instance(inst.instance_id):
            if event.status in ("Scheduled", "Inquiring") and "Reboot" in event.event_type and now < event.not_before:
                event.execute_start = event.execute_finish = now
                self._set(event, "Avoided")

    def on_restarted(self, inst: Instance) -> None:
        """A stop + start counts as a restart for reboot events too."""
        self.on_user_reboot(inst)

    def on_released(self, inst: Instance) -> None:
        for event in self.for_instance(inst.instance_id):
            if event.status in ("Scheduled", "Inquiring"):
                self.cancel(event.event_id)

    # -- the platform acting at notBefore ----------------------------------------------------------------------
    def _due(self, event: SystemEvent) -> None:
        b = self.backend
        if event.status != "Scheduled":
            return
        inst = b.instances.get(event.instance_id)
        event.execute_start = b.now()
        self._set(event, "Executing")

        def finish() -> None:
            if event.status == "Executing":
                event.execute_finish = b.now()
                self._set(event, "Executed")

        kind = event.event_type.rsplit(".", 1)[-1]
        if inst is None:
            finish()
        elif kind.startswith(("Reboot", "Redeploy")) and inst.status == "Running":
            b.reboot(inst, done=finish)
        elif kind == "Stop" and inst.status == "Running":
            b.set_state(inst, "Stopping")
            b.chain(inst, [(b.delays.stop, "Stopped")], done=finish)
        elif kind == "Delete":
            b.release(inst)
            finish()
        else:
            b.later(b.delays.event_execute, finish, f"{event.event_id}:Executed")

    # -- preemptible instances and disks -----------------------------------------------------------------------
    def interrupt_preemptible(self, instance_id: str, notice_seconds: float = 300) -> None:
        b = self.backend
        inst = b.instance(instance_id)
        if not inst.preemptible:
            raise ValueError(f"{instance_id} is not a preemptible (spot) instance")
        inst.lock_reasons.append("Recycling")
        b.emitter.preemptible_interruption(b.account_id, b.region_id, instance_id)

        def release() -> None:
            if inst.instance_id in b.instances:
                b.release(inst)

        b.later(notice_seconds, release, f"{instance_id}:preemptible-release")

    def inject_disk_event(self, disk_id: str, event_type: str = "Stalled", duration_seconds: float = 120) -> str:
        b = self.backend
        disk = b.disk(disk_id)
        inst = b.instances.get(disk.instance_id)
        event_id = b.ctx.ids.new("e")
        content: dict[str, Any] = {
            "eventId": event_id,
            "diskId": disk_id,
            "device": disk.device,
            "eventType": event_type,
            "executeStartTime": iso(b.now()),
            "ecsInstanceId": disk.instance_id,
            "ecsInstanceName": inst.instance_name if inst else "",
        }
        b.emitter.disk_event(b.account_id, b.region_id, disk_id, dict(content))

        def end() -> None:
            content["executeFinishTime"] = iso(b.now())
            b.emitter.disk_event(b.account_id, b.region_id, disk_id, dict(content))

        b.later(duration_seconds, end, f"{event_id}:disk-{event_type}-end")
        return event_id
