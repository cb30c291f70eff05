"""ECS (API version 2014-05-26): instances, disks, snapshots, system events, Cloud Assistant."""

from __future__ import annotations

from localcloud.ecs.service import EcsService

__all__ = ["EcsService"]
