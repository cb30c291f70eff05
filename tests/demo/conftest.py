"""The demo end to end, in this process: ``ecs-events demo`` run once per module (it takes a few seconds), its
stdout, stderr, exit code, page and kept store shared by the tests; and Debian's headless Chromium to render the
page (installed by tools/ensure-services.sh: a missing browser fails these tests, it never skips them)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecs_events.cli import main

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class DemoRun:
    code: int
    out: str
    err: str
    html: Path
    store: str

    def instance_ids(self) -> dict[str, str]:
        """Instance name -> id, from the timeline's lane titles (``web-1 (i-...)``)."""
        return dict(re.findall(r"^([\w-]+) \((i-\w+)\)", self.out, re.MULTILINE))

    def lane(self, name: str) -> list[str]:
        """The timeline lines of one instance: its title line and everything indented under it."""
        lines = self.out.splitlines()
        start = next(n for n, line in enumerate(lines) if line.startswith(f"{name} (i-"))
        block = [lines[start]]
        for line in lines[start + 1 :]:
            if not line.startswith("  "):
                break
            block.append(line)
        return block


def run_demo(tmp: Path, *args: str) -> DemoRun:
    html, store = tmp / "t.html", f"sqlite:///{tmp / 'demo.sqlite3'}"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["demo", "--html", str(html), "--store", store, *args])
    return DemoRun(code, out.getvalue(), err.getvalue(), html, store)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """One demo run, with an environment that must not matter: foreign credentials, a webhook nobody listens on,
    dry-run asked for. The demo sets every setting itself and signs with localcloud's key pair."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-not-the-demo")
        env.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-demo-secret")
        env.setenv("ECS_EVENTS_DRY_RUN", "true")
        env.setenv("ECS_EVENTS_WEBHOOKS", "http://127.0.0.1:9/nobody")
        env.setenv("ECS_EVENTS_QUEUE", "somebody-elses-queue")
        yield run_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the demo page is checked in headless Chromium. Install Debian's package: "
            "bash tools/ensure-services.sh (or apt-get install -y chromium)"
        )
    return CHROMIUM


def render(chromium: str, page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Chromium headless on ``file://page`` with ``extra`` (``--dump-dom``, ``--screenshot=...``); its own profile."""
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", *extra, page.absolute().as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"chromium exited {result.returncode}: {result.stderr[-2000:]}"
    return result
