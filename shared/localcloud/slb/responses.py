"""SLB wire layer (placeholder until the full service lands)."""

from __future__ import annotations

from typing import Any

from localcloud.core import CloudContext
from localcloud.errors import CloudError
from localcloud.rpc import RpcCall


class SlbService:
    product = "Slb"
    version = "2014-05-15"

    def __init__(self, ctx: CloudContext) -> None:
        self.ctx = ctx

    def reset(self) -> None:
        pass

    def handle(self, call: RpcCall) -> dict[str, Any]:
        raise CloudError("InvalidAction.NotFound", f"Specified api {call.action} is not found.", 404)
