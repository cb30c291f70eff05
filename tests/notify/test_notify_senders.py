"""Senders against a real local HTTP receiver: DingTalk signing (checked server-side), bodies, errors without
secrets, webhook JSON, the log sender, and ECS_EVENTS_WEBHOOKS parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import socket
import urllib.parse

import pytest
from notify_support import HOOK, ROBOT, SECRET, SECRETS, TOKEN, WEBHOOK_TOKEN, Clock, LogCapture, Receiver, make_notice

from ecs_events.notify import (
    DingTalkSender,
    LogSender,
    NotifyError,
    SendError,
    Throttled,
    WebhookSender,
    render_text,
    senders_from_urls,
)


def robot(receiver: Receiver, **kwargs: object) -> DingTalkSender:
    return DingTalkSender(f"{receiver.url(ROBOT)}?access_token={TOKEN}", SECRET, **kwargs)  # type: ignore[arg-type]


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# -- DingTalk -----------------------------------------------------------------------------------------------------
def test_sign_is_base64_hmac_sha256_of_timestamp_newline_secret_quoted_plus() -> None:
    sender = DingTalkSender(f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}", SECRET)
    digest = hmac.new(SECRET.encode(), f"1700000000000\n{SECRET}".encode(), hashlib.sha256).digest()
    expected = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    assert sender.sign(1700000000000) == expected
    assert sender.signed_url(1700000000000) == (
        f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}&timestamp=1700000000000&sign={expected}"
    )


def test_dingtalk_sends_a_signed_markdown_message(receiver: Receiver) -> None:
    notice = make_notice(5)
    robot(receiver).send(notice)
    (request,) = receiver.at(ROBOT)
    assert request.sign_ok is True  # the receiver recomputed the signature from the secret
    assert request.query["access_token"] == [TOKEN]
    assert "secret" not in request.query
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.json == {
        "msgtype": "markdown",
        "markdown": {"title": "Reboot of i-bp1abc0005 started (n-0005)", "text": render_text(notice)},
    }


def test_a_signature_with_the_wrong_secret_is_refused_by_errcode(receiver: Receiver) -> None:
    wrong = DingTalkSender(f"{receiver.url(ROBOT)}?access_token={TOKEN}", "SEC" + "0" * 64)
    with pytest.raises(SendError) as caught:
        wrong.send(make_notice())
    assert receiver.at(ROBOT)[0].sign_ok is False
    assert caught.value.code == "310000"
    assert str(caught.value) == f"{wrong.name}: errcode 310000: sign not match"


@pytest.mark.parametrize(
    ("code", "message"),
    [(130101, "send too fast, exceed 20 times per minute"), (300001, "token is not exist")],
)
def test_a_nonzero_errcode_is_a_send_error_naming_code_and_message(receiver: Receiver, code: int, message: str) -> None:
    receiver.errcode(ROBOT, 1, code, message)
    sender = robot(receiver)
    with pytest.raises(SendError) as caught:
        sender.send(make_notice())
    assert str(caught.value) == f"{sender.name}: errcode {code}: {message}"
    assert caught.value.code == str(code)
    assert caught.value.sender == sender.name


def test_an_errmsg_that_echoes_the_token_or_secret_is_masked(receiver: Receiver) -> None:
    receiver.errcode(ROBOT, 1, 310000, f"sign not match for access_token={TOKEN} secret {SECRET}")
    with pytest.raises(SendError) as caught:
        robot(receiver).send(make_notice())
    assert "errcode 310000: sign not match for access_token=*** secret ***" in str(caught.value)
    assert_no_secret(str(caught.value))


def test_http_errors_and_non_json_answers_are_send_errors(receiver: Receiver) -> None:
    sender = robot(receiver)
    receiver.fail(ROBOT, 1, 502)
    with pytest.raises(SendError, match=r": HTTP 502$") as caught:
        sender.send(make_notice())
    assert caught.value.code == "502"
    receiver.answer(ROBOT, 1, 200, b"<html>gateway</html>")
    with pytest.raises(SendError, match=r": not a DingTalk answer \(HTTP 200\)$"):
        sender.send(make_notice())


def test_a_timeout_is_a_send_error(receiver: Receiver) -> None:
    receiver.hang(ROBOT, 1)
    sender = robot(receiver, timeout=0.3)
    with pytest.raises(SendError, match=r"request failed: .*timed out"):
        sender.send(make_notice())


def test_a_refused_connection_is_a_send_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sender = DingTalkSender(f"http://127.0.0.1:{port}/robot/send?access_token={TOKEN}", SECRET)
    with pytest.raises(SendError, match=r"request failed: .*refused") as caught:
        sender.send(make_notice())
    assert_no_secret(str(caught.value))
    assert TOKEN not in sender.name
    assert TOKEN not in repr(sender)


def test_our_side_of_the_rate_limit_throttles_before_dingtalk_does(receiver: Receiver, clock: Clock) -> None:
    sender = robot(receiver, per_minute=2, rate_clock=clock.seconds)
    sender.send(make_notice(1))
    clock.advance(10)
    sender.send(make_notice(2))
    with pytest.raises(Throttled) as caught:
        sender.send(make_notice(3))
    assert caught.value.retry_after == 50
    assert len(receiver.at(ROBOT)) == 2
    clock.advance(50)
    sender.send(make_notice(3))
    assert len(receiver.at(ROBOT)) == 3


def test_dingtalk_throttling_us_holds_later_sends_for_ten_minutes(receiver: Receiver, clock: Clock) -> None:
    receiver.errcode(ROBOT, 1, 130101, "send too fast, exceed 20 times per minute")
    sender = robot(receiver, rate_clock=clock.seconds)
    with pytest.raises(SendError, match="errcode 130101"):
        sender.send(make_notice(1))
    clock.advance(1)
    with pytest.raises(Throttled) as caught:
        sender.send(make_notice(2))
    assert caught.value.retry_after == 599
    assert len(receiver.at(ROBOT)) == 1
    clock.advance(599)
    sender.send(make_notice(2))
    assert len(receiver.at(ROBOT)) == 2


# -- webhook and log ----------------------------------------------------------------------------------------------
def test_webhook_posts_the_notice_document(receiver: Receiver) -> None:
    notice = make_notice(9)
    WebhookSender(receiver.url(HOOK)).send(notice)
    (request,) = receiver.at(HOOK)
    assert request.json == notice.to_doc()
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("status", [200, 201, 204])
def test_webhook_any_2xx_is_delivered(receiver: Receiver, status: int) -> None:
    receiver.answer(HOOK, 1, status, b"")
    WebhookSender(receiver.url(HOOK)).send(make_notice())
    assert len(receiver.at(HOOK)) == 1


@pytest.mark.parametrize("status", [302, 400, 404, 500, 503])
def test_webhook_anything_else_is_a_send_error(receiver: Receiver, status: int) -> None:
    receiver.answer(HOOK, 1, status, b"no", {"Location": receiver.url("/elsewhere")})
    sender = WebhookSender(receiver.url(HOOK))
    with pytest.raises(SendError) as caught:
        sender.send(make_notice())
    assert str(caught.value) == f"{sender.name}: HTTP {status}"
    assert receiver.at("/elsewhere") == []  # a redirect is not followed


def test_webhook_name_and_errors_hide_a_token_in_its_url(receiver: Receiver) -> None:
    receiver.fail(HOOK, 1, 500)
    sender = WebhookSender(f"{receiver.url(HOOK)}?token={WEBHOOK_TOKEN}")
    with pytest.raises(SendError) as caught:
        sender.send(make_notice())
    assert_no_secret(str(caught.value) + sender.name)
    assert sender.name.startswith("webhook:127.0.0.1:")


@pytest.mark.parametrize(("level", "levelno"), [("info", 20), ("warning", 30), ("critical", 50)])
def test_log_sender_logs_one_line_at_the_notice_level(captured: LogCapture, level: str, levelno: int) -> None:
    LogSender().send(make_notice(4, level=level, text="two\nlines"))
    (record,) = [r for r in captured.records if r.name == "ecs_events.notice"]
    assert record.levelno == levelno
    message = record.getMessage()
    assert "\n" not in message
    assert message.startswith("started: Reboot of i-bp1abc0004 started (n-0004) | two\\nlines | ")
    assert record.__dict__["instance_id"] == "i-bp1abc0004"
    assert record.__dict__["code"] == "notice.started"
    assert LogSender.name == "log"


# -- ECS_EVENTS_WEBHOOKS ------------------------------------------------------------------------------------------
def test_senders_from_urls_builds_dingtalk_webhook_and_always_log(receiver: Receiver) -> None:
    senders = senders_from_urls([receiver.robot_url(), f"  {receiver.url(HOOK)}  "])
    dingtalk, webhook, log = senders
    assert isinstance(dingtalk, DingTalkSender)
    assert isinstance(webhook, WebhookSender)
    assert isinstance(log, LogSender)
    assert SECRET not in dingtalk.url
    assert dingtalk.url == f"{receiver.url(ROBOT)}?access_token={TOKEN}"
    for sender in senders:
        sender.send(make_notice())
    assert receiver.at(ROBOT)[0].sign_ok is True
    assert len(receiver.at(HOOK)) == 1
    assert senders_from_urls([]) and isinstance(senders_from_urls([])[0], LogSender)


def test_sender_names_are_stable_across_processes_and_distinct(receiver: Receiver) -> None:
    first = [s.name for s in senders_from_urls([receiver.robot_url(), receiver.url(HOOK)])]
    again = [s.name for s in senders_from_urls([receiver.robot_url(), receiver.url(HOOK)])]
    assert first == again
    assert len(set(first)) == 3


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "ECS_EVENTS_WEBHOOKS[1]: unsupported scheme 'ftp' (use https://, http:// or "),
        ("example.com/hook", "ECS_EVENTS_WEBHOOKS[1]: unsupported scheme 'none'"),
        ("https:///path-only", "ECS_EVENTS_WEBHOOKS[1]: the URL has no host"),
        (f"https://example.com:99999/hook?token={WEBHOOK_TOKEN}", "ECS_EVENTS_WEBHOOKS[1]: not a URL"),
        (f"http://[::1/hook?token={WEBHOOK_TOKEN}", "ECS_EVENTS_WEBHOOKS[1]: not a URL"),
        (
            f"dingtalk+https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
            "ECS_EVENTS_WEBHOOKS[1]: a DingTalk URL needs exactly one secret= query parameter",
        ),
        (
            f"dingtalk+https://oapi.dingtalk.com/robot/send?secret={SECRET}",
            "ECS_EVENTS_WEBHOOKS[1]: a DingTalk URL needs an access_token= query parameter",
        ),
        ("https://example.com/hook", "ECS_EVENTS_WEBHOOKS[1]: the same destination as ECS_EVENTS_WEBHOOKS[0]"),
    ],
)
def test_a_bad_url_is_one_line_naming_the_setting_and_position_not_the_token(url: str, message: str) -> None:
    with pytest.raises(NotifyError) as caught:
        senders_from_urls(["https://example.com/hook", url])
    text = str(caught.value)
    assert text.startswith(message)
    assert "\n" not in text
    assert_no_secret(text)


def test_a_secret_that_does_not_start_with_sec_is_a_warning(captured: LogCapture) -> None:
    senders_from_urls([f"dingtalk+https://oapi.dingtalk.com/robot/send?access_token={TOKEN}&secret=abcdefgh"])
    (record,) = captured.at(logging.WARNING)
    assert record.getMessage() == (
        "ECS_EVENTS_WEBHOOKS[0]: the DingTalk secret does not start with SEC; signing will likely fail"
    )
