"""ECS wire: reads RPC parameters, calls the models, shapes the JSON the SDK expects."""

from __future__ import annotations

from typing import Any

from localcloud.core import CloudContext
from localcloud.errors import CloudError
from localcloud.rpc import RpcCall


class EcsService:
    product = "Ecs"
    version = "2014-05-26"

    def __init__(self, ctx: CloudContext) -> None:
        self.ctx = ctx

    def handle(self, call: RpcCall) -> dict[str, Any]:
        raise CloudError("InvalidAction.NotFound", f"Specified api is not found: {call.action}", 404)

    def reset(self) -> None:
        pass
