"""``EcsService``: the RpcService for ECS 2014-05-26, backends per (account, region), and the facade's knobs
(transition delays, command and console output, preemptible interruptions, disk events, health overrides)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from localcloud.core import CloudContext
from localcloud.ecs import tags as tagging
from localcloud.ecs.errors import instance_not_found, unknown_action
from localcloud.ecs.models import Delays, Disk, EcsBackend, Instance
from localcloud.ecs.responses import HANDLERS
from localcloud.emit import Emitter
from localcloud.errors import CloudError
from localcloud.rpc import RpcCall


class EcsService:
    product = "Ecs"
    version = "2014-05-26"

    def __init__(self, ctx: CloudContext) -> None:
        self.ctx = ctx
        self.emitter = Emitter(ctx)
        self.delays = Delays()
        self._backends: dict[tuple[str, str], EcsBackend] = {}

    # -- RpcService --------------------------------------------------------------------------------------------
    def handle(self, call: RpcCall) -> dict[str, Any]:
        handler = HANDLERS.get(call.action)
        if handler is None:
            raise unknown_action(call.action)
        with self.ctx.scheduler.lock:
            return handler(self.backend(call.account_id, call.region_id), call.params)

    def reset(self) -> None:
        with self.ctx.scheduler.lock:
            self._backends.clear()
            self.delays = Delays()

    def backend(self, account_id: str, region_id: str | None = None) -> EcsBackend:
        key = (account_id, region_id or self.ctx.region_id)
        found = self._backends.get(key)
        if found is None:
            found = EcsBackend(self.ctx, self.emitter, self.delays, *key)
            self._backends[key] = found
        return found

    # -- facade knobs ------------------------------------------------------------------------------------------
    def set_delays(self, **seconds: float) -> Delays:
        """E.g. ``set_delays(start=0, stop=0)``; applies to every backend, existing or new."""
        for name, value in seconds.items():
            if not hasattr(self.delays, name):
                raise TypeError(f"unknown delay {name!r}")
            setattr(self.delays, name, value)
        return self.delays

    def _find_instance(self, instance_id: str) -> tuple[EcsBackend, Instance]:
        for b in self._backends.values():
            if instance_id in b.instances:
                return b, b.instances[instance_id]
        raise instance_not_found(instance_id)

    def _find_disk(self, disk_id: str) -> tuple[EcsBackend, Disk]:
        for b in self._backends.values():
            if disk_id in b.disks:
                return b, b.disks[disk_id]
        raise CloudError("InvalidDiskId.NotFound", f"The specified disk does not exist: {disk_id}", 404)

    def instance(self, instance_id: str) -> Instance:
        return self._find_instance(instance_id)[1]

    def status(self, instance_id: str) -> str:
        """The instance's status, ``Deleted`` once released."""
        try:
            return self.instance(instance_id).status
        except CloudError:
            return "Deleted"

    def set_command_output(self, instance_id: str, output: str, exit_code: int = 0) -> None:
        """What Cloud Assistant commands print (and exit with) on this instance from now on."""
        with self.ctx.scheduler.lock:
            b, _ = self._find_instance(instance_id)
            b.assistant.outputs[instance_id] = (output, exit_code)

    def set_console_output(self, instance_id: str, text: str) -> None:
        with self.ctx.scheduler.lock:
            self.instance(instance_id).console_output = text

    def set_health(self, instance_id: str, health: str | None) -> None:
        """Force DescribeInstancesFullStatus HealthStatus (``Impaired``, ``Warning``...); None goes back to derived."""
        with self.ctx.scheduler.lock:
            self.instance(instance_id).health_override = health

    def fail_snapshots(self, disk_id: str, fail: bool = True) -> None:
        """Snapshots of this disk complete with result ``failed``."""
        with self.ctx.scheduler.lock:
            b, _ = self._find_disk(disk_id)
            (b.failing_snapshot_disks.add if fail else b.failing_snapshot_disks.discard)(disk_id)

    def create_system_event(
        self, instance_id: str, event_type: str, not_before: datetime, status: str = "Scheduled"
    ) -> str:
        """A system event as the platform would publish it; ``status="Inquiring"`` waits for consent."""
        with self.ctx.scheduler.lock:
            b, _ = self._find_instance(instance_id)
            return b.events.create(instance_id, event_type, not_before, status)

    def cancel_system_event(self, event_id: str) -> None:
        with self.ctx.scheduler.lock:
            for b in self._backends.values():
                if event_id in b.events.events:
                    b.events.cancel(event_id)
                    return
        raise KeyError(event_id)

    def interrupt_preemptible(self, instance_id: str, notice_seconds: float = 300) -> None:
        """Emit Instance:PreemptibleInstanceInterruption now and release the instance after the notice period."""
        with self.ctx.scheduler.lock:
            b, _ = self._find_instance(instance_id)
            b.events.interrupt_preemptible(instance_id, notice_seconds)

    def inject_disk_event(self, disk_id: str, event_type: str = "Stalled", duration_seconds: float = 120) -> str:
        """Emit Disk:<type>:Executing now (executeStartTime) and again with executeFinishTime when it ends."""
        with self.ctx.scheduler.lock:
            b, _ = self._find_disk(disk_id)
            return b.events.inject_disk_event(disk_id, event_type, duration_seconds)

    def change_tags(
        self, resource_id: str, set_tags: dict[str, str] | None = None, remove: tuple[str, ...] = ()
    ) -> dict[str, str]:
        """Change an instance's, disk's or snapshot's tags the way a person would in the console (the same checks
        as TagResources / UntagResources: CloudError on a bad key or past 20 tags); its tags afterwards."""
        with self.ctx.scheduler.lock:
            for b in self._backends.values():
                for resource_type in tagging.RESOURCE_TYPES:
                    if tagging.resource_tags(b, resource_type, resource_id) is None:
                        continue
                    return tagging.change(b, resource_type, resource_id, dict(set_tags or {}), remove)
        raise CloudError("InvalidResourceId.NotFound", f"The specified ResourceIds are not found: {resource_id}", 404)
