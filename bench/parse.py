"""Per-event cost of detect + unwrap + validate (``ecs_events.sources.unwrap``) over the sample corpus, side by
side with plain ``json.loads`` of the same bytes in the same run, reported as a ratio per delivery format.

Target: raw CloudMonitor payloads at most 3x json.loads. Run: ``make bench`` or ``python bench/parse.py``.
Each figure is the best of ``--repeat`` rounds (the machines are shared; the minimum is the least noisy).
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from ecs_events.sources import unwrap

SAMPLES = Path(__file__).resolve().parents[1] / "events" / "samples"


def corpus() -> dict[str, list[bytes]]:
    """Good samples grouped by the source their first delivery reports."""
    groups: dict[str, list[bytes]] = defaultdict(list)
    for folder in ("seed", "cloudmonitor", "delivery"):
        for path in sorted((SAMPLES / folder).iterdir()):
            body = path.read_bytes()
            groups[unwrap(body)[0].source.value].append(body)
    return groups


def baseline(body: bytes) -> object:
    """Plain json.loads of the same bytes (after base64 decoding, for MNS queue bodies that are base64)."""
    stripped = body.strip()
    return json.loads(stripped if stripped[:1] in (b"{", b"[") else base64.b64decode(stripped))


def per_call(fn: Callable[[bytes], object], bodies: list[bytes], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        for body in bodies:
            fn(body)
    return (time.perf_counter() - start) / (loops * len(bodies))


def best_pair(bodies: list[bytes], loops: int, repeat: int) -> tuple[float, float]:
    """Best of ``repeat`` rounds for baseline and unwrap, alternating within each round so both see the same
    machine (it is shared and noisy)."""
    base = ours = float("inf")
    for _ in range(repeat):
        base = min(base, per_call(baseline, bodies, loops))
        ours = min(ours, per_call(unwrap, bodies, loops))
    return base, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{'source':<18}{'files':>6}{'json.loads us':>15}{'unwrap us':>12}{'ratio':>8}")
    for source, bodies in sorted(corpus().items()):
        base, ours = best_pair(bodies, args.loops, args.repeat)
        print(f"{source:<18}{len(bodies):>6}{base * 1e6:>15.2f}{ours * 1e6:>12.2f}{ours / base:>7.2f}x")


if __name__ == "__main__":
    main()
