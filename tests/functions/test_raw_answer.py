"""A push answered by the raw triage (``ecs_events.runtime.rawtriage``, before any model is built) returns the summary
and writes the log lines the full path (``sources.unwrap`` -> model -> triage / engine) would, through the real
functions; and the full settings, no longer validated by the initializer, still fail in one line at the first event
that needs them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from tests.functions.conftest import SAMPLES, Functions, context

from ecs_events.runtime import handlers
from ecs_events.runtime.settings import SettingsError
from ecs_events.sources import unwrap

CASES = [  # (function, sample): the function's own kind, and one its trigger is not filtered to
    ("snapshot", "cloudmonitor/snapshot-createsnapshotcompleted-accomplished.json"),
    ("lifecycle", "cloudmonitor/instance-statechange-running.json"),
    ("lifecycle", "cloudmonitor/instance-statechange-deleted.json"),
    ("maintenance", "cloudmonitor/instance-unknown-future-event.json"),
    ("lifecycle", "cloudmonitor/snapshot-createsnapshotcompleted-failed.json"),
    ("lifecycle", "cloudmonitor/instance-statechange-stopping.json"),
    ("eventbridge", "cloudmonitor/instance-statechange-pending.json"),
]


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[Any, ...]] = []

    def emit(self, record: logging.LogRecord) -> None:
        extras = tuple(getattr(record, key, None) for key in ("event_id", "instance_id", "saga"))
        self.lines.append((record.name, record.levelname, record.getMessage(), *extras))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("ecs_events")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.mark.parametrize(("function", "path"), CASES)
def test_the_raw_answer_is_the_full_paths(functions: Functions, lines: Lines, function: str, path: str) -> None:
    body = (SAMPLES / path).read_bytes()
    ctx = context(function)
    app = handlers.initialize(ctx)
    expect = handlers.KINDS[function]

    raw = handlers._answer_raw(app, body, ctx, expect)
    raw_lines, lines.lines = lines.lines, []
    full = handlers._push(body, unwrap(body), ctx, expect)

    assert raw is not None, "answered before any model is built"
    assert raw == full
    assert raw_lines == lines.lines
    assert not app.built("engine") and not app.built("settings")  # neither path needed them


def test_a_bad_setting_fails_at_the_first_event_that_needs_the_settings(
    functions: Functions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECS_EVENTS_MAX_RECEIVES", "0")
    functions.modules["snapshot"].initialize(context("snapshot"))  # account, store, localcloud only: no pydantic

    snapshot = SAMPLES / "cloudmonitor" / "snapshot-createsnapshotcompleted-accomplished.json"
    no_op = functions.invoke("snapshot", snapshot)
    assert (no_op["ignored"], no_op["dead_lettered"]) == (1, 0)
    with pytest.raises(SettingsError, match=r"^ECS_EVENTS_MAX_RECEIVES: Input should be greater than or equal to 1"):
        functions.invoke("maintenance", SAMPLES / "cloudmonitor" / "instance-systemmaintenance-reboot-scheduled.json")
    assert functions.dlq() == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ECS_EVENTS_ACCOUNT_ID", "12x", "ECS_EVENTS_ACCOUNT_ID: expected the numeric account id, got '12x'"),
        ("ECS_EVENTS_LOCALCLOUD", "127.0.0.1:1", "ECS_EVENTS_LOCALCLOUD: expected http://HOST:PORT, got '127.0.0.1:1'"),
    ],
)
def test_the_initializer_still_refuses_what_it_reads_in_the_words_of_the_settings(
    functions: Functions, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as early:
        functions.modules["snapshot"].initialize(context("snapshot"))
    with pytest.raises(SettingsError) as full:
        from ecs_events.runtime.settings import load_settings

        load_settings()
    assert str(early.value) == str(full.value) == message


def test_a_body_the_raw_triage_doubts_goes_the_full_way(functions: Functions) -> None:
    payload = json.loads((SAMPLES / "cloudmonitor" / "snapshot-createsnapshotcompleted-accomplished.json").read_text())
    payload["content"]["result"] = "done"  # not a result the model accepts: poison, dead-lettered with its reason
    result = functions.invoke("snapshot", json.dumps(payload))
    assert result["dead_lettered"] == 1
    assert result["reasons"][0].startswith("cloudmonitor: field content.result: Input should be 'accomplished'")
