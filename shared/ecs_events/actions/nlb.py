"""NLB (Network Load Balancer, 2022-04-30) actions through the legacy ``aliyun-python-sdk-nlb``: find an instance's
server groups, drain, restore, remove, and whether a change has settled (``server_groups`` has the how).

At most 200 servers per call. The legacy SDK names its list setters with a doubled ``s`` (``set_ServerIdss``,
``set_Serverss``, ``set_ServerGroupIdss``) and sends everything in the form body. Connection draining is the group's
flat ``ConnectionDrainEnabled`` / ``ConnectionDrainTimeout``. Members of an all-port group sit on port 0 and are
sent without ``Port``.
"""

from __future__ import annotations

from typing import Any

from ecs_events.actions.server_groups import Product, ServerGroups


def _drain_timeout(group: dict[str, Any]) -> int | None:
    if not group.get("ConnectionDrainEnabled"):
        return None
    try:
        return int(group.get("ConnectionDrainTimeout", 0))
    except (TypeError, ValueError):
        return 0


NLB = Product(
    name="Nlb",
    kind="nlb",
    module="aliyunsdknlb.request.v20220430",
    update_batch=200,
    remove_batch=200,
    drain_timeout=_drain_timeout,
    setters={"ServerIds": "set_ServerIdss", "Servers": "set_Serverss", "ServerGroupIds": "set_ServerGroupIdss"},
    port_optional=True,
)


class Nlb(ServerGroups):
    product = NLB
