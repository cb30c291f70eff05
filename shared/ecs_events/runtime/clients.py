"""Credentials and SDK clients: resolved once per invocation, built lazily (never at import: FC cold start).

``resolve_credentials`` takes the FC context's service-role credentials (FC 2.0 / 3.0 up to python3.10), else the
``ALIBABA_CLOUD_*`` environment variables (FC 3.0 python3.12, local runs). ``Clients`` builds one ``AcsClient``
(ECS, CLB, ALB and NLB: the core client is product-agnostic, each request names its product) and one ``MNSClient``
on first use; with ``settings.localcloud`` every endpoint points at it.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ecs_events.errors import EcsEventsError

if TYPE_CHECKING:  # imported where built: an event that needs no cloud call never loads the actions or retry
    from ecs_events.actions.alb import Alb
    from ecs_events.actions.balancers import Balancers
    from ecs_events.actions.ecs import Ecs
    from ecs_events.actions.mns import Queue
    from ecs_events.actions.nlb import Nlb
    from ecs_events.actions.slb import Slb

ENV_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 10


class CredentialsError(EcsEventsError):
    """No usable credentials: the message names where they are looked for."""


class ClientConfigError(EcsEventsError):
    """A client cannot be built from the settings (e.g. no account id for the MNS endpoint)."""


@dataclass(frozen=True)
class Credentials:
    """An access key pair, with the STS token of a role. ``repr``/``str`` never show the secret or the token."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        token = "***" if self.security_token else None
        return f"Credentials(access_key_id={self.access_key_id!r}, access_key_secret='***', security_token={token!r})"

    __str__ = __repr__


def _attr(obj: Any, *names: str) -> str | None:
    for name in names:
        value = getattr(obj, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _register_secrets(*values: str | None) -> None:
    """Let the log formatter mask these (``ecs_events.logs.add_secret``), when that module is there."""
    try:
        logs = importlib.import_module("ecs_events.logs")
    except ImportError:
        return
    add = getattr(logs, "add_secret", None)
    for value in values:
        if add is not None and value:
            add(value)


def resolve_credentials(context: Any = None) -> Credentials:
    """The FC context's ``credentials`` (``access_key_id`` or ``accessKeyId`` styles), else the environment."""
    found = getattr(context, "credentials", None) if context is not None else None
    key_id = _attr(found, "access_key_id", "accessKeyId") if found is not None else None
    secret = _attr(found, "access_key_secret", "accessKeySecret") if found is not None else None
    token = _attr(found, "security_token", "securityToken") if found is not None else None
    if not (key_id and secret):
        key_id, secret = os.environ.get(ENV_KEY_ID), os.environ.get(ENV_SECRET)
        token = os.environ.get(ENV_TOKEN) or None
    if not (key_id and secret):
        raise CredentialsError(
            f"credentials: none in the FC context and {ENV_KEY_ID} / {ENV_SECRET} are not set "
            f"({ENV_TOKEN} too for an STS token)"
        )
    _register_secrets(secret, token)
    return Credentials(key_id, secret, token)


class SettingsLike(Protocol):
    """What ``Clients`` reads of ``ecs_events.runtime.settings.Settings`` (read-only, so a frozen model fits)."""

    @property
    def region(self) -> str: ...
    @property
    def localcloud(self) -> str | None: ...
    @property
    def mns_endpoint(self) -> str | None: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def account_id(self) -> str | None: ...


class Clients:
    """One ``AcsClient`` and one ``MNSClient``, built on first use and cached."""

    def __init__(self, settings: SettingsLike, credentials: Credentials) -> None:
        self.settings = settings
        self.credentials = credentials
        self._acs: Any = None
        self._mns: Any = None
        self._mns_client: Any = None

    def __repr__(self) -> str:
        return f"Clients(region={self.settings.region!r}, credentials={self.credentials!r})"

    @property
    def _local(self) -> str | None:
        return self.settings.localcloud.rstrip("/") if self.settings.localcloud else None

    def acs_client(self) -> Any:
        """The ``AcsClient``: the SDK's own retry off (``retry.call`` owns retries), STS token when there is one."""
        if self._acs is None:
            self._acs = self._build_acs()
        return self._acs

    def _build_acs(self) -> Any:
        from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
        from aliyunsdkcore.auth.signers.access_key_signer import AccessKeySigner
        from aliyunsdkcore.auth.signers.sts_token_signer import StsTokenSigner
        from aliyunsdkcore.client import AcsClient

        # The SDK logs every error answer at ERROR before raising it; we raise (and log retries) ourselves.
        logging.getLogger("aliyunsdkcore.client").setLevel(logging.CRITICAL)
        c, region = self.credentials, self.settings.region
        credential = (
            StsTokenCredential(c.access_key_id, c.access_key_secret, c.security_token)
            if c.security_token
            else AccessKeyCredential(c.access_key_id, c.access_key_secret)
        )
        client = AcsClient(
            region_id=region,
            credential=credential,
            auto_retry=False,
            connect_timeout=CONNECT_TIMEOUT,
            timeout=READ_TIMEOUT,
        )
        # The SDK prefers ALIYUN_ACCESS_KEY_ID/SECRET from the environment over ``credential=``: sign with ours.
        client._signer = StsTokenSigner(credential) if c.security_token else AccessKeySigner(credential)
        if self._local:
            from urllib.parse import urlsplit

            host = urlsplit(self._local).netloc
            for product in ("Ecs", "Slb", "Alb", "Nlb"):
                client.add_endpoint(region, product, host)
        return client

    def mns_endpoint(self) -> str:
        if self._local:
            return self._local
        if self.settings.mns_endpoint:
            return self.settings.mns_endpoint
        if not self.settings.account_id:
            raise ClientConfigError(
                "ECS_EVENTS_ACCOUNT_ID: required for the MNS endpoint (or set ECS_EVENTS_MNS_ENDPOINT)"
            )
        return f"https://{self.settings.account_id}.mns.{self.settings.region}.aliyuncs.com"

    def mns_client(self) -> Any:
        """The MNS SDK's ``MNSClient``, what the queues send through. Not built by ``mns.account.Account``: importing
        that module imports ``mns.queue`` and with it ``deprecated``, ``wrapt`` and ``asyncio`` (FC cold start)."""
        if self._mns_client is None:
            from mns.mns_client import MNSClient

            c = self.credentials
            self._mns_client = MNSClient(
                self.mns_endpoint(), c.access_key_id, c.access_key_secret, security_token=c.security_token or ""
            )
        return self._mns_client

    def mns_account(self) -> Any:
        """An MNS ``Account`` with the same endpoint and credentials (for tools that want the SDK's account API)."""
        if self._mns is None:
            from mns.account import Account

            c = self.credentials
            self._mns = Account(self.mns_endpoint(), c.access_key_id, c.access_key_secret, c.security_token or "")
        return self._mns

    def ecs(self) -> Ecs:
        from ecs_events.actions.ecs import Ecs

        return Ecs(_Lazy(self.acs_client), dry_run=self.settings.dry_run, https=self._local is None)

    def slb(self) -> Slb:
        from ecs_events.actions.slb import Slb

        return Slb(_Lazy(self.acs_client), dry_run=self.settings.dry_run, https=self._local is None)

    def alb(self) -> Alb:
        from ecs_events.actions.alb import Alb

        return Alb(_Lazy(self.acs_client), dry_run=self.settings.dry_run, https=self._local is None)

    def nlb(self) -> Nlb:
        from ecs_events.actions.nlb import Nlb

        return Nlb(_Lazy(self.acs_client), dry_run=self.settings.dry_run, https=self._local is None)

    def balancers(self) -> Balancers:
        """CLB, ALB and NLB behind the ``Slb`` interface (what the engine drains through)."""
        from ecs_events.actions.balancers import Balancers, LazyKinds

        # Each kind built (its actions module imported) on first use: FC cold start.
        kinds = LazyKinds({"clb": self.slb, "alb": self.alb, "nlb": self.nlb})
        return Balancers(kinds, discover=getattr(self.settings, "load_balancers", None))

    def queue(self, name: str) -> Queue:
        from ecs_events.actions.mns import Queue

        return Queue(_Lazy(self.mns_client), name)


class _Lazy:
    """The SDK client, built (and its SDK imported) on first use: an event that needs no cloud call never pays for
    an SDK import in a cold start."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._target: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._target is None:
            self._target = self._build()
        return getattr(self._target, name)
