"""Application Load Balancer (API version 2020-06-16): load balancers, listeners, server groups, async member jobs.

The model (``localcloud.alb.models``) serves NLB (``localcloud.nlb``) too: the two APIs differ in limits, spelling
and response shapes, not in how server groups behave.
"""

from __future__ import annotations

from localcloud.alb.service import AlbService, LbService

__all__ = ["AlbService", "LbService"]
