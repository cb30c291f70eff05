"""The few settings an FC instance needs before it knows whether an event needs the engine, read from the
environment without pydantic (FC cold start): the account, the store URL and the localcloud URL.

``initialize`` checks these three (and opens the store); the full ``Settings`` model (``ecs_events.runtime.settings``)
is built and validated when an event first needs the engine, the clients or the dead-letter queue. Each value is
checked exactly as ``Settings`` checks it, with the same one-line error naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ecs_events.errors import EcsEventsError

ENV_PREFIX = "ECS_EVENTS_"
DEFAULT_STORE = "sqlite:///ecs-events.sqlite3"


class SettingsError(EcsEventsError):
    """A setting has a bad value or a required one is missing; the message names the variable."""


def variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every ``ECS_EVENTS_*`` variable by its lowercase name (``ECS_EVENTS_MAX_RECEIVES`` -> ``max_receives``); the
    prefix and the name in any case."""
    found: dict[str, str] = {}
    for key, value in (os.environ if environ is None else environ).items():
        if key[: len(ENV_PREFIX)].upper() == ENV_PREFIX:
            found[key[len(ENV_PREFIX) :].lower()] = value
    return found


def check_account(value: str | None) -> str | None:
    """``ECS_EVENTS_ACCOUNT_ID`` as ``Settings`` reads it: digits (white space around them dropped), or None."""
    if value is not None and not value.strip().isdigit():
        raise ValueError(f"expected the numeric account id, got {value!r}")
    return value.strip() if value else None


def check_localcloud(value: str | None) -> str | None:
    """``ECS_EVENTS_LOCALCLOUD`` as ``Settings`` reads it: ``http(s)://HOST:PORT`` without a trailing slash."""
    if value and not value.startswith(("http://", "https://")):
        raise ValueError(f"expected http://HOST:PORT, got {value!r}")
    return value.rstrip("/") if value else None


def require_account(value: str | None) -> str:
    """The account id, or a one-line error: acting without knowing the account is refused."""
    if not value:
        raise SettingsError(f"{ENV_PREFIX}ACCOUNT_ID: required to act (the account whose events are handled)")
    return value


@dataclass(frozen=True)
class Early:
    """What an event answered by a store read needs: the account (required), the store, the localcloud (clock and
    credentials fallback)."""

    account_id: str
    store: str
    localcloud: str | None


def early_settings(environ: Mapping[str, str] | None = None) -> Early:
    """The three settings from the environment; the one-line SettingsError ``load_settings`` would raise for them."""
    found = variables(environ)
    try:
        account = check_account(found.get("account_id"))
    except ValueError as exc:
        raise SettingsError(f"{ENV_PREFIX}ACCOUNT_ID: {exc}") from None
    try:
        localcloud = check_localcloud(found.get("localcloud"))
    except ValueError as exc:
        raise SettingsError(f"{ENV_PREFIX}LOCALCLOUD: {exc}") from None
    return Early(require_account(account), found.get("store", DEFAULT_STORE), localcloud)
