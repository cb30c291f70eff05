"""Fleet files: instances and load balancers declared in YAML, built through the APIs (filled in below)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcloud.cloud import LocalCloud


@dataclass
class FleetSummary:
    instances: dict[str, list[str]] = field(default_factory=dict)
    load_balancers: dict[str, str] = field(default_factory=dict)


def load_fleet(cloud: LocalCloud, source: str | Path | dict[str, Any]) -> FleetSummary:
    raise NotImplementedError("fleet loading is being written")
