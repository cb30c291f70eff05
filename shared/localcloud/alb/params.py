"""Reading ALB/NLB RPC parameters as the SDKs flatten them: ``Name.N`` repeat lists, ``Servers.N.Field`` structs,
integers, booleans (``true`` from aliyunsdkcore, ``True`` from the Tea SDKs) and opaque ``NextToken`` paging.

The RPC dispatcher has already merged the query string and the form body: the legacy SDKs put ALB parameters in
the query and NLB parameters in the body, the Tea SDKs put ALB ``Servers.N.*`` and everything of NLB in the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from localcloud.alb import exceptions as exc
from localcloud.alb.models import ServerSpec

Params = dict[str, str]
T = TypeVar("T")
_TOKEN = re.compile(r"^lc[0-9a-f]{8}$")


def required(p: Params, name: str) -> str:
    value = p.get(name, "").strip()
    if not value:
        raise exc.missing(name)
    return value


def integer(p: Params, name: str, default: int, low: int, high: int) -> int:
    raw = p.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise exc.illegal(name, raw, "not an integer") from None
    if not low <= value <= high:
        raise exc.illegal(name, value, f"must be from {low} to {high}")
    return value


def boolean(p: Params, name: str, default: bool = False) -> bool:
    raw = p.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise exc.illegal(name, p[name], "must be true or false")
    return raw == "true"


def repeat_list(p: Params, name: str, limit: int) -> list[str]:
    """``Name.1``, ``Name.2``... in index order; more than ``limit`` values is refused."""
    found: dict[int, str] = {}
    prefix = f"{name}."
    for key, value in p.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            found[int(key[len(prefix) :])] = value.strip()
    values = [found[i] for i in sorted(found) if found[i]]
    if len(values) > limit:
        raise exc.illegal(name, len(values), f"at most {limit} values per call")
    return values


def structs(p: Params, name: str) -> list[dict[str, str]]:
    """``Name.N.Field`` -> one dict per N, in index order."""
    items: dict[int, dict[str, str]] = {}
    prefix = f"{name}."
    for key, value in p.items():
        if not key.startswith(prefix):
            continue
        index, _, field = key[len(prefix) :].partition(".")
        if index.isdigit() and field:
            items.setdefault(int(index), {})[field] = value
    return [items[i] for i in sorted(items)]


@dataclass(frozen=True)
class Page:
    start: int
    size: int

    def window(self, items: list[T]) -> tuple[list[T], str]:
        """The page's items and the NextToken for the rest ("" when nothing is left)."""
        end = self.start + self.size
        return items[self.start : end], (token(end) if end < len(items) else "")


def token(offset: int) -> str:
    return f"lc{offset:08x}"


def page(p: Params, default: int = 20, high: int = 100) -> Page:
    size = integer(p, "MaxResults", default, 1, high)
    raw = p.get("NextToken", "").strip()
    if not raw:
        return Page(0, size)
    if not _TOKEN.match(raw):
        raise exc.illegal("NextToken", raw, "not a token this API returned")
    return Page(int(raw[2:], 16), size)


def server_specs(p: Params, limit: int) -> list[ServerSpec]:
    """``Servers.N.{ServerId, ServerType, Port, Weight, Description, ServerIp}``; ServerId and ServerType required.
    More than ``limit`` entries is refused before anything else is read."""
    items = structs(p, "Servers")
    if not items:
        raise exc.missing("Servers")
    if len(items) > limit:
        raise exc.illegal("Servers", len(items), f"at most {limit} servers per call")
    specs = []
    for n, item in enumerate(items, start=1):
        server_id = item.get("ServerId", "").strip()
        if not server_id:
            raise exc.missing(f"Servers.{n}.ServerId")
        server_type = item.get("ServerType", "").strip()
        if not server_type:
            raise exc.missing(f"Servers.{n}.ServerType")
        specs.append(
            ServerSpec(
                server_id=server_id,
                server_type=server_type,
                port=_opt_int(item, "Port", n),
                weight=_opt_int(item, "Weight", n),
                description=item.get("Description"),
                server_ip=item.get("ServerIp", "").strip(),
            )
        )
    return specs


def _opt_int(item: dict[str, str], name: str, n: int) -> int | None:
    raw = item.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise exc.illegal(f"Servers.{n}.{name}", raw, "not an integer") from None
