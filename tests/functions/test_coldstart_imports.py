"""An event that needs no cloud call imports no SDK, builds no client and no engine (FC cold start, issue 15).

Each case runs a function's ``index.py`` as FC does, in a fresh interpreter with the settings FC passes (initializer,
then one event), and lists what it imported. Time is measured by ``bench/coldstart.py``, never here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "events" / "samples" / "cloudmonitor"

CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import index
from ecs_events.runtime import fc
context = fc.Context.from_env()
index.initialize(context)
with open(sys.argv[2], "rb") as f:
    summary = index.handler(f.read(), context)
print(json.dumps({"summary": summary, "modules": sorted(sys.modules)}))
"""

# Never on the no-op path: the SDKs, pydantic (the raw triage answers before any model is built: the models, the
# sources, the full settings, the model-level triage) and what only acting needs.
HEAVY = (
    "mns", "tenacity", "yaml", "redis", "pydantic", "pydantic_core", "pydantic_settings", "annotated_types",
    "ecs_events.models", "ecs_events.sources", "ecs_events.runtime.settings", "ecs_events.runtime.triage",
    "ecs_events.engine", "ecs_events.actions", "ecs_events.policy", "ecs_events.notify", "ecs_events.runtime.consumer",
    "ecs_events.retry", "ecs_events.runtime.deadletter", "ecs_events.tools", "localcloud",
)  # fmt: skip


def run(function: str, sample: str, tmp_path: Path) -> dict[str, object]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ECS_EVENTS_", "FC_", "ALIBABA_CLOUD_", "PYDANTIC"))
    }
    env.update(
        ECS_EVENTS_ACCOUNT_ID="1234567890123456",
        ECS_EVENTS_REGION="cn-hangzhou",
        ECS_EVENTS_STORE=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI-never-used",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET="never-used",
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT / "functions" / function), str(SAMPLES / sample)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize(
    ("function", "sample"),
    [
        ("snapshot", "snapshot-createsnapshotcompleted-accomplished.json"),  # a snapshot not ours
        ("lifecycle", "instance-statechange-running.json"),  # an instance with no saga
        ("maintenance", "instance-unknown-future-event.json"),  # a type no playbook handles
    ],
)
def test_a_no_op_event_imports_no_sdk_and_no_engine(function: str, sample: str, tmp_path: Path) -> None:
    report = run(function, sample, tmp_path)
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert (summary["acted"], summary["ignored"], summary["dead_lettered"]) == (0, 1, 0)
    modules = report["modules"]
    assert isinstance(modules, list)
    heavy = [m for m in modules if m.startswith("aliyunsdk") or any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
