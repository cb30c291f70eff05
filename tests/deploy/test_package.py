"""``make package`` (tools/package.py) builds code roots that import in a clean interpreter: no site-packages, no
project checkout, only the package folder on ``sys.path``.

The package is built for FC's python3.10. When a python3.10 is on this machine (PATH or pyenv) the test builds the
real target and imports it with that interpreter; otherwise it builds the same layout for the running interpreter,
which still proves the layout and that every dependency is inside the package. Needs PyPI (pip's cache makes reruns
fast).
"""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests.deploy.support import ROOT, function_dirs

# Imports the function's index module and every ecs_events module, then reports where each module came from.
PROBE = r"""
import importlib, json, pkgutil, sys
root = sys.argv[1]
sys.path[:0] = [root]
import index
assert callable(index.handler) and callable(index.initialize)
SDKS = ("aliyunsdkcore", "aliyunsdkecs", "aliyunsdkslb", "mns")
sdk_at_import = sorted(m for m in sys.modules if m.split(".")[0] in SDKS)
import ecs_events
for info in pkgutil.walk_packages(ecs_events.__path__, "ecs_events."):
    importlib.import_module(info.name)
for name in ("aliyunsdkcore.client", "aliyunsdkecs.request.v20140526.RebootInstanceRequest",
             "aliyunsdkslb.request.v20140515.SetBackendServersRequest", "mns.account", "redis", "yaml",
             "tenacity"):
    importlib.import_module(name)
files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
outside = sorted({f for f in files if f and not f.startswith(root) and not f.startswith(sys.base_prefix)})
print(json.dumps({"sdk_at_import": sdk_at_import, "outside": outside, "localcloud": "localcloud" in sys.modules}))
"""


def _python310() -> str | None:
    """A working python3.10 (a pyenv shim that refuses to run is skipped), or None."""
    candidates = sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.10*/bin/python3.10")))
    candidates += [found] if (found := shutil.which("python3.10")) else []
    for python in candidates:
        probe = [python, "-I", "-c", "import sys; print(sys.version_info[:2] == (3, 10))"]
        done = subprocess.run(probe, capture_output=True, text=True, check=False, timeout=60)
        if done.returncode == 0 and done.stdout.strip() == "True":
            return python
    return None


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """(output folder, interpreter to import with, its version) after running the packaging."""
    if not function_dirs():
        pytest.fail("no functions/<name>/index.py yet: nothing to package")
    python = _python310()
    version = "3.10" if python else f"{sys.version_info.major}.{sys.version_info.minor}"
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "package.py"), "--out", str(out), "--python-version", version],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f"package: {len(function_dirs())} functions"), done.stdout
    return out, python or sys.executable, version


@pytest.mark.slow
def test_each_function_root_imports_in_a_clean_interpreter(built: tuple[Path, str, str]) -> None:
    out, python, _ = built
    for name in function_dirs():
        root = out / "package" / name
        done = subprocess.run(
            [python, "-I", "-S", "-c", PROBE, str(root)], capture_output=True, text=True, check=False, timeout=120
        )
        assert done.returncode == 0, f"{name}: {done.stderr[-1500:]}"
        report = json.loads(done.stdout)
        assert report["outside"] == [], f"{name}: imported from outside the package: {report['outside']}"
        assert report["sdk_at_import"] == [], f"{name}: SDK imported by index.py at import time (FC cold start)"
        assert report["localcloud"] is False


@pytest.mark.slow
def test_layout_zips_and_manifest(built: tuple[Path, str, str]) -> None:
    out, _, version = built
    names = function_dirs()
    manifest = json.loads((out / "package" / "manifest.json").read_text())
    assert manifest["functions"] == names
    assert manifest["python_version"] == version
    assert (manifest["handler"], manifest["initializer"]) == ("index.handler", "index.initialize")
    for name in names:
        root = out / "package" / name
        assert (root / "index.py").read_bytes() == (ROOT / "functions" / name / "index.py").read_bytes()
        assert (root / "ecs_events" / "runtime" / "settings.py").is_file()
        assert not (root / "localcloud").exists() and not (root / "tests").exists()
        assert not (root / "ecs_events" / "tools").exists()  # operator tools: nothing on FC imports them
        with zipfile.ZipFile(out / "fc" / f"{name}.zip") as zf:
            entries = set(zf.namelist())
            assert zf.read("index.py") == (root / "index.py").read_bytes()
        assert "ecs_events/runtime/app.py" in entries and "pydantic/__init__.py" in entries
        assert not any(e.startswith(("localcloud/", "tests/", "ecs_events/tools/")) for e in entries)
        pyc = [e for e in entries if e.endswith(".pyc")]
        if manifest["bytecode"]:  # compiled by the target interpreter: FC's read-only code dir never compiles
            tag = "cpython-" + str(manifest["bytecode"]).replace(".", "")
            assert "ecs_events/runtime/__pycache__/app." + tag + ".pyc" in entries and all(tag in e for e in pyc)
        else:
            assert pyc == []
    # compiled extensions are for the target interpreter only (or version-independent abi3)
    tag = "cpython-" + version.replace(".", "")
    for lib in (out / "package" / names[0]).rglob("*.so"):
        assert tag in lib.name or ".abi3." in lib.name or "-" not in lib.name.split(".")[-2], lib.name
