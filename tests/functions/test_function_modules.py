"""The function folders themselves: exactly the agreed names, thin index.py files, nothing built at import time
(each imported in a fresh interpreter, from the project tree and from a package laid out as FC's code root)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.functions.conftest import FUNCTIONS_DIR, ROOT

from ecs_events.runtime import handlers

NAMES = ("maintenance", "preemption", "disk", "lifecycle", "snapshot", "eventbridge", "consumer", "reconciler")
FORBIDDEN = (
    "aliyunsdkcore",
    "aliyunsdkecs",
    "aliyunsdkslb",
    "mns",
    "redis",
    "ecs_events.runtime.app",
    "ecs_events.engine",
)

PROBE = """
import json, sys
sys.path[:0] = {paths!r}
import index
import ecs_events
loaded = sorted(m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in {forbidden!r}))
print(json.dumps({{"loaded": loaded, "package": ecs_events.__file__, "index": index.__file__,
                  "handler": callable(index.handler), "initialize": callable(index.initialize)}}))
"""


def probe(paths: list[Path]) -> dict[str, object]:
    code = PROBE.format(paths=[str(p) for p in paths], forbidden=FORBIDDEN)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_exactly_the_agreed_functions_exist() -> None:
    assert sorted(p.name for p in FUNCTIONS_DIR.iterdir() if (p / "index.py").is_file()) == sorted(NAMES)
    assert sorted(handlers.FUNCTIONS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_index_is_thin(name: str) -> None:
    lines = [line for line in (FUNCTIONS_DIR / name / "index.py").read_text().splitlines() if line.strip()]
    assert 10 <= len(lines) <= 40
    text = "\n".join(lines)
    assert "sys.path" not in text  # no path hacks: FC puts the code root on the path
    assert "from ecs_events.runtime import handlers" in text


@pytest.mark.parametrize("name", NAMES)
def test_import_builds_nothing_from_the_project_tree(name: str) -> None:
    result = probe([FUNCTIONS_DIR / name, ROOT / "shared"])

    assert result["loaded"] == []
    assert result["handler"] is True and result["initialize"] is True
    assert result["index"] == str(FUNCTIONS_DIR / name / "index.py")


@pytest.mark.parametrize("name", NAMES)
def test_import_builds_nothing_from_a_package_code_root(name: str, tmp_path: Path) -> None:
    """The built package: ``ecs_events/`` at the root, the function's index.py at the root (handler
    ``index.handler``) and under ``functions/<name>/`` (``functions/<name>/index.handler``)."""
    shutil.copytree(ROOT / "shared" / "ecs_events", tmp_path / "ecs_events")
    for where in (tmp_path, tmp_path / "functions" / name):
        where.mkdir(parents=True, exist_ok=True)
        shutil.copy(FUNCTIONS_DIR / name / "index.py", where / "index.py")

    for paths in ([tmp_path], [tmp_path / "functions" / name, tmp_path]):
        result = probe(paths)
        assert result["loaded"] == []
        assert result["package"] == str(tmp_path / "ecs_events" / "__init__.py")
        assert result["index"] == str(paths[0] / "index.py")
