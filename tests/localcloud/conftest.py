"""Helpers for localcloud tests: an SDK client against the ``localcloud`` fixture and small call wrappers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.RunInstancesRequest import RunInstancesRequest

from localcloud.cloud import LocalCloud
from localcloud.testing import sdk_call as call


@pytest.fixture
def client(localcloud: LocalCloud) -> AcsClient:
    return localcloud.acs_client()


@pytest.fixture
def run(client: AcsClient) -> Callable[..., list[str]]:
    """``run(amount=2, tags={...}, data_disks=[...], spot=False, name=None)`` -> instance ids via RunInstances."""

    def _run(
        amount: int = 1,
        tags: dict[str, str] | None = None,
        data_disks: list[dict[str, Any]] | None = None,
        spot: bool = False,
        name: str | None = None,
    ) -> list[str]:
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
        ids: list[str] = call(client, request)["InstanceIdSets"]["InstanceIdSet"]
        return ids

    return _run


@pytest.fixture
def running(localcloud: LocalCloud, run: Callable[..., list[str]]) -> Callable[..., list[str]]:
    """Like ``run`` but advances the clock until the instances are Running."""

    def _running(*args: Any, **kwargs: Any) -> list[str]:
        ids = run(*args, **kwargs)
        localcloud.advance(60)
        return ids

    return _running
