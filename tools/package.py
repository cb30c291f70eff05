"""The Function Compute code packages (``make package``): ``dist/package/<function>/`` and ``dist/fc/<function>.zip``.

Layout, and why: one code root per function. FC loads the handler ``index.handler`` as the module ``index`` from the
root of the function's code (Python handlers are ``file.method``, the file at the code root; a path into a subdirectory
is not documented), and every function here has its own ``functions/<name>/index.py``. So each function gets a root
holding its own ``index.py`` (everything in ``functions/<name>/``), the library ``ecs_events`` (never ``localcloud``,
never the tests, never the operator tools of ``ecs_events/tools/``, which nothing on FC imports) and the runtime
dependencies, and both templates say ``index.handler`` / ``index.initialize`` with the code at ``dist/package/<name>``
(s.yaml) or ``<CodePrefix><name>.zip`` in OSS (template.yml). The eight roots differ only in ``index.py``: the unpacked
copies are hard links of one tree and each zip is one shared zip of that tree with the function's files appended, so
building eight costs little more than one.

Dependencies are the ``[project] dependencies`` of pyproject.toml, installed with ``pip install --target`` for FC's
python3.10 on manylinux x86_64 (``--platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.10
--implementation cp``): wheels only, so nothing compiled on this machine ends up in the package. Should a
dependency publish no wheel (an sdist only), it is built here with ``pip wheel --no-deps`` and accepted only if the
result is pure Python (``-none-any``); anything else is an error naming the package. Only PyPI is needed.
Bytecode is compiled by a python of the target version when one is found here (PATH or pyenv), else none.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = "ecs_events"
TARGET_PYTHON = "3.10"  # FC's runtime python3.10
TARGET_PLATFORM = "manylinux2014_x86_64"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed: the same inputs give byte-identical zips
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
OPERATOR_TOOLS = "tools"  # ecs_events/tools/: the demo, the timeline, subscribe; nothing on FC imports them
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")


class PackageError(Exception):
    """The package cannot be built; the message says which input is at fault."""


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The runtime dependencies (``[project] dependencies``), never the dev extras."""
    if sys.version_info >= (3, 11):
        import tomllib

        with pyproject.open("rb") as fh:
            return list(tomllib.load(fh)["project"]["dependencies"])
    from importlib.metadata import requires  # python 3.10: the installed project's metadata says the same

    return [r for r in requires("ecs-events") or [] if "extra ==" not in r]


def functions(root: Path = ROOT / "functions") -> list[str]:
    """Every function: a folder of ``functions/`` with an ``index.py``."""
    if not root.is_dir():
        raise PackageError(f"{root}: no functions folder")
    names = sorted(p.name for p in root.iterdir() if (p / "index.py").is_file())
    if not names:
        raise PackageError(f"{root}: no functions/<name>/index.py")
    return names


def _pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _build_pure_wheel(spec: str, wheelhouse: Path) -> None:
    """Build ``spec`` (a package with no wheel on PyPI) here; accept it only if it is pure Python."""
    before = set(wheelhouse.glob("*.whl"))
    done = _pip(["wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheelhouse), spec])
    built = set(wheelhouse.glob("*.whl")) - before
    if done.returncode != 0 or not built:
        raise PackageError(f"{spec}: no wheel on PyPI and building one failed: {_last_line(done.stderr)}")
    for wheel in built:
        if not wheel.name.endswith("-none-any.whl"):
            wheel.unlink()
            raise PackageError(f"{spec}: no {TARGET_PLATFORM} wheel on PyPI and it is not pure Python")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip() and not line.startswith("WARNING")]
    return lines[-1] if lines else "(no output)"


def target_environment(python_version: str) -> dict[str, str]:
    """The environment markers of FC's runtime: linux x86_64 CPython ``python_version`` (the oldest patch
    release, so a backport any 3.10.x needs is always there)."""
    return {
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": f"{python_version}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "extra": "",
    }


def missing_requirements(site: Path, python_version: str) -> list[str]:
    """Requirements of what is in ``site`` that the target needs but ``site`` lacks.

    pip's ``--python-version`` picks wheels for the target but evaluates environment markers against the running
    interpreter, so e.g. redis's ``async-timeout; python_full_version < "3.11.3"`` is skipped when this runs on
    3.11.7 although FC's 3.10 needs it. This re-evaluates every ``Requires-Dist`` for the target."""
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

    env = target_environment(python_version)
    metadata = [path.read_text(errors="replace") for path in site.glob("*.dist-info/METADATA")]
    installed = {canonicalize_name(_header(text, "Name")) for text in metadata}
    needed: dict[str, str] = {}
    for text in metadata:
        for line in text.splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            req = Requirement(line.partition(":")[2].strip())
            name = canonicalize_name(req.name)
            if name in installed or (req.marker is not None and not req.marker.evaluate(env)):
                continue
            req.marker = None
            needed[name] = str(req)
    return sorted(needed.values())


def _header(text: str, field: str) -> str:
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return line.partition(":")[2].strip()
    return ""


def install_dependencies(reqs: Iterable[str], target: Path, python_version: str, platform: str) -> list[str]:
    """``pip install --target`` for the target interpreter, until every requirement the target's markers select is
    there; the specs that had to be built here (pure Python)."""
    built: list[str] = []
    reqs = list(reqs)
    for _ in range(20):
        built += _install(reqs, target, python_version, platform)
        reqs = missing_requirements(target, python_version)
        if not reqs:
            return built
    raise PackageError(f"requirements never settle: {', '.join(reqs)}")


def _install(reqs: list[str], target: Path, python_version: str, platform: str) -> list[str]:
    wheelhouse = target.parent / "wheelhouse"
    wheelhouse.mkdir(parents=True, exist_ok=True)
    built: list[str] = []
    for _ in range(len(reqs) + 20):  # each round either succeeds or builds one more missing wheel
        done = _pip(
            [
                "install", "--quiet", "--no-compile", "--target", str(target),
                "--platform", platform, "--only-binary=:all:", "--python-version", python_version,
                "--implementation", "cp", "--find-links", str(wheelhouse), *reqs,
            ]
        )  # fmt: skip
        if done.returncode == 0:
            return built
        missing = _NO_MATCH.search(done.stderr)
        if missing is None or missing.group(1) in built:
            raise PackageError(f"pip install failed: {_last_line(done.stderr)}")
        _build_pure_wheel(missing.group(1), wheelhouse)
        built.append(missing.group(1))
    raise PackageError("pip install failed: too many packages without a wheel")


def _prune(site: Path) -> None:
    """What pip leaves that the runtime never reads: console scripts (wrong shebang there) and bytecode."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def target_interpreter(python_version: str) -> str | None:
    """A python of the target version on this machine (PATH or pyenv), to compile the bytecode FC will load."""
    found = shutil.which(f"python{python_version}")
    candidates = sorted(glob.glob(str(Path.home() / f".pyenv/versions/{python_version}.*/bin/python{python_version}")))
    for candidate in [*candidates, *([found] if found else [])]:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return candidate
    return None


def _compile(root: Path, python_version: str) -> str | None:
    """Bytecode for the target interpreter (unchecked-hash: valid whatever the files' times in the zip). FC's code
    directory is read-only, so without it every cold start compiles every module it imports (several times slower).
    Without a target interpreter here, no bytecode is shipped (and the manifest says so)."""
    python = target_interpreter(python_version)
    if python is None:
        print(f"package: no python{python_version} here: shipping no bytecode (cold starts compile)", file=sys.stderr)
        return None
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(root)],
        check=True,
        capture_output=True,
    )
    return python_version


def _zip_tree(zf: zipfile.ZipFile, root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_dir() or path.name.endswith(".pyo"):
            continue
        info = zipfile.ZipInfo(path.relative_to(root).as_posix(), ZIP_DATE)
        mode = 0o755 if os.access(path, os.X_OK) else 0o644
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, path.read_bytes(), compresslevel=6)


def _link_tree(src: Path, dst: Path) -> None:
    """A copy of ``src`` made of hard links (a plain copy where links are not possible)."""

    def link(a: str, b: str) -> object:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)
        return b

    shutil.copytree(src, dst, copy_function=link, ignore=shutil.ignore_patterns("*.pyo"))


def build(
    out: Path = ROOT / "dist",
    *,
    python_version: str = TARGET_PYTHON,
    platform: str = TARGET_PLATFORM,
    zips: bool = True,
    names: Sequence[str] | None = None,
) -> dict[str, object]:
    """Build every function's code root under ``out/package/`` (and zip under ``out/fc/``); the manifest."""
    names = list(names or functions())
    package, fc = out / "package", out / "fc"
    shutil.rmtree(package, ignore_errors=True)
    shutil.rmtree(fc, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".build-") as tmp:
        common = Path(tmp) / "common"
        built = install_dependencies(requirements(), common, python_version, platform)
        shutil.copytree(ROOT / "shared" / LIBRARY, common / LIBRARY, ignore=_SKIP)
        shutil.rmtree(common / LIBRARY / OPERATOR_TOOLS)
        _prune(common)
        compiled = _compile(common, python_version)
        shared_zip = Path(tmp) / "common.zip"
        if zips:
            with zipfile.ZipFile(shared_zip, "w") as zf:
                _zip_tree(zf, common)
            fc.mkdir(parents=True)
        for name in names:
            source = ROOT / "functions" / name
            _link_tree(common, package / name)
            shutil.copytree(source, package / name, ignore=_SKIP, dirs_exist_ok=True)
            if zips:
                shutil.copyfile(shared_zip, fc / f"{name}.zip")
                with zipfile.ZipFile(fc / f"{name}.zip", "a") as zf:
                    _zip_tree(zf, source)
    manifest: dict[str, object] = {
        "functions": names,
        "python_version": python_version,
        "platform": platform,
        "requirements": requirements(),
        "built_locally": built,
        "bytecode": compiled,
        "handler": "index.handler",
        "initializer": "index.initialize",
    }
    (package / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/package.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    parser.add_argument("--python-version", default=TARGET_PYTHON, help="target interpreter (default 3.10)")
    parser.add_argument("--platform", default=TARGET_PLATFORM, help=f"wheel platform (default {TARGET_PLATFORM})")
    parser.add_argument("--no-zip", dest="zips", action="store_false", help="only the unpacked code roots")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        manifest = build(args.out, python_version=args.python_version, platform=args.platform, zips=args.zips)
    except PackageError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 2
    names = manifest["functions"]
    assert isinstance(names, list)
    where = args.out / "fc" if args.zips else args.out / "package"
    seconds = time.monotonic() - started
    listed = ", ".join(str(name) for name in names)
    print(f"package: {len(names)} functions ({listed}) for python{args.python_version} in {where}/ ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
