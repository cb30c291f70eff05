"""ECS errors with the codes, messages and HTTP statuses the real API answers with."""

from __future__ import annotations

from localcloud.errors import CloudError


def instance_not_found(instance_id: str) -> CloudError:
    return CloudError("InvalidInstanceId.NotFound", f"The specified InstanceId does not exist: {instance_id}", 404)


def disk_not_found(disk_id: str) -> CloudError:
    return CloudError("InvalidDiskId.NotFound", f"The specified disk does not exist: {disk_id}", 404)


def incorrect_instance_status(status: str) -> CloudError:
    return CloudError(
        "IncorrectInstanceStatus",
        f"The current status of the resource does not support this operation ({status}).",
        403,
    )


def incorrect_disk_status(status: str) -> CloudError:
    return CloudError(
        "IncorrectDiskStatus", f"The current disk status does not support this operation ({status}).", 403
    )


def snapshot_in_progress() -> CloudError:
    return CloudError(
        "IncorrectDiskStatus.CreatingSnapshot", "A previous snapshot creation of this disk is not finished yet.", 403
    )


def dry_run() -> CloudError:
    return CloudError("DryRunOperation", "Request validation has been passed with DryRun flag set.", 400)


def no_inquiring_event(event_id: str) -> CloudError:
    return CloudError(
        "InvalidEventId.NoInquiringEventFound", f"The specified event is not found or not inquiring: {event_id}", 404
    )


def command_not_found(command_id: str) -> CloudError:
    return CloudError("InvalidCommandId.NotFound", f"The specified command does not exist: {command_id}", 404)


def invocation_not_found(invoke_id: str) -> CloudError:
    return CloudError("InvalidInvokeId.NotFound", f"The specified invocation does not exist: {invoke_id}", 404)


def unknown_action(action: str) -> CloudError:
    return CloudError(
        "InvalidAction.NotFound", f"Specified api is not found, please check your url and method: {action}", 404
    )
