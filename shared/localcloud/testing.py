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
from localcloud.core import CallRecord


@pytest.fixture(scope="session")
def _localcloud_server() -> Iterator[LocalCloud]:
    # One server for the whole session: a generous idle timeout, so an SDK's pooled keep-alive connection is not
    # closed under a slow test by accident (tests that want the 30 s default start their own LocalCloud).
    cloud = LocalCloud(seed=0, idle_timeout=300)
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


def _acs(client: Any) -> Any:
    return client.acs_client() if isinstance(client, LocalCloud) else client


def sdk_call(client: Any, request: Any) -> dict[str, Any]:
    """Send one aliyunsdkcore request and decode its JSON body. ``client`` is an AcsClient or a LocalCloud (its
    ``acs_client()``)."""
    result: dict[str, Any] = json.loads(_acs(client).do_action_with_exception(request))
    return result


def sdk_error(client: Any, request: Any) -> Any:
    """Send a request that must fail with a ServerException and return it (``get_error_code()``,
    ``get_http_status()``, ``get_error_msg()``). ``client`` is an AcsClient or a LocalCloud."""
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    with pytest.raises(ServerException) as info:
        _acs(client).do_action_with_exception(request)
    return info.value


def mns_error(fn: Any, *args: Any) -> Any:
    """Call an aliyun-mns-sdk method that must fail with an MNSServerException and return it (``.type``,
    ``.status``, ...)."""
    from mns.mns_exception import MNSServerException

    with pytest.raises(MNSServerException) as info:
        fn(*args)
    return info.value


def last_call(cloud: LocalCloud, action: str, product: str | None = None) -> CallRecord:
    """The last call of ``action`` (of ``product``, if given) in the cloud's call log."""
    return cloud.call_log.calls(action, product)[-1]


def make_queue(cloud: LocalCloud, name: str = "q1", encoding: bool = True, **meta: Any) -> Any:
    """Create an MNS queue through the SDK (``meta``: QueueMeta keyword arguments) and return the SDK Queue."""
    from mns.queue import QueueMeta

    queue = cloud.mns_account().get_queue(name)
    queue.set_encoding(encoding)
    queue.create(QueueMeta(**meta))
    return queue


def run_instances(
    client: Any,
    amount: int = 1,
    *,
    tags: dict[str, str] | None = None,
    data_disks: list[dict[str, Any]] | None = None,
    spot: bool = False,
    name: str | None = None,
) -> list[str]:
    """RunInstances through the SDK (``client``: an AcsClient or a LocalCloud); the new instance ids."""
    from aliyunsdkecs.request.v20140526.RunInstancesRequest import RunInstancesRequest

    request = RunInstancesRequest()
    request.set_ImageId("aliyun_3_x64_20G_alibase_20240819.vhd")
    request.set_InstanceType("ecs.g6.large")
    request.set_Amount(amount)
    if tags:
        request.set_Tags([{"Key": k, "Value": v} for k, v in tags.items()])
    if data_disks:
        request.set_DataDisks(data_disks)
    if spot:
        request.set_SpotStrategy("SpotAsPriceGo")
    if name:
        request.set_InstanceName(name)
    ids: list[str] = sdk_call(client, request)["InstanceIdSets"]["InstanceIdSet"]
    return ids
