"""What a cold start imports (FC, issue 15): an event that needs no cloud call imports no SDK, builds no client and no
engine; an event that acts imports the engine, the SDKs and the one playbook it runs, and nothing it does not use.

Each case runs a function's ``index.py`` as FC does, in a fresh interpreter with the settings FC passes (initializer,
then one event), and lists what it imported. Time is measured by ``bench/coldstart.py``, never here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.functions.conftest import DLQ, QUEUE, TAG, for_instance, sample

from ecs_events.models.times import iso_utc
from localcloud.cloud import LocalCloud

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


def run(function: str, sample: str | Path, tmp_path: Path, **settings: str) -> dict[str, object]:
    """``function``'s initializer and one event (a sample's name, or a file) in a fresh interpreter; ``settings``
    replace the defaults (an account, a sqlite store, credentials never used)."""
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
    env.update(settings)
    event = sample if isinstance(sample, Path) else SAMPLES / sample
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT / "functions" / function), str(event)],
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


# Never on the path of a maintenance event that acts by arming a timer (bench/coldstart.py's A): no load balancer is
# touched yet, so no load balancer actions (each kind is built on first use); no playbook but the one deciding; MNS
# through its client, not mns.account (whose mns.queue imports deprecated -> wrapt -> asyncio); nothing of the
# reconciler, the consumer, the operator tools or the policy file reader (no policy file is set).
ACTING_NEVER = (
    "aliyunsdkslb", "aliyunsdkalb", "aliyunsdknlb", "ecs_events.actions.slb", "ecs_events.actions.alb",
    "ecs_events.actions.nlb", "ecs_events.actions.server_groups",
    "ecs_events.engine.playbooks.billing", "ecs_events.engine.playbooks.disk", "ecs_events.engine.playbooks.failure",
    "ecs_events.engine.playbooks.lifecycle", "ecs_events.engine.playbooks.preemption",
    "mns.account", "mns.queue", "mns.topic", "deprecated", "wrapt", "asyncio",
    "ecs_events.engine.reconciler", "ecs_events.engine.projection", "ecs_events.runtime.consumer",
    "ecs_events.tools", "ecs_events.cli", "localcloud", "yaml", "redis",
)  # fmt: skip


def imported(modules: Any, names: tuple[str, ...]) -> list[str]:
    assert isinstance(modules, list)
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def acting_event(cloud: LocalCloud, tmp_path: Path, event_type: str, status: str, **content: Any) -> Path:
    """A real system event of a managed instance behind a CLB, written as the MNS topic trigger delivers it."""
    fleet = cloud.load_fleet(
        {
            "instances": [{"name": "web", "count": 2, "tags": {"app": "web", **TAG}}],
            "load_balancers": [{"name": "web-lb", "backends": [{"instances": "web", "weight": 100}]}],
        }
    )
    cloud.advance(60)  # everything Running
    web = fleet.instances["web"][0]
    not_before = cloud.clock.now() + timedelta(days=2)
    event_id = cloud.ecs.create_system_event(web, event_type, not_before)
    name = f"instance-{event_type.lower().replace('.', '-')}-{status.lower()}.json"
    times = {"notBefore": iso_utc(not_before), "publishTime": iso_utc(cloud.clock.now())}
    notification = for_instance(sample(f"cloudmonitor/{name}"), cloud, web, eventId=event_id, **times, **content)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(notification))
    cloud.mns.create_queue(cloud.account_id, QUEUE)
    cloud.mns.create_queue(cloud.account_id, DLQ)
    cloud.call_log.clear()
    return path


def served(cloud: LocalCloud, tmp_path: Path) -> dict[str, str]:
    return {
        "ECS_EVENTS_ACCOUNT_ID": cloud.account_id,
        "ECS_EVENTS_REGION": cloud.region_id,
        "ECS_EVENTS_LOCALCLOUD": cloud.url,
        "ECS_EVENTS_QUEUE": QUEUE,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": cloud.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": cloud.access_key_secret,
    }


def test_a_maintenance_event_that_arms_a_timer_imports_only_what_it_uses(
    localcloud: LocalCloud, tmp_path: Path
) -> None:
    """bench/coldstart.py's A: a SystemMaintenance.Reboot two days out: the facts, a saga, a timer."""
    event = acting_event(localcloud, tmp_path, "SystemMaintenance.Reboot", "Scheduled")
    report = run("maintenance", event, tmp_path, **served(localcloud, tmp_path))
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert (summary["acted"], summary["ignored"], summary["dead_lettered"]) == (1, 0, 0)
    calls = [(c.product, c.action) for c in localcloud.call_log]
    assert ("Ecs", "DescribeInstances") in calls and ("Mns", "SendMessage") in calls  # it acted: facts, a timer
    assert not any(product in ("Slb", "Alb", "Nlb") for product, _ in calls)
    modules = report["modules"]
    assert imported(modules, ("ecs_events.engine.playbooks.maintenance", "aliyunsdkecs", "mns.mns_client")) != []
    assert imported(modules, ACTING_NEVER) == []


def test_a_drain_on_a_clb_only_account_imports_no_alb_or_nlb_actions(localcloud: LocalCloud, tmp_path: Path) -> None:
    """ECS_EVENTS_LOAD_BALANCERS=clb: a failing instance is drained at once, through CLB alone."""
    event = acting_event(localcloud, tmp_path, "SystemFailure.Reboot", "Executing")
    report = run("maintenance", event, tmp_path, ECS_EVENTS_LOAD_BALANCERS="clb", **served(localcloud, tmp_path))
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert (summary["acted"], summary["ignored"], summary["dead_lettered"]) == (1, 0, 0)
    calls = [(c.product, c.action) for c in localcloud.call_log]
    assert ("Slb", "SetBackendServers") in calls  # drained
    assert not any(product in ("Alb", "Nlb") for product, _ in calls)
    modules = report["modules"]
    assert imported(modules, ("ecs_events.actions.slb", "aliyunsdkslb")) != []
    never = (
        "aliyunsdkalb", "aliyunsdknlb", "ecs_events.actions.alb", "ecs_events.actions.nlb",
        "ecs_events.actions.server_groups", "mns.account", "ecs_events.engine.reconciler", "ecs_events.tools",
    )  # fmt: skip
    assert imported(modules, never) == []
