"""Network Load Balancer (API version 2022-04-30): the server-group model of ``localcloud.alb`` with NLB's wire."""

from __future__ import annotations

from localcloud.nlb.service import NlbService

__all__ = ["NlbService"]
