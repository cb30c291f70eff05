"""Test support for tests/store: a clock moved by hand."""

from __future__ import annotations


class FakeClock:
    """Seconds since the epoch, moved by hand: marker expiry without sleeping."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now
