"""Settings from the environment without pydantic-settings: the same fields, the same one-line errors naming the
variable, the variable's name in any case, explicit values over the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecs_events.runtime.settings import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(("ECS_EVENTS_", "FC_REGION", "ALIBABA_CLOUD_REGION_ID")):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    s = load_settings()
    assert (s.account_id, s.region, s.queue, s.dlq_name, s.store, s.policy, s.dry_run) == (
        None, "cn-hangzhou", "ecs-events", "ecs-events-dlq", "sqlite:///ecs-events.sqlite3", None, False,
    )  # fmt: skip
    assert (s.tag_key, s.tag_value, s.webhooks, s.max_receives, s.reconcile_interval, s.stuck_after) == (
        "ecs-events:managed", "true", (), 5, 300, 3600,
    )  # fmt: skip


def test_every_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "ACCOUNT_ID": " 1234567890123456 ", "REGION": "cn-shanghai", "QUEUE": "q", "DLQ": "d", "STORE": "memory://",
        "POLICY": "p.yaml", "DRY_RUN": "yes", "TAG": " k = v ", "WEBHOOKS": "https://a, ,https://b",
        "LOCALCLOUD": "http://127.0.0.1:8080/", "MNS_ENDPOINT": "https://m", "MAX_RECEIVES": "7",
        "RECONCILE_INTERVAL": "60", "STUCK_AFTER": "600", "LOAD_BALANCERS": "ALB, clb",
    }.items():  # fmt: skip
        monkeypatch.setenv(f"ECS_EVENTS_{name}", value)
    s = load_settings()
    assert s.model_dump() == {
        "account_id": "1234567890123456", "region": "cn-shanghai", "queue": "q", "dlq": "d", "store": "memory://",
        "policy": Path("p.yaml"), "dry_run": True, "tag": "k=v", "webhooks": ("https://a", "https://b"),
        "localcloud": "http://127.0.0.1:8080", "mns_endpoint": "https://m", "max_receives": 7,
        "reconcile_interval": 60, "stuck_after": 600, "load_balancers": ("alb", "clb"),
    }  # fmt: skip


def test_names_in_any_case_and_explicit_values_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ecs_events_queue", "lower")
    monkeypatch.setenv("ECS_EVENTS_MAX_RECEIVES", "9")
    monkeypatch.setenv("ECS_EVENTS_NOT_A_SETTING", "ignored")
    assert load_settings().queue == "lower"
    assert load_settings(max_receives=3).max_receives == 3
    assert Settings(queue="given").queue == "given" and Settings().max_receives == 9


def test_region_defaults_to_fc_then_the_sdk_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_REGION_ID", "cn-beijing")
    assert load_settings().region == "cn-beijing"
    monkeypatch.setenv("FC_REGION", "cn-shenzhen")
    assert load_settings().region == "cn-shenzhen"


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("DRY_RUN", "maybe", "ECS_EVENTS_DRY_RUN: Input should be a valid boolean, unable to interpret input"),
        ("MAX_RECEIVES", "0", "ECS_EVENTS_MAX_RECEIVES: Input should be greater than or equal to 1"),
        ("RECONCILE_INTERVAL", "1e3",
         "ECS_EVENTS_RECONCILE_INTERVAL: Input should be a valid integer, unable to parse string as an integer"),
        ("STUCK_AFTER", "9999999999", "ECS_EVENTS_STUCK_AFTER: Input should be less than or equal to 2592000"),
        ("TAG", "novalue", "ECS_EVENTS_TAG: expected KEY=VALUE, got 'novalue'"),
        ("ACCOUNT_ID", "abc", "ECS_EVENTS_ACCOUNT_ID: expected the numeric account id, got 'abc'"),
        ("LOCALCLOUD", "ftp://x", "ECS_EVENTS_LOCALCLOUD: expected http://HOST:PORT, got 'ftp://x'"),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, error: str
) -> None:
    monkeypatch.setenv(f"ECS_EVENTS_{name}", value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value) == error


def test_settings_do_not_import_pydantic_settings() -> None:
    """pydantic-settings cost a cold start 30-40 ms of import (bench/coldstart.py)."""
    code = "import sys, ecs_events.runtime.settings as s; s.load_settings(); print('pydantic_settings' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "False"
