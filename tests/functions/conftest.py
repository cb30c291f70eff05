"""The FC functions end to end: ``functions/<name>/index.py`` loaded as FC loads them, invoked with raw bytes and an
FC-shaped Context, against localcloud (real SDKs over HTTP) with the settings FC would pass in the environment."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ecs_events.cli.replay_cmd import load_function
from ecs_events.runtime import fc, handlers
from localcloud.cloud import LocalCloud

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
SAMPLES = ROOT / "events" / "samples"
QUEUE = "ecs-events"
DLQ = "ecs-events-dlq"
TAG = {"ecs-events:managed": "true"}


def context(
    name: str,
    *,
    timeout: int = 60,
    request_id: str = "req-test",
    credentials: fc.Credentials | None = None,
) -> fc.Context:
    """The Context FC passes (python3.10): function name and timeout, request id, the service role's credentials."""
    return fc.Context(
        request_id=request_id,
        credentials=credentials or fc.Credentials(),
        function=fc.FunctionMeta(name=name, timeout=timeout),
        service=fc.ServiceMeta(),
        region="cn-hangzhou",
        account_id=None,
    )


def timer_event(payload: dict[str, Any] | None = None) -> bytes:
    return json.dumps(
        {"triggerTime": "2026-11-26T02:00:00Z", "triggerName": "consume", "payload": json.dumps(payload or {})}
    ).encode()


def read_dlq(cloud: LocalCloud) -> list[dict[str, Any]]:
    """Every dead-letter record, read (and deleted) through the MNS SDK, decoded from base64 as sent."""
    from mns.mns_exception import MNSServerException

    queue = cloud.mns_account().get_queue(DLQ)
    queue.set_encoding(True)
    records: list[dict[str, Any]] = []
    while True:
        try:
            messages = queue.batch_receive_message(16, 0)
        except MNSServerException as exc:
            if exc.type == "MessageNotExist":
                return records
            raise
        for message in messages:
            records.append(json.loads(message.message_body))
            queue.delete_message(message.receipt_handle)


@dataclass
class Functions:
    cloud: LocalCloud
    modules: dict[str, ModuleType]

    def invoke(self, name: str, payload: bytes | str | Path, **ctx: Any) -> Any:
        """``functions/<name>/index.py``'s handler, called as FC calls it (bytes, Context)."""
        return fc.invoke(self.modules[name].handler, payload, context(name, **ctx))

    def dlq(self) -> list[dict[str, Any]]:
        return read_dlq(self.cloud)


@pytest.fixture
def fc_env(
    localcloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mocker: Any
) -> Iterator[LocalCloud]:
    """The environment FC passes the functions (``ECS_EVENTS_*``), pointed at localcloud; the queues exist; no App
    cached before or after; the ``ecs_events`` logger as it was afterwards."""
    mocker.patch("ecs_events.retry.sleep")  # retries never wait for real in tests
    for name in ("FC_FUNCTION_NAME", "FC_FUNC_CODE_PATH", "ALIBABA_CLOUD_ACCESS_KEY_ID",
                 "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN", "ECS_EVENTS_DLQ",
                 "ECS_EVENTS_POLICY", "ECS_EVENTS_WEBHOOKS", "ECS_EVENTS_DRY_RUN", "ECS_EVENTS_TAG"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECS_EVENTS_ACCOUNT_ID", localcloud.account_id)
    monkeypatch.setenv("ECS_EVENTS_REGION", localcloud.region_id)
    monkeypatch.setenv("ECS_EVENTS_LOCALCLOUD", localcloud.url)
    monkeypatch.setenv("ECS_EVENTS_QUEUE", QUEUE)
    monkeypatch.setenv("ECS_EVENTS_STORE", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    localcloud.mns.create_queue(localcloud.account_id, QUEUE)
    localcloud.mns.create_queue(localcloud.account_id, DLQ)
    logger = logging.getLogger("ecs_events")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    monkeypatch.setattr(handlers, "_logs_ready", False)
    handlers.reset()
    try:
        yield localcloud
    finally:
        handlers.reset()
        logger.handlers[:], logger.propagate = saved[0], saved[2]
        logger.setLevel(saved[1])


@pytest.fixture
def functions(fc_env: LocalCloud) -> Functions:
    return Functions(fc_env, {name: load_function(name, FUNCTIONS_DIR) for name in handlers.FUNCTIONS})


def sample(path: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((SAMPLES / path).read_text())
    return result


def for_instance(notification: dict[str, Any], cloud: LocalCloud, instance_id: str, **content: Any) -> dict[str, Any]:
    """A sample notification rewritten to one of localcloud's instances and its account."""
    out: dict[str, Any] = json.loads(json.dumps(notification))
    out["userId"] = cloud.account_id
    out["resourceId"] = f"acs:ecs:{cloud.region_id}:{cloud.account_id}:instance/{instance_id}"
    out["regionId"] = cloud.region_id
    out["content"].update({"instanceId": instance_id, **content})
    return out
