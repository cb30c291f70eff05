"""logs: JSON lines, known extra keys, one-line exceptions, and secrets masked in every formatted line."""

from __future__ import annotations

import io
import json
import urllib.parse

from notify_support import LogCapture

from ecs_events import logs


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_configure_writes_one_json_object_per_line() -> None:
    stream = io.StringIO()
    logs.configure("INFO", stream)
    log = logs.get_logger("engine")
    log.info("reboot planned for %s", "i-1", extra={"instance_id": "i-1", "saga": "saga/i-1/e-1", "step": "drain"})
    log.debug("not shown at INFO")
    (line,) = _lines(stream)
    assert set(line) == {"time", "level", "logger", "message", "instance_id", "saga", "step"}
    assert line["level"] == "INFO"
    assert line["logger"] == "ecs_events.engine"
    assert line["message"] == "reboot planned for i-1"
    assert line["step"] == "drain"
    assert str(line["time"]).endswith("+00:00")


def test_only_the_known_extra_keys_are_written() -> None:
    stream = io.StringIO()
    logs.configure("DEBUG", stream)
    extra = {"event_id": "e-1", "action": "reboot", "code": "ecs.reboot", "unrelated": "x"}
    logs.get_logger("x").warning("m", extra=extra)
    (line,) = _lines(stream)
    assert line["event_id"] == "e-1"
    assert line["action"] == "reboot"
    assert line["code"] == "ecs.reboot"
    assert "unrelated" not in line


def test_an_exception_is_one_escaped_field() -> None:
    stream = io.StringIO()
    logs.configure("INFO", stream)
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        logs.get_logger("x").exception("failed")
    text = stream.getvalue()
    assert text.count("\n") == 1
    (line,) = _lines(stream)
    assert line["message"] == "failed"
    assert "Traceback (most recent call last)" in str(line["error"])
    assert "RuntimeError: boom\nsecond line" in str(line["error"])


def test_configure_twice_does_not_double_lines() -> None:
    first, second = io.StringIO(), io.StringIO()
    logs.configure("INFO", first)
    logs.configure("INFO", second)
    logs.get_logger("x").info("once")
    assert first.getvalue() == ""
    assert len(_lines(second)) == 1


def test_get_logger_names_are_under_ecs_events() -> None:
    assert logs.get_logger("outbox").name == "ecs_events.outbox"
    assert logs.get_logger("ecs_events.outbox") is logs.get_logger("outbox")
    assert logs.get_logger("ecs_events").name == "ecs_events"


def test_registered_secrets_are_masked_in_message_extras_and_exceptions(captured: LogCapture) -> None:
    captured.raw_secrets_ok = True  # this test logs secrets on purpose: only the formatted lines must hide them
    secret = "LTAI-not-a-real-secret/with+chars="
    logs.add_secret(secret)
    stream = io.StringIO()
    logs.configure("INFO", stream)
    log = logs.get_logger("x")
    log.info("key %s in a url ?k=%s", secret, urllib.parse.quote_plus(secret), extra={"action": f"a {secret}"})
    try:
        raise ValueError(f"bad credential {secret}")
    except ValueError:
        log.error("call failed", exc_info=True)
    text = stream.getvalue()
    assert secret not in text
    assert urllib.parse.quote_plus(secret) not in text
    first, second = _lines(stream)
    assert first["message"] == "key *** in a url ?k=***"
    assert first["action"] == "a ***"
    assert "ValueError: bad credential ***" in str(second["error"])


def test_short_values_are_not_registered_as_secrets() -> None:
    logs.add_secret("ab")
    logs.add_secret("")
    logs.add_secret(None)
    assert logs.redact("ab cd") == "ab cd"
