"""Settings: one pydantic model over the environment (what Function Compute passes a function).

Every setting is ``ECS_EVENTS_<NAME>`` (the name in any case, as pydantic-settings read it before); a bad value is one
line naming the variable. The environment is read here by hand rather than through pydantic-settings, whose import
alone cost a cold start 30-40 ms (``bench/coldstart.py``): values given to ``Settings(...)`` win over the environment,
every other field is read from it. The region defaults to FC's own
(``FC_REGION``, then ``ALIBABA_CLOUD_REGION_ID``). Credentials are not settings: they come from the FC context or the
``ALIBABA_CLOUD_*`` variables (see ``ecs_events.runtime.clients.resolve_credentials``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ecs_events.runtime.env import (
    DEFAULT_STORE,
    ENV_PREFIX,
    SettingsError,
    check_account,
    check_localcloud,
    require_account,
    variables,
)

DEFAULT_TAG = "ecs-events:managed=true"


def _default_region() -> str:
    return os.environ.get("FC_REGION") or os.environ.get("ALIBABA_CLOUD_REGION_ID") or "cn-hangzhou"


def from_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The ``ECS_EVENTS_*`` variables that name a setting, by field name (``ECS_EVENTS_MAX_RECEIVES`` ->
    ``max_receives``); the prefix and the name in any case. Others are ignored."""
    return {name: value for name, value in variables(environ).items() if name in Settings.model_fields}


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    account_id: str | None = Field(None, description="the Alibaba Cloud account (uid) to act for; required to act")
    region: str = Field(default_factory=_default_region, description="region of the ECS fleet (default: FC's)")
    queue: str = Field("ecs-events", description="the MNS queue events arrive on; timers come back through it too")
    dlq: str | None = Field(None, description="dead-letter queue (default <QUEUE>-dlq)")
    store: str = Field(DEFAULT_STORE, description="sqlite:///PATH (embedded) or redis://HOST:PORT/DB (shared)")
    policy: Path | None = Field(None, description="YAML policy file (windows, lead, budget, snapshots, overrides)")
    dry_run: bool = Field(False, description="plan and log, make no mutating call")
    tag: str = Field(DEFAULT_TAG, description="opt-in tag KEY=VALUE: only instances carrying it are acted on")
    webhooks: tuple[str, ...] = Field(
        (),
        repr=False,  # the URLs carry access tokens and signing secrets
        description="comma-separated notification URLs: https://... (JSON) or dingtalk+https://...&secret=SEC...",
    )
    localcloud: str | None = Field(
        None, description="http://HOST:PORT of a served localcloud: every endpoint and the clock"
    )
    mns_endpoint: str | None = Field(None, description="MNS endpoint (default https://ACCOUNT.mns.REGION.aliyuncs.com)")
    max_receives: int = Field(5, ge=1, le=1000, description="deliveries of one message before it is dead-lettered")
    load_balancers: tuple[str, ...] = Field(
        ("clb", "alb", "nlb"), description="the load balancer kinds drains look in: any of clb, alb, nlb"
    )
    reconcile_interval: int = Field(
        300, ge=30, le=86400, description="seconds between reconciler passes (`ecs-events reconcile` without --once)"
    )
    stuck_after: int = Field(
        3600, ge=60, le=30 * 86400, description="seconds a saga may stay overdue before the reconciler calls it stuck"
    )

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, data: Any) -> Any:
        """Every field not given explicitly comes from its ``ECS_EVENTS_*`` variable, when set."""
        if isinstance(data, dict):
            return {**from_environment(), **data}
        return data

    @field_validator("webhooks", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("load_balancers", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        parts = [p.strip().lower() for p in value.split(",") if p.strip()] if isinstance(value, str) else value
        unknown = sorted(set(parts) - {"clb", "alb", "nlb"})
        if unknown or not parts:
            raise ValueError(f"expected a comma-separated list of clb, alb, nlb, got {value!r}")
        return tuple(dict.fromkeys(parts))

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        key, sep, tag_value = value.partition("=")
        if not sep or not key.strip() or not tag_value.strip():
            raise ValueError(f"expected KEY=VALUE, got {value!r}")
        return f"{key.strip()}={tag_value.strip()}"

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return check_account(value)

    @field_validator("localcloud")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return check_localcloud(value)

    @property
    def tag_key(self) -> str:
        return self.tag.partition("=")[0]

    @property
    def tag_value(self) -> str:
        return self.tag.partition("=")[2]

    @property
    def dlq_name(self) -> str:
        return self.dlq or f"{self.queue}-dlq"

    def require_account(self) -> str:
        """The account id, or a one-line error: acting without knowing the account is refused."""
        return require_account(self.account_id)


def load_settings(**overrides: Any) -> Settings:
    """The settings from the process environment plus explicit overrides (CLI flags); one-line errors."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = f"{ENV_PREFIX}{str(first['loc'][0]).upper()}" if first["loc"] else ENV_PREFIX + "*"
        reason = str(first.get("ctx", {}).get("error", first["msg"]))
        raise SettingsError(f"{name}: {reason}") from None


__all__ = [
    "DEFAULT_STORE",
    "DEFAULT_TAG",
    "ENV_PREFIX",
    "Settings",
    "SettingsError",
    "from_environment",
    "load_settings",
]
