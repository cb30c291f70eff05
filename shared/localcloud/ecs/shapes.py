"""JSON shapes of ECS objects as the 2014-05-26 API returns them (field names per the SDK's responses)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from localcloud.ecs.assistant import InvocationResult
from localcloud.ecs.events import STATUS_CODES, TYPE_CODES, SystemEvent
from localcloud.ecs.models import Disk, EcsBackend, Instance, Snapshot
from localcloud.ecs.tags import TagRow
from localcloud.emit import iso

INSTANCE_STATUS_CODES = {"Pending": 0, "Running": 1, "Starting": 2, "Stopping": 3, "Stopped": 4}
HEALTH_CODES = {
    "OK": 0,
    "Initializing": 1,
    "InsufficientData": 2,
    "NotApplicable": 3,
    "Warning": 64,
    "Maintaining": 128,
    "Impaired": 256,
}


def minutes(when: datetime | None) -> str:
    """Instance and disk times: ``2017-12-10T04:04Z``."""
    return when.strftime("%Y-%m-%dT%H:%MZ") if when else ""


def tag_set(tags: dict[str, str]) -> dict[str, Any]:
    return {"Tag": [{"TagKey": k, "TagValue": v} for k, v in tags.items()]}


def tag_row(r: TagRow) -> dict[str, Any]:
    """One ListTagResources ``TagResources.TagResource`` item."""
    return {"ResourceId": r.resource_id, "ResourceType": r.resource_type, "TagKey": r.key, "TagValue": r.value}


def instance(inst: Instance, region_id: str) -> dict[str, Any]:
    return {
        "InstanceId": inst.instance_id,
        "InstanceName": inst.instance_name,
        "HostName": inst.instance_name,
        "Description": "",
        "Status": inst.status,
        "InstanceType": inst.instance_type,
        "InstanceTypeFamily": inst.instance_type.rsplit(".", 1)[0],
        "Cpu": 2,
        "Memory": 8192,
        "ImageId": inst.image_id,
        "OSName": "Alibaba Cloud Linux 3",
        "OSType": "linux",
        "RegionId": region_id,
        "ZoneId": inst.zone_id,
        "InstanceChargeType": "PostPaid",
        "InternetChargeType": "PayByTraffic",
        "SpotStrategy": inst.spot_strategy,
        "SpotPriceLimit": 0.0,
        "SpotDuration": 1 if inst.preemptible else 0,
        "InstanceNetworkType": "vpc",
        "CreationTime": minutes(inst.creation_time),
        "StartTime": minutes(inst.start_time),
        "ExpiredTime": "2099-12-31T15:59Z",
        "DeletionProtection": False,
        "SerialNumber": inst.instance_id[2:],
        "ResourceGroupId": "",
        "Tags": tag_set(inst.tags),
        "OperationLocks": {"LockReason": [{"LockReason": r} for r in inst.lock_reasons]},
        "VpcAttributes": {
            "VpcId": "vpc-bp1localcloud0000000",
            "VSwitchId": "vsw-bp1localcloud0000000",
            "NatIpAddress": "",
            "PrivateIpAddress": {"IpAddress": [inst.private_ip]},
        },
        "InnerIpAddress": {"IpAddress": []},
        "PublicIpAddress": {"IpAddress": []},
        "EipAddress": {"AllocationId": "", "IpAddress": "", "InternetChargeType": ""},
        "SecurityGroupIds": {"SecurityGroupId": ["sg-bp1localcloud0000000"]},
        "NetworkInterfaces": {
            "NetworkInterface": [
                {"NetworkInterfaceId": "eni-" + inst.instance_id[2:], "PrimaryIpAddress": inst.private_ip}
            ]
        },
    }


def disk(d: Disk, region_id: str) -> dict[str, Any]:
    return {
        "DiskId": d.disk_id,
        "DiskName": d.disk_name,
        "Description": "",
        "Type": d.disk_type,
        "Category": d.category,
        "Size": d.size,
        "Status": d.status,
        "InstanceId": d.instance_id,
        "Device": d.device,
        "RegionId": region_id,
        "ZoneId": d.zone_id,
        "DeleteWithInstance": d.delete_with_instance,
        "Portable": d.disk_type == "data",
        "Encrypted": False,
        "CreationTime": minutes(d.creation_time),
        "AttachedTime": minutes(d.creation_time) if d.instance_id else "",
        "Tags": tag_set(d.tags),
        "OperationLocks": {"OperationLock": []},
    }


def snapshot(s: Snapshot) -> dict[str, Any]:
    return {
        "SnapshotId": s.snapshot_id,
        "SnapshotName": s.snapshot_name,
        "Description": s.description,
        "Status": s.status,
        "Progress": s.progress,
        "SourceDiskId": s.disk.disk_id,
        "SourceDiskType": "System" if s.disk.disk_type == "system" else "Data",
        "SourceDiskSize": str(s.disk.size),
        "CreationTime": iso(s.creation_time),
        "LastModifiedTime": iso(s.finished_time or s.creation_time),
        "RetentionDays": s.retention_days or 0,
        "Category": "standard",
        "InstantAccess": False,
        "Encrypted": False,
        "Usage": "none",
        "Tags": tag_set(s.tags),
    }


def code_name(name: str, codes: dict[str, int]) -> dict[str, Any]:
    return {"Code": codes.get(name, 0), "Name": name}


def system_event(e: SystemEvent) -> dict[str, Any]:
    return {
        "InstanceId": e.instance_id,
        "EventId": e.event_id,
        "EventType": code_name(e.event_type, TYPE_CODES),
        "EventCycleStatus": code_name(e.status, STATUS_CODES),
        "EventPublishTime": iso(e.publish_time),
        "NotBefore": iso(e.not_before),
        "EventFinishTime": iso(e.execute_finish) if e.execute_finish else "",
        "Reason": e.reason,
        "ImpactLevel": "",
        "ResourceType": "instance",
    }


def full_status(b: EcsBackend, inst: Instance) -> dict[str, Any]:
    open_events = [
        e for e in b.events.for_instance(inst.instance_id) if e.status in ("Scheduled", "Inquiring", "Executing")
    ]
    return {
        "InstanceId": inst.instance_id,
        "Status": code_name(inst.status, INSTANCE_STATUS_CODES),
        "HealthStatus": code_name(b.health(inst), HEALTH_CODES),
        "ScheduledSystemEventSet": {
            "ScheduledSystemEventType": [
                {
                    "EventId": e.event_id,
                    "EventType": code_name(e.event_type, TYPE_CODES),
                    "EventCycleStatus": code_name(e.status, STATUS_CODES),
                    "EventPublishTime": iso(e.publish_time),
                    "NotBefore": iso(e.not_before),
                    "Reason": e.reason,
                    "ImpactLevel": "",
                }
                for e in open_events
            ]
        },
    }


def invocation_result(r: InvocationResult, plain: bool) -> dict[str, Any]:
    return {
        "CommandId": r.command_id,
        "InvokeId": r.invoke_id,
        "InstanceId": r.instance_id,
        "InvokeRecordStatus": r.status,
        "InvocationStatus": r.invocation_status,
        "Output": r.output if plain else _b64(r.output),
        "ExitCode": r.exit_code,
        "ErrorCode": "" if r.status != "Failed" else "NonZeroExitCode",
        "ErrorInfo": "",
        "Dropped": 0,
        "Repeats": 1,
        "StartTime": iso(r.start_time),
        "FinishedTime": iso(r.finished_time) if r.finished_time else "",
        "StopTime": "",
        "Username": "root",
        "ContainerId": "",
        "ContainerName": "",
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
