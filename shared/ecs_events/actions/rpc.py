"""One RPC call through aliyunsdkcore (ECS, SLB, CMS): a fresh request object per attempt (a reused one grows its
URL until the server answers 431), JSON accepted, https unless talking to a localcloud, retried by ``retry.call``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ecs_events import retry


def rpc_call(client: Any, what: str, build: Callable[[], Any], *, https: bool) -> dict[str, Any]:
    """``build()`` a request on every attempt and send it; the decoded JSON body. ``what``: ``"Ecs.RebootInstance"``."""

    def attempt() -> dict[str, Any]:
        request = build()
        request.set_accept_format("json")
        if https:
            request.set_protocol_type("https")
        body: dict[str, Any] = json.loads(client.do_action_with_exception(request))
        return body

    return retry.call(attempt, what=what)
