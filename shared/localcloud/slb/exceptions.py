"""SLB errors with the codes, HTTP statuses and messages the real classic SLB (2014-05-15) answers with.

Sources: the SLB API reference and the error handling of terraform-provider-alicloud, which matches on
``InvalidLoadBalancerId.NotFound``, ``BackendServer.configuring`` and, for a missing VServer group, the code
``InvalidParameter`` with the message "The specified VServerGroupId does not exist".
"""

from __future__ import annotations

from localcloud.errors import CloudError, invalid_parameter, missing_parameter

__all__ = [
    "backend_already_exists",
    "backend_configuring",
    "invalid_parameter",
    "invalid_server_id",
    "load_balancer_not_found",
    "missing_parameter",
    "vserver_group_not_found",
]


def load_balancer_not_found(lb_id: str) -> CloudError:
    return CloudError("InvalidLoadBalancerId.NotFound", f"The specified LoadBalancerId {lb_id} does not exist.", 400)


def vserver_group_not_found(group_id: str) -> CloudError:
    return CloudError("InvalidParameter", f"The specified VServerGroupId does not exist: {group_id}.", 400)


def invalid_server_id(server_id: str) -> CloudError:
    return CloudError("InvalidServerId.NotFound", f"The specified ServerId {server_id} does not exist.", 400)


def backend_configuring() -> CloudError:
    return CloudError(
        "BackendServer.configuring",
        "A previous configuration of the load balancer is pending; please try again later.",
        409,
    )


def backend_already_exists(server_id: str) -> CloudError:
    # The API reference says adding a server that is already a backend "returns an error" without naming the code.
    return invalid_parameter("BackendServers", server_id, "the backend server is already added")
