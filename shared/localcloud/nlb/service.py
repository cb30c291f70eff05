"""``NlbService``: NLB 2022-04-30 over the shared server-group model."""

from __future__ import annotations

from localcloud.alb.models import NLB
from localcloud.alb.service import LbService
from localcloud.nlb.responses import ACTIONS


class NlbService(LbService):
    flavor = NLB
    product = "Nlb"
    version = "2022-04-30"
    actions = ACTIONS
