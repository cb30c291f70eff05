"""MNS (Message Service): queues and topics over the real REST/XML wire the aliyun-mns-sdk speaks."""

from __future__ import annotations

from localcloud.mns.service import MnsService

__all__ = ["MnsService"]
