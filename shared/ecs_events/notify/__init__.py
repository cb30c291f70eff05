"""Notifications: ``Notice`` (what happened), senders (DingTalk, webhook, log) and the outbox that delivers them.

The engine never sends: it commits ``outbox_writes(notices)`` with the saga, and ``Outbox.deliver`` sends later,
retrying per sender with backoff and keeping what it gives up on as ``dead``.
"""

from ecs_events.notify.notice import Notice, NotifyError, escape, notice_id, render_text
from ecs_events.notify.outbox import Outbox, OutboxItem, OutboxReport, dead, outbox_writes, pending, requeue
from ecs_events.notify.senders import (
    DingTalkSender,
    LogSender,
    Sender,
    SendError,
    Throttled,
    WebhookSender,
    senders_from_urls,
)

__all__ = [
    "DingTalkSender",
    "LogSender",
    "Notice",
    "NotifyError",
    "Outbox",
    "OutboxItem",
    "OutboxReport",
    "SendError",
    "Sender",
    "Throttled",
    "WebhookSender",
    "dead",
    "escape",
    "notice_id",
    "outbox_writes",
    "pending",
    "render_text",
    "requeue",
    "senders_from_urls",
]
