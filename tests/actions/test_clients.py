"""Credentials resolution and the lazily built, cached SDK clients (pointed at localcloud when configured)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from ecs_events.runtime.clients import ClientConfigError, Clients, Credentials, CredentialsError, resolve_credentials
from ecs_events.runtime.fc import Context
from ecs_events.runtime.settings import Settings
from localcloud.cloud import LocalCloud

ENV = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*ENV, "ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_credentials_from_the_fc_context(clean_env: pytest.MonkeyPatch) -> None:
    context = Context.from_env(
        {"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sec", "FC_REGION": "cn-hangzhou"}
    )
    clean_env.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")
    clean_env.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")
    assert resolve_credentials(context) == Credentials("STS.id", "sec", None)


def test_credentials_from_a_camel_case_context(clean_env: pytest.MonkeyPatch) -> None:
    creds = SimpleNamespace(accessKeyId="STS.id", accessKeySecret="sec", securityToken="tok")
    assert resolve_credentials(SimpleNamespace(credentials=creds)) == Credentials("STS.id", "sec", "tok")


def test_credentials_from_the_environment_when_the_context_has_none(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-env")
    clean_env.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")
    clean_env.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token")
    expected = Credentials("LTAI-env", "env-secret", "env-token")
    assert resolve_credentials() == expected
    assert resolve_credentials(SimpleNamespace(credentials=None)) == expected  # FC 3.0 python3.12


def test_missing_credentials_is_one_line_naming_the_variables(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(CredentialsError) as info:
        resolve_credentials(SimpleNamespace(credentials=SimpleNamespace(access_key_id="", access_key_secret="")))
    message = str(info.value)
    assert "\n" not in message
    assert all(name in message for name in ENV)


def test_credentials_never_show_the_secret_or_token() -> None:
    creds = Credentials("LTAI-id", "the-SECRET", "the-TOKEN")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "the-SECRET" not in text and "the-TOKEN" not in text
        assert "LTAI-id" in text


def test_clients_build_one_acs_client_lazily_without_sdk_retries(clients: Clients) -> None:
    assert clients._acs is None
    first = clients.acs_client()
    assert clients.acs_client() is first
    assert first.is_auto_retry() is False
    assert "localcloud-secret" not in repr(clients)


def test_sts_credentials_sign_with_the_token_even_if_aliyun_env_keys_are_set(
    localcloud: LocalCloud, clients_for: Callable[..., Clients], clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("ALIYUN_ACCESS_KEY_ID", "LTAI-someone-else")
    clean_env.setenv("ALIYUN_ACCESS_KEY_SECRET", "other-secret")
    creds = Credentials(localcloud.access_key_id, localcloud.access_key_secret, "STS.token-1")
    assert clients_for(creds).ecs().describe_instance("i-1") is None
    [call] = localcloud.call_log.calls("DescribeInstances")
    assert (call.account_id, call.params["SecurityToken"]) == (localcloud.access_key_id, "STS.token-1")


def test_ecs_and_slb_go_to_localcloud_and_mns_too(localcloud: LocalCloud, clients: Clients) -> None:
    clients.ecs().describe_instances([])
    clients.slb().find("i-1")
    clients.queue("q1").ensure()
    products = {c.product for c in localcloud.call_log}
    assert products == {"Slb", "Mns"}  # no ids: DescribeInstances is not even sent
    assert clients.mns_endpoint() == localcloud.url


def test_mns_endpoint_from_account_and_region_or_setting() -> None:
    creds = Credentials("id", "secret")
    real = Clients(Settings(region="cn-shanghai", account_id="1234567890123456"), creds)
    assert real.mns_endpoint() == "https://1234567890123456.mns.cn-shanghai.aliyuncs.com"
    assert real.ecs().https is True and real.slb().https is True
    assert real.mns_account() is real.mns_account()
    given = Clients(Settings(region="cn-shanghai", mns_endpoint="https://x.mns-vpc.example"), creds)
    assert given.mns_endpoint() == "https://x.mns-vpc.example"
    with pytest.raises(ClientConfigError, match="ECS_EVENTS_ACCOUNT_ID"):
        Clients(Settings(region="cn-shanghai"), creds).mns_endpoint()


def test_a_plain_settings_object_is_enough(localcloud: LocalCloud) -> None:
    settings = SimpleNamespace(
        region=localcloud.region_id, localcloud=localcloud.url, mns_endpoint=None, dry_run=True, account_id=None
    )
    clients = Clients(settings, Credentials(localcloud.access_key_id, localcloud.access_key_secret))
    assert clients.ecs().dry_run is True
    assert clients.queue("q").name == "q"


def test_importing_the_actions_loads_no_sdk() -> None:
    """FC cold start: SDK modules are imported on first use, never at import; both import orders work."""
    code = (
        "import sys, json\n"
        "import ecs_events.retry, ecs_events.runtime.clients, ecs_events.actions, ecs_events.actions.mns\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('aliyunsdk', 'mns')))))\n"
    )
    for order in (
        code,
        code.replace("ecs_events.retry, ecs_events.runtime.clients", "ecs_events.runtime.clients, ecs_events.retry"),
    ):
        out = subprocess.run([sys.executable, "-c", order], capture_output=True, text=True, check=True)
        assert json.loads(out.stdout) == []
