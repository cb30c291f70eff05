"""Fixtures for the actions: ``Clients`` against the ``localcloud`` fixture, instances and fleets made through the
SDK, and the retry sleep patched so no test waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_mock import MockerFixture

from ecs_events import retry
from ecs_events.runtime.clients import Clients, Credentials
from ecs_events.runtime.settings import Settings
from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetSummary
from localcloud.testing import run_instances


@pytest.fixture(autouse=True)
def no_sleep(mocker: MockerFixture) -> Iterator[Any]:
    """Retries never wait; ``stats`` starts empty in every test."""
    retry.stats.clear()
    yield mocker.patch("ecs_events.retry.sleep")
    retry.stats.clear()


def make_settings(cloud: LocalCloud, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "region": cloud.region_id,
        "localcloud": cloud.url,
        "account_id": cloud.account_id,
        "dry_run": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def clients_for(localcloud: LocalCloud) -> Callable[..., Clients]:
    """``clients_for(credentials, **settings)``: Clients against localcloud with other credentials or settings."""

    def _make(credentials: Credentials, **overrides: Any) -> Clients:
        return Clients(make_settings(localcloud, **overrides), credentials)

    return _make


@pytest.fixture
def credentials(localcloud: LocalCloud) -> Credentials:
    return Credentials(localcloud.access_key_id, localcloud.access_key_secret)


@pytest.fixture
def clients(localcloud: LocalCloud, credentials: Credentials) -> Clients:
    return Clients(make_settings(localcloud), credentials)


@pytest.fixture
def dry_clients(localcloud: LocalCloud, credentials: Credentials) -> Clients:
    return Clients(make_settings(localcloud, dry_run=True), credentials)


@pytest.fixture
def running(localcloud: LocalCloud) -> Callable[..., list[str]]:
    """``running(amount=1, tags=..., data_disks=[{"Size": 100}], spot=False)``: instance ids, already Running."""

    def _running(*args: Any, **kwargs: Any) -> list[str]:
        ids = run_instances(localcloud, *args, **kwargs)
        localcloud.advance(60)
        return ids

    return _running


FLEET: dict[str, Any] = {
    "instances": [
        {"name": "web", "count": 3, "tags": {"app": "web"}},
        {"name": "other", "count": 2},
    ],
    "load_balancers": [
        {
            "name": "web-lb",
            "backends": [{"instances": "web", "weight": 100}],
            "vserver_groups": [{"name": "web-8080", "backends": [{"instances": "web", "port": 8080, "weight": 80}]}],
        },
        {
            "name": "mixed-lb",
            "backends": [{"instances": "other", "weight": 50}],
            "vserver_groups": [{"name": "mixed-9000", "backends": [{"instances": "web", "port": 9000, "weight": 30}]}],
        },
    ],
}


@pytest.fixture
def fleet(localcloud: LocalCloud) -> FleetSummary:
    summary = localcloud.load_fleet(FLEET)
    localcloud.advance(60)
    localcloud.call_log.clear()
    return summary
