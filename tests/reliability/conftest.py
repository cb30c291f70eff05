"""Fixtures of the reliability suites (the harness itself is tests/reliability/harness.py): a served localcloud
subprocess per test, a clean Redis database, one invariants ``History`` (``h``) for the scenario tests, and the
figures of every suite in the terminal summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from tests.reliability.harness import FIGURES, flush, serve_localcloud
from tests.reliability.invariants_support import History

from localcloud.cloud import LocalCloud
from localcloud.remote import RemoteCloud


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """``make test`` shows every suite's figures at the end (pytest captures the tests' own output)."""
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for title, lines in FIGURES:
        terminalreporter.write_line(title)
        for line in lines:
            terminalreporter.write_line(f"   {line}")


# -- the served cloud --------------------------------------------------------------------------------------------------
@pytest.fixture
def served() -> Iterator[RemoteCloud]:
    """A localcloud in its own process, manual clock, on a free port."""
    with serve_localcloud() as cloud:
        yield cloud


@pytest.fixture
def clean_redis(redis_url: str) -> str:
    """The session's real redis-server, FLUSHDB first."""
    return flush(redis_url)


# -- one history of the invariant state machine's driver, for the scenario tests ---------------------------------------
@pytest.fixture
def h(localcloud: LocalCloud) -> Iterator[History]:
    """A fleet on the shared localcloud driven by ``invariants_support.History``; retries never wait for real."""
    with mock.patch("ecs_events.retry.sleep"):
        history = History(localcloud)
        try:
            yield history
        finally:
            history.close()
