"""ALB (Application Load Balancer, 2020-06-16) actions through the legacy ``aliyun-python-sdk-alb``: find an
instance's server groups, drain, restore, remove, and whether a change has settled (``server_groups`` has the how).

At most 40 servers per UpdateServerGroupServersAttribute and 200 per RemoveServersFromServerGroup. Connection
draining is the group's ``ConnectionDrainConfig`` (Standard and WAF editions).
"""

from __future__ import annotations

from typing import Any

from ecs_events.actions.server_groups import Product, ServerGroups


def _drain_timeout(group: dict[str, Any]) -> int | None:
    config = group.get("ConnectionDrainConfig") or {}
    if not config.get("ConnectionDrainEnabled"):
        return None
    try:
        return int(config.get("ConnectionDrainTimeout", 300))  # the documented default
    except (TypeError, ValueError):
        return 300


ALB = Product(
    name="Alb",
    kind="alb",
    module="aliyunsdkalb.request.v20200616",
    update_batch=40,
    remove_batch=200,
    drain_timeout=_drain_timeout,
)


class Alb(ServerGroups):
    product = ALB
