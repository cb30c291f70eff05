"""pytest plugin: the ``localcloud`` fixture.

Register with ``pytest_plugins = ["localcloud.testing"]``. One server per test session; every test gets it
started and reset (fresh state, ids from the seed, manual clock at its fixed start, no faults, no event targets).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcloud.cloud import LocalCloud


@pytest.fixture(scope="session")
def _localcloud_server() -> Iterator[LocalCloud]:
    cloud = LocalCloud(seed=0)
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture
def localcloud(_localcloud_server: LocalCloud) -> Iterator[LocalCloud]:
    """A started LocalCloud, reset before and after the test."""
    _localcloud_server.reset()
    try:
        yield _localcloud_server
    finally:
        _localcloud_server.reset()
