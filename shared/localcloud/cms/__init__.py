"""CloudMonitor (CMS, API version 2019-01-01): event rules that route ECS notifications to their targets."""

from __future__ import annotations

from localcloud.cms.service import CmsService, Delivery

__all__ = ["CmsService", "Delivery"]
