"""The raw triage (``ecs_events.runtime.rawsource`` + ``rawtriage``) against the full path, differentially: whenever
it answers a body, ``sources.unwrap`` reads the same one notification from it (same source, message id, event id,
name, kind, instance) and the real engine (``build_app`` over a memory store; none of these events calls the cloud)
gives the same outcome and reason. Bodies: the whole sample corpus, and generated mutations of the no-op events
(wrong types, missing and extra fields, snake_case aliases, other accounts and ARNs, unicode, huge values, duplicate
keys, MNS topic envelopes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_events.errors import InputError
from ecs_events.models import EcsEvent, kind_of
from ecs_events.runtime import rawsource
from ecs_events.runtime.app import App, build_app
from ecs_events.runtime.rawtriage import no_op as raw_no_op
from ecs_events.runtime.settings import Settings
from ecs_events.sources import TimerTick, unwrap
from ecs_events.sources.decode import MAX_BODY_BYTES
from ecs_events.store import Write

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
CORPUS = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and not p.name.endswith(".expected.json"))
ACCOUNT = "1234567890123456"
OTHER = "9999999999999999"
OURS_SNAPSHOT, SAGA_INSTANCE = "s-ours", "i-with-saga"
NO_OPS = [  # the no-op classes, as CloudMonitor sends them
    "snapshot-createsnapshotcompleted-accomplished.json",
    "snapshot-createsnapshotcompleted-failed.json",
    "instance-statechange-running.json",
    "instance-statechange-starting.json",
    "instance-statechange-stopping.json",
    "instance-statechange-pending.json",
    "instance-statechange-deleted.json",
    "instance-statechange-stopped.json",
    "instance-unknown-future-event.json",
]
SEEDS = [json.loads((SAMPLES / "cloudmonitor" / name).read_text()) for name in NO_OPS]


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-never-used")
        patch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "never-used")
        built = build_app(Settings(account_id=ACCOUNT, store="memory://", localcloud=None, policy=None))
    built.store.commit([Write(f"index/snapshot/{OURS_SNAPSHOT}", {"saga": "saga/i-x/e-x"}, 0)])
    built.store.commit([Write(f"saga/{SAGA_INSTANCE}/e-1", {"any": "saga"}, 0)])
    yield built
    built.close()


def full_path(app: App, body: bytes) -> tuple[Any, EcsEvent | None, Any]:
    """(the one delivery, its event, the engine's result) of the full path; None where it has no single event."""
    try:
        deliveries = unwrap(body)
    except InputError:
        return None, None, None
    if len(deliveries) != 1 or deliveries[0].error is not None or deliveries[0].event is None:
        return deliveries, None, None
    event = deliveries[0].event
    if isinstance(event, TimerTick):
        return deliveries[0], None, None
    try:
        return deliveries[0], event, app.engine.handle(event)
    except Exception as exc:  # a refusal (RejectedError) or anything else: never what the raw triage answered
        return deliveries[0], event, exc


def check(app: App, body: bytes) -> bool:
    """Whether the raw triage answered ``body``; when it did, the full path agrees."""
    raw = rawsource.notification(body)
    answer = raw_no_op(raw.notification, app.store, ACCOUNT) if raw is not None else None
    if answer is None:
        return False
    assert raw is not None
    delivery, event, result = full_path(app, body)
    assert event is not None, f"the raw triage answered what the full path refuses: {body[:300]!r}"
    assert (delivery.source.value, delivery.message_id) == (raw.source, raw.message_id)
    assert (event.id, event.name, event.kind, event.instance_id) == (
        answer.event_id,
        answer.name,
        answer.kind,
        answer.instance_id,
    )
    assert not isinstance(result, Exception), f"the engine said {result!r} for {body[:300]!r}"
    assert (result.outcome, result.reason, result.saga) == (answer.outcome, answer.reason, None)
    return True


def test_the_sizes_and_kinds_it_mirrors_are_the_full_paths() -> None:
    assert rawsource.MAX_BODY_BYTES == MAX_BODY_BYTES
    from ecs_events import kinds

    assert kinds.kind_of is kind_of


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_corpus(app: App, path: Path) -> None:
    answered = check(app, path.read_bytes())
    if path.parent.name == "cloudmonitor" and path.name in NO_OPS and "stopped" not in path.name:
        assert answered, "a no-op event as CloudMonitor sends it is answered by the raw triage"


def test_an_mns_topic_json_envelope_is_answered_too(app: App) -> None:
    inner = (SAMPLES / "cloudmonitor" / "snapshot-createsnapshotcompleted-accomplished.json").read_text()
    body = json.dumps({"TopicOwner": ACCOUNT, "Message": inner, "TopicName": "t", "MessageId": "m-1"}).encode()
    assert check(app, body)


# -- generated mutations -------------------------------------------------------------------------------------------
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**30, max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "", "INFO", "WARN", "info", "Running", "Stopped", "running", "accomplished", "failed", ACCOUNT, OTHER,
            "cn-hangzhou", "cn-beijing", OURS_SNAPSHOT, SAGA_INSTANCE, "i-bp1a2b3c4d5e6f7g8h9i", "s-\u00e9\U0001f600",
            "20190409T121826.922+0800", "20190409T121826+08:00", "2019-04-12T01:01:01Z", "2019-04-12T01:01:01+08:00",
            "2019-02-30T01:01:01Z", "19690101T000000Z", "99991231T235959Z", "2019-04-12T24:00:00Z",
            "20190409T121826.9221234+0800", "2019-04-12T01:01:01", "2019-04-12 01:01:01Z", "20190409T121826+2400",
            "acs:ecs:cn-hangzhou:1234567890123456:snapshot/s-ours",
            "acs:ecs:cn-hangzhou:1234567890123456:instance/i-with-saga",
            "acs:ecs:cn-hangzhou:9999999999999999:instance/i-bp1a2b3c4d5e6f7g8h9i", "acs:ecs:cn-beijing::disk/d-1",
            "acs:ecs::1234567890123456:instance/", "acs::cn-hangzhou:1:instance/i", "acs:ecs:cn-hangzhou:1",
            "Snapshot:CreateSnapshotCompleted", "Instance:StateChange", "Instance:StateChange:Running",
            "Instance:SystemMaintenance.Reboot:Scheduled", "Instance:Future.Thing:Executing", "Disk:Stalled:Bogus",
            "Ecs:Whatever", "x" * 70000,
        ]
    )
)  # fmt: skip
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                      max_leaves=8)  # fmt: skip
TOP_KEYS = ["ver", "id", "product", "resourceId", "level", "name", "userId", "eventTime", "regionId", "content",
            "resource_id", "user_id", "region_id", "event_time", "kind", "status", "instance_id", "model_config",
            "_private", "extra", "dimensions", "a-b", "\u00e9t\u00e9"]  # fmt: skip
CONTENT_KEYS = ["result", "snapshotId", "diskId", "snapshotName", "startTime", "endTime", "resourceId",
                "resourceType", "state", "instanceId", "ecsInstanceId", "eventStatus", "notBefore", "snapshot_id",
                "resource_id", "disk_id", "start_time", "extra", "_x", "model_dump"]  # fmt: skip

TIMES = [
    "20190409T121826.922+0800",
    "20190409T121826+08:00",
    "2019-04-12T01:01:01Z",
    "2019-04-12T01:01:01+08:00",
    "2019-02-30T01:01:01Z",
    "19690101T000000Z",
    "99991231T235959Z",
    "2019-04-12T24:00:00Z",
    "20190229T000000Z",
    "20190409T121826.9221234+0800",
    "2019-04-12T01:01:01",
    "2019-04-12 01:01:01Z",
    "20190409T121826+2400",
    "19700101T000000+0100",
    "20190409T121826.922+08",
    "\uff12\uff10\uff11\uff19-04-12T01:01:01Z",
    20190409,
]
ARN_PARTS = ["", "ecs", "cn-beijing", "cn-hangzhou", ACCOUNT, OTHER, "instance", "snapshot", "disk", "i-with-saga",
             "s-ours", "x:y", "\u00e9"]  # fmt: skip
mutation = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(TOP_KEYS), values),
    st.tuples(st.just("delete"), st.sampled_from(TOP_KEYS), st.none()),
    st.tuples(st.just("set-content"), st.sampled_from(CONTENT_KEYS), values),
    st.tuples(st.just("delete-content"), st.sampled_from(CONTENT_KEYS), st.none()),
    st.tuples(st.just("time"), st.sampled_from(["eventTime", "startTime", "endTime"]), st.sampled_from(TIMES)),
    st.tuples(st.just("arn"), st.sampled_from(["1", "2", "3", "4", "5"]), st.sampled_from(ARN_PARTS)),
    st.tuples(st.just("duplicate"), st.sampled_from(["name", "userId", "snapshotId", "state", "content"]), values),
)


def _apply(payload: dict[str, Any], step: tuple[str, str, Any]) -> dict[str, Any] | str:
    action, key, value = step
    content = payload.get("content")
    if action == "set":
        payload[key] = value
    elif action == "delete":
        payload.pop(key, None)
    elif action == "set-content" and isinstance(content, dict):
        content[key] = value
    elif action == "delete-content" and isinstance(content, dict):
        content.pop(key, None)
    elif action == "time":
        (payload if key == "eventTime" else content if isinstance(content, dict) else {})[key] = value
    elif action == "arn" and isinstance(payload.get("resourceId"), str):  # one part of the ARN replaced
        parts = payload["resourceId"].replace("/", ":", 1).split(":")
        if len(parts) == 6:
            parts[int(key)] = value
            payload["resourceId"] = ":".join(parts[:5]) + "/" + parts[5]
    return payload


def _render(payload: dict[str, Any], steps: list[tuple[str, str, Any]], ascii_only: bool) -> bytes:
    text = json.dumps(payload, ensure_ascii=ascii_only)
    for action, key, value in steps:
        if action == "duplicate":  # a second occurrence of the key, first in its object (JSON text only)
            needle = '"content": {' if key in ("snapshotId", "state") else "{"
            text = text.replace(needle, f"{needle}{json.dumps(key)}: {json.dumps(value)}, ", 1)
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    steps=st.lists(mutation, max_size=4),
    ascii_only=st.booleans(),
    envelope=st.sampled_from(["raw", "raw", "mns-topic", "mns-topic-dict", "padded"]),
)
def test_mutated_no_op_events(
    app: App, seed: int, steps: list[tuple[str, str, Any]], ascii_only: bool, envelope: str
) -> None:
    payload = json.loads(json.dumps(SEEDS[seed]))
    for step in steps:
        _apply(payload, step)
    body = _render(payload, steps, ascii_only)
    if envelope == "mns-topic":
        body = json.dumps({"TopicOwner": ACCOUNT, "Message": body.decode("utf-8", "surrogatepass"),
                           "TopicName": "t", "MessageId": "m-1"}).encode()  # fmt: skip
    elif envelope == "mns-topic-dict":
        body = json.dumps({"TopicOwner": ACCOUNT, "Message": payload, "TopicName": "t"}).encode()
    elif envelope == "padded":
        body = b" \n\t" + body + b"\r\n "
    check(app, body)
