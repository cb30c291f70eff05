from __future__ import annotations

from pathlib import Path
from typing import Any

from ecs_events.runtime.fc import Context, invoke

ENV = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.ak",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sk",
    "ALIBABA_CLOUD_SECURITY_TOKEN": "token",
    "FC_ACCOUNT_ID": "1234567890123456",
    "FC_FUNCTION_NAME": "on-event",
    "FC_FUNCTION_HANDLER": "index.handler",
    "FC_FUNCTION_MEMORY_SIZE": "256",
    "FC_REGION": "cn-shanghai",
    "FC_SERVICE_NAME": "ecs-events",
    "FC_QUALIFIER": "prod",
}


def test_context_from_environment() -> None:
    ctx = Context.from_env(ENV, request_id="req-1")
    assert ctx.request_id == "req-1"
    assert (ctx.credentials.access_key_id, ctx.credentials.access_key_secret, ctx.credentials.security_token) == (
        "STS.ak",
        "sk",
        "token",
    )
    assert ctx.credentials.accessKeyId == "STS.ak"
    assert (ctx.function.name, ctx.function.handler, ctx.function.memory) == ("on-event", "index.handler", 256)
    assert (ctx.service.name, ctx.service.qualifier) == ("ecs-events", "prod")
    assert ctx.region == "cn-shanghai"
    assert ctx.account_id == "1234567890123456"


def test_context_defaults_with_an_empty_environment() -> None:
    ctx = Context.from_env({})
    assert ctx.request_id
    assert ctx.credentials.access_key_id is None
    assert ctx.region == "cn-hangzhou"
    assert ctx.account_id is None
    assert ctx.function.memory == 512


def test_invoke_passes_the_file_bytes_unparsed(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def handler(event: bytes, context: Context) -> str:
        seen["event"], seen["context"] = event, context
        return "ok"

    path = tmp_path / "event.json"
    path.write_bytes(b'{"a": 1}\n')
    ctx = Context.from_env(ENV)
    assert invoke(handler, path, ctx) == "ok"
    assert seen["event"] == b'{"a": 1}\n'
    assert type(seen["event"]) is bytes
    assert seen["context"] is ctx
    invoke(handler, "text body")
    assert seen["event"] == b"text body"
