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


# -- tags (codes, messages and statuses from the TagResources / UntagResources / ListTagResources / AddTags
# error tables of the ECS 2014-05-26 API reference) --------------------------------------------------------------
def tag_resource_not_found(plural: bool = True) -> CloudError:
    """TagResources family: "ResourceIds are"; AddTags / RemoveTags: "ResourceId is"."""
    what = "ResourceIds are" if plural else "ResourceId is"
    return CloudError("InvalidResourceId.NotFound", f"The specified {what} not found in our records.", 404)


def invalid_resource_type() -> CloudError:
    return CloudError("InvalidResourceType.NotFound", "The ResourceType provided does not exist in our records.", 404)


def missing_tag_parameter(name: str) -> CloudError:
    """``MissingParameter.ResourceType`` / ``MissingParameter.Tags`` (the API answers these with 404)."""
    return CloudError(f"MissingParameter.{name}", f"The parameter - {name} should not be null", 404)


def too_many_resources() -> CloudError:
    return CloudError("NumberExceed.ResourceIds", "The ResourceIds parameter's number is exceed , Valid : 50", 400)


def too_many_tags(code: str) -> CloudError:
    """``NumberExceed.Tags`` (TagResources family) or ``InvalidTagCount`` (AddTags / RemoveTags)."""
    if code == "InvalidTagCount":
        return CloudError(code, "The specified tags are beyond the permitted range.", 400)
    return CloudError(code, "The Tags parameter's number is exceed , Valid : 20", 400)


def duplicate_tag_key() -> CloudError:
    return CloudError("Duplicate.TagKey", "The Tag.N.Key contain duplicate key.", 400)


def invalid_tag_key() -> CloudError:
    return CloudError("InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid.", 400)


def invalid_tag_value() -> CloudError:
    return CloudError("InvalidTagValue.Malformed", "The specified Tag.n.Value is not valid.", 400)


def tag_mismatch() -> CloudError:
    return CloudError("InvalidTag.Mismatch", "The specified Tag.n.Key and Tag.n.Value are not match.", 400)


def tag_quota_exceeded() -> CloudError:
    return CloudError("OperationDenied.QuotaExceed", "The quota of tags on resource is beyond permitted range.", 400)
