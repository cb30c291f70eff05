"""The remediation policy: when and how disruptive steps may happen. Pure: no cloud calls, only reads its file.

``load_policy(path)`` -> ``Policy``; ``Policy.resolve(event_type, tags)`` -> ``Effective`` (defaults, then the
matching ``events:`` overrides, then the instance's tags); ``reboot_at(not_before, now, window, lead)`` picks when to
start; ``Window.next_slot(after)`` and ``Window.slots_on(day)`` list window slots. Every key is documented in
``events/policies/example.yaml``.
"""

from __future__ import annotations

from ecs_events.policy.cron import CronSpec
from ecs_events.policy.durations import Duration, format_duration, parse_duration
from ecs_events.policy.errors import PolicyError
from ecs_events.policy.families import FAMILIES, KNOWN_EVENT_TYPES, canonical_event_type, family_of
from ecs_events.policy.loader import load_policy, parse_policy
from ecs_events.policy.model import Budget, Command, Effective, EventOverride, Policy, Snapshots
from ecs_events.policy.tags import parse_window_tag, tag_overrides
from ecs_events.policy.windows import HORIZON_DAYS, Slot, Window, reboot_at

__all__ = [
    "FAMILIES",
    "HORIZON_DAYS",
    "KNOWN_EVENT_TYPES",
    "Budget",
    "Command",
    "CronSpec",
    "Duration",
    "Effective",
    "EventOverride",
    "Policy",
    "PolicyError",
    "Slot",
    "Snapshots",
    "Window",
    "canonical_event_type",
    "family_of",
    "format_duration",
    "load_policy",
    "parse_duration",
    "parse_policy",
    "parse_window_tag",
    "reboot_at",
    "tag_overrides",
]
