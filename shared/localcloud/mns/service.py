"""The MNS service object the server and the LocalCloud facade use (filled in by the MNS work)."""

from __future__ import annotations

from localcloud.core import CloudContext


class MnsService:
    """MNS queues and topics, per account."""

    product = "Mns"

    def __init__(self, ctx: CloudContext) -> None:
        self.ctx = ctx

    def reset(self) -> None:
        """Drop every queue, message, topic and subscription."""

    def handle_http(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        return 501, {}, b""
