"""The retry loop imports no retry library: tenacity brought asyncio into every cold start that calls the cloud."""

from __future__ import annotations

import subprocess
import sys


def test_retry_imports_neither_tenacity_nor_asyncio() -> None:
    code = "import sys, ecs_events.retry; print(sorted({'tenacity', 'asyncio'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
