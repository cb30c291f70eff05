"""Errors of ALB (2020-06-16) and NLB (2022-04-30) with the codes, statuses and messages the real APIs answer with.

Sources: the NLB API reference error tables (AddServersToServerGroup, RemoveServersFromServerGroup,
UpdateServerGroupServersAttribute, DeleteServerGroup: ``IncorrectStatus.serverGroup`` 400, ``Conflict.Lock`` 400,
``ResourceNotFound.serverGroup`` 404, ``ResourceNotFound.BackendServer`` 404, ``ResourceNotFound.Ecs`` 404,
``DuplicatedParam.Server`` 400, ``DryRunOperation`` 400, ``IllegalParam.%s`` 400) and, for ALB, the codes that
terraform-provider-alicloud's ALB resources retry or treat as gone (``IncorrectStatus.ServerGroup``,
``ResourceNotFound.ServerGroup``; ALB capitalises the resource, NLB does not). The NLB tables spell
``ResourceNotFound.loadBalancer`` / ``ResourceNotFound.listener`` the same way. ``ResourceAlreadyExist.Server`` for a
server that is already a member is what controllers in the wild match on; the tables do not list it.
"""

from __future__ import annotations

from dataclasses import dataclass

from localcloud.errors import CloudError


@dataclass(frozen=True)
class Spelling:
    """How one product spells its resource names in error codes: ALB ``ServerGroup``, NLB ``serverGroup``."""

    server_group: str
    load_balancer: str
    listener: str


ALB_SPELLING = Spelling(server_group="ServerGroup", load_balancer="LoadBalancer", listener="Listener")
NLB_SPELLING = Spelling(server_group="serverGroup", load_balancer="loadBalancer", listener="listener")


def not_found(resource: str, resource_id: str) -> CloudError:
    return CloudError(
        f"ResourceNotFound.{resource}", f"The specified resource of {resource} is not found: {resource_id}.", 404
    )


def group_configuring(spelling: Spelling, group_id: str) -> CloudError:
    """A mutation on a server group whose previous change is still being applied."""
    return CloudError(
        f"IncorrectStatus.{spelling.server_group}", f"The status of servergroup [{group_id}] is incorrect.", 400
    )


def backend_not_found(server: str) -> CloudError:
    return CloudError(
        "ResourceNotFound.BackendServer", f"The specified resource of BackendServer is not found: {server}.", 404
    )


def ecs_not_found(instance_id: str) -> CloudError:
    return CloudError("ResourceNotFound.Ecs", f"The specified resource of Ecs is not found: {instance_id}.", 404)


def duplicated_server(server: str) -> CloudError:
    return CloudError("DuplicatedParam.Server", f"The param of Server is duplicated: {server}.", 400)


def server_exists(server: str) -> CloudError:
    return CloudError("ResourceAlreadyExist.Server", f"The specified resource of Server already exists: {server}.", 400)


def listener_exists(port: int) -> CloudError:
    return CloudError("ResourceAlreadyExist.Listener", f"A listener on port {port} already exists.", 400)


def illegal(name: str, value: object, why: str = "") -> CloudError:
    detail = f" ({why})" if why else ""
    return CloudError(f"IllegalParam.{name}", f"The param of {name} is illegal: {value!r}{detail}.", 400)


def missing(name: str) -> CloudError:
    return CloudError(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
        400,
    )


def dry_run() -> CloudError:
    return CloudError("DryRunOperation", "Request validation has been passed with DryRun flag set.", 400)


def unknown_action(action: str) -> CloudError:
    return CloudError("InvalidAction.NotFound", f"Specified api {action} is not found, please check your url.", 404)
