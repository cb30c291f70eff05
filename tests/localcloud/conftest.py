"""Helpers for localcloud tests: an SDK client against the ``localcloud`` fixture and small call wrappers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aliyunsdkcore.client import AcsClient

from localcloud.cloud import LocalCloud
from localcloud.testing import run_instances


@pytest.fixture
def client(localcloud: LocalCloud) -> AcsClient:
    return localcloud.acs_client()


@pytest.fixture
def run(client: AcsClient) -> Callable[..., list[str]]:
    """``run(amount=2, tags={...}, data_disks=[...], spot=False, name=None)`` -> instance ids via RunInstances."""

    def _run(*args: Any, **kwargs: Any) -> list[str]:
        return run_instances(client, *args, **kwargs)

    return _run


@pytest.fixture
def running(localcloud: LocalCloud, run: Callable[..., list[str]]) -> Callable[..., list[str]]:
    """Like ``run`` but advances the clock until the instances are Running."""

    def _running(*args: Any, **kwargs: Any) -> list[str]:
        ids = run(*args, **kwargs)
        localcloud.advance(60)
        return ids

    return _running
