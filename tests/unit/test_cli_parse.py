from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ecs_events.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
REQUIRED = {"id", "name", "source", "kind", "event_type", "status", "instance_id", "disk_id", "snapshot_id",
            "not_before", "event_time", "region", "account"}  # fmt: skip


def _all(folder: str) -> list[str]:
    return sorted(str(p) for p in (SAMPLES / folder).iterdir())


def test_json_output_for_every_good_sample(capsys: pytest.CaptureFixture[str]) -> None:
    files = _all("seed") + _all("cloudmonitor") + _all("delivery")
    assert main(["parse", "--json", *files]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = [json.loads(line) for line in out.splitlines()]
    # One line per event or timer wake: batches hold several (counted from the expectations, written by hand).
    expected = {
        folder: json.loads((SAMPLES / f"{folder}.expected.json").read_text())
        for folder in ("seed", "cloudmonitor", "delivery")
    }
    assert len(lines) == sum(len(records) for by_file in expected.values() for records in by_file.values())
    for line in lines:
        assert set(line) >= REQUIRED
        for key in ("not_before", "event_time"):
            assert line[key] is None or line[key].endswith("Z")


def test_readable_output(capsys: pytest.CaptureFixture[str]) -> None:
    path = SAMPLES / "seed" / "4.2-system-maintenance-reboot-avoided-stale-name.json"
    assert main(["parse", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Instance:SystemMaintenance.Reboot:Scheduled" in out
    assert "status=Avoided" in out


def test_bad_files_one_line_each_good_ones_still_printed_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    bad = _all("bad")
    good = str(SAMPLES / "seed" / "4.2-system-maintenance-reboot-scheduled.json")
    assert main(["parse", "--json", bad[0], good, *bad[1:]]) == 2
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1
    assert json.loads(out)["status"] == "Scheduled"
    err_lines = err.splitlines()
    assert len(err_lines) == len(bad)
    for path, line in zip(bad, err_lines, strict=True):
        assert line.startswith(f"{path}: ")
    assert "Traceback" not in err


def test_missing_file_is_a_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert main(["parse", str(missing)]) == 2
    assert capsys.readouterr().err == f"{missing}: file: No such file or directory\n"


def test_stdin_dash(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = (SAMPLES / "delivery" / "mns-queue-base64.txt").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["parse", "--json", "-"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["file"] == "<stdin>"
    assert record["source"] == "mns-queue"


def test_console_script_end_to_end_no_traceback() -> None:
    exe = Path(sys.executable).with_name("ecs-events")
    result = subprocess.run(
        [str(exe), "parse", str(SAMPLES / "bad" / "not-utf8.json")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().endswith("body: not UTF-8 (byte 40: b'\\xff')")
    assert len(result.stderr.splitlines()) == 1
