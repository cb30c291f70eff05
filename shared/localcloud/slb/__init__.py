"""Classic SLB (API version 2014-05-15): load balancers, backend servers with weights, VServer groups."""

from __future__ import annotations

from localcloud.slb.service import SlbService

__all__ = ["SlbService"]
