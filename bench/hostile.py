"""Worst cases of the input path: 6 MiB bodies of hostile shapes through ``sources.unwrap``, each in a fresh process.

For each shape: wall time of ``unwrap`` and the peak memory it added (``ru_maxrss`` after minus before), with the
same measure for ``json.loads`` of the same bytes as the baseline (the parse every consumer of the body pays anyway).
The limits it shows: a body over the size limit is refused from its length; a batch over 10,000 items is refused
before any per-item work; what remains is the JSON parser building the containers it was given.

    .venv/bin/python bench/hostile.py            # every shape, best of 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

LIMIT = 6 * 1024 * 1024  # the batch limit (sources.decode.MAX_BATCH_BYTES)

# Built by repetition (no big intermediate list): the peak measured is unwrap's own.
SHAPES = {
    "[1,1,...]": "b'[' + b'1,' * ((LIMIT - 3) // 2) + b'1]'",
    "[{},{},...]": "b'[' + b'{},' * ((LIMIT - 4) // 3) + b'{}]'",
    "[[],[],...]": "b'[' + b'[],' * ((LIMIT - 4) // 3) + b'[]]'",
    '[{"a":1},...]': "b'[' + b'{\"a\":1},' * ((LIMIT - 9) // 8) + b'{\"a\":1}]'",
    "[[{},{},...]] (one item)": "b'[[' + b'{},' * ((LIMIT - 6) // 3) + b'{}]]'",
    "10,000 bad events": "b'[' + b'{\"name\":\"Instance:X:Y\",\"content\":1},' * 9999 + b'{}]'",
    "a 64 KiB string": "b'\"' + b'x' * (64 * 1024 - 2) + b'\"'",
    "6 MiB + 1 byte": "b'[' + b'1,' * (LIMIT // 2) + b'1]'",
}

CHILD = """
import json, resource, sys, time
from ecs_events.errors import InputError
from ecs_events.sources import unwrap
LIMIT = {limit}
body = {expr}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if {baseline}:
    try:
        json.loads(body)
    except Exception:
        pass
    outcome = "json.loads"
else:
    try:
        outcome = f"{{len(unwrap(body))}} deliveries"
    except InputError as exc:
        outcome = "refused: " + type(exc).__name__
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({{"seconds": elapsed, "peak_mib": peak / 1024, "outcome": outcome}}))
"""


def measure(expr: str, baseline: bool) -> dict[str, object]:
    code = CHILD.format(expr=expr, baseline=baseline, limit=LIMIT)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'shape':28} {'unwrap s':>9} {'peak MiB':>9} {'json.loads s':>13} {'peak MiB':>9}  outcome")
    worst_time = worst_peak = 0.0
    for name, expr in SHAPES.items():
        ours = [measure(expr, baseline=False) for _ in range(args.rounds)]
        base = [measure(expr, baseline=True) for _ in range(args.rounds)]
        t = min(float(str(r["seconds"])) for r in ours)
        m = min(float(str(r["peak_mib"])) for r in ours)
        bt = min(float(str(r["seconds"])) for r in base)
        bm = min(float(str(r["peak_mib"])) for r in base)
        worst_time, worst_peak = max(worst_time, t), max(worst_peak, m)
        print(f"{name:28} {t:9.3f} {m:9.1f} {bt:13.3f} {bm:9.1f}  {ours[0]['outcome']}")
    print(f"worst: {worst_time:.2f} s, {worst_peak:.0f} MiB added (best of {args.rounds} per shape)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
