"""The storm: a maintenance reboot for EVERY instance at once (200 in ``make test``, 2000 in ``make soak``), every
notification delivered three times out of order, four consumer processes racing after each clock step. The end state
is read off the cloud: one reboot per instance, one snapshot per disk, every event Avoided before its notBefore,
every weight back, and the disruption budget never exceeded at any moment."""

from __future__ import annotations

import time
from pathlib import Path

from tests.reliability.harness import Storm, check_end_state, figures, report, soak

from localcloud.remote import RemoteCloud


def test_storm_every_instance_rebooted_once_within_budget(
    served: RemoteCloud, clean_redis: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    storm = Storm(served, clean_redis, tmp_path, n=2000 if soak() else 200)
    storm.build()
    storm.schedule()
    served.calls()  # (the call log starts with the setup's own reads: they are not the engine's)
    setup = len(served.calls())
    storm.run(step=60, bound=200)
    assert storm.finished(), f"not finished after {storm.steps} steps" + storm.unfinished()
    calls = served.calls(since=setup)
    end = check_end_state(storm, calls)
    lines = figures(storm, calls, time.monotonic() - started)
    lines.append(f"budget: at most {end['budget_worst']} drained per load balancer (limit {end['budget_limit']})")
    report(f"storm (N={storm.n})", lines)
