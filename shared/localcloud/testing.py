"""pytest plugin: the ``localcloud`` fixture.

Register with ``pytest_plugins = ["localcloud.testing"]``. One server per test session; every test gets it
started and reset (fresh state, ids from the seed, manual clock at its fixed start, no faults, no event targets).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

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


def sdk_call(client: Any, request: Any) -> dict[str, Any]:
    """Send one aliyunsdkcore request and decode its JSON body."""
    result: dict[str, Any] = json.loads(client.do_action_with_exception(request))
    return result


def sdk_error(client: Any, request: Any) -> Any:
    """Send a request that must fail with a ServerException and return it (``get_error_code()``,
    ``get_http_status()``, ``get_error_msg()``)."""
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    with pytest.raises(ServerException) as info:
        client.do_action_with_exception(request)
    return info.value
