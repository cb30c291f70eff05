"""The storm under a flaky cloud: 20% Throttling, 5% InternalError/ServiceUnavailable and 2% connection resets on
EVERY API, MNS included. The end state is the storm's; the retries it took are read off the cloud's call log (calls
answered with an error code; a reset leaves no record) and must stay bounded."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from tests.reliability.harness import INJECTED, Storm, check_end_state, figures, report

from localcloud.remote import RemoteCloud

N = 60
ERROR_SHARE = 0.20 + 0.80 * 0.05  # what the rules refuse of the calls that reach them
RETRY_BOUND = 0.40  # refused calls may be at most this share of all calls (expected ~0.24)


def test_storm_under_throttling_errors_and_resets_ends_the_same(
    served: RemoteCloud, clean_redis: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    storm = Storm(served, clean_redis, tmp_path, n=N, seed=11)
    storm.allowed_exits = (0, 1)  # a receive that kept failing ends a consumer run with exit 1: the next one goes on
    storm.build()
    storm.schedule()
    setup = len(served.calls())
    rule = served.faults("*", "*", throttling_rate=0.2, error_rate=0.05, reset_rate=0.02)
    assert rule["rule"]["throttling_rate"] == 0.2
    storm.run(step=60, bound=80)
    served.clear_faults()
    assert storm.finished(), f"not finished after {storm.steps} steps" + storm.unfinished()
    calls = served.calls(since=setup)
    check_end_state(storm, calls)
    refused = [c for c in calls if c["code"] not in (None, "MessageNotExist")]  # an empty receive is no fault
    codes = Counter(c["code"] for c in refused)
    assert set(codes) <= INJECTED, codes
    assert refused, "no fault was injected"
    share = len(refused) / len(calls)
    assert share <= RETRY_BOUND, f"{len(refused)} refused of {len(calls)} calls"
    exits = Counter(code for r in storm.rounds for code in r.exits)
    lines = figures(storm, calls, time.monotonic() - started)
    lines += [
        f"refused calls {len(refused)} of {len(calls)} ({share:.1%}; injected ~{ERROR_SHARE:.0%}; bound "
        f"{RETRY_BOUND:.0%}): " + ", ".join(f"{k} {v}" for k, v in codes.most_common()),
        f"consumer exits: {dict(exits)}",
    ]
    report(f"faults (N={N}, 20% throttling, 5% errors, 2% resets on every API)", lines)
