"""The bounds of every duration-valued setting, one table for the policy file and the instance tags.

Each is far beyond any sensible value and far inside what ``datetime`` arithmetic can take: the engine computes
``notBefore - lead``, ``now + max_drain``, ``now + max(poll_interval, drain_period)`` and window slots, and none of
them may overflow for any value the policy accepts (README "Policy and tags" lists these bounds).
"""

from __future__ import annotations

from datetime import timedelta

from ecs_events.policy.durations import Bounds

LEAD = Bounds(timedelta(days=7))
"""``lead`` (file, ``events:``, the ``ecs-events:lead`` tag): 0s to 7d. notBefore is at most days ahead."""
DRAIN_PERIOD = Bounds(timedelta(days=1))
"""``drain_period``: 0s to 1d (and never longer than ``max_drain``)."""
MAX_DRAIN = Bounds(timedelta(days=1), positive=True)
"""``max_drain``: more than 0s, at most 1d; nothing stays drained longer."""
POLL_INTERVAL = Bounds(timedelta(hours=1), positive=True)
"""``poll_interval``: more than 0s, at most 1h."""
COMMAND_TIMEOUT = Bounds(timedelta(days=1), at_least=timedelta(seconds=10), why="Cloud Assistant's range")
"""``pre_reboot_command.timeout``: 10s to 1d, what RunCommand accepts."""
WINDOW_DURATION = Bounds(timedelta(days=7), positive=True)
"""A cron window's ``duration``: more than 0s, at most 7d."""
