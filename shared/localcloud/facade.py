"""What the control API and the fleet builder use of a ``LocalCloud`` (``localcloud.cloud``), as a protocol.

``LocalCloud`` builds its ``ControlApi`` and loads fleets; both only read its services and drive its clock. Typing
them against this protocol instead of the class keeps the imports one way: cloud -> control, fleet -> facade.
"""

from __future__ import annotations

from typing import Any, Protocol

from localcloud.alb import AlbService
from localcloud.core import CallLog, Clock, CloudContext, Faults
from localcloud.ecs import EcsService
from localcloud.mns import MnsService
from localcloud.nlb import NlbService
from localcloud.slb import SlbService


class Cloud(Protocol):
    """The services, the context and the clock of one local cloud, and the few actions on them."""

    ctx: CloudContext
    account_id: str
    region_id: str
    ecs: EcsService
    slb: SlbService
    alb: AlbService
    nlb: NlbService
    mns: MnsService

    @property
    def clock(self) -> Clock: ...
    @property
    def call_log(self) -> CallLog: ...
    @property
    def faults(self) -> Faults: ...
    def advance(self, seconds: float) -> None: ...
    def reset(self) -> None: ...
    def acs_client(self, region_id: str | None = None, **kw: Any) -> Any: ...
    def route_events_to_queue(self, name: str, create: bool = True, retention: int | None = None) -> None: ...
    def route_events_to_topic(self, name: str, create: bool = True) -> None: ...
